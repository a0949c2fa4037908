/**
 * The topology as a layered drawing (hosts -> containers -> services), each node coloured by the
 * worst open incident that names it. A filter dims what does not match; zoom scales the drawing;
 * a node links to the series explorer filtered to that entity.
 */
import { useMemo, useState } from 'preact/hooks';
import type { TopologyEdge, TopologyEntity } from '../api-types.js';
import { layoutTopology, NODE_HEIGHT, NODE_WIDTH, type Health } from '../topology-layout.js';

const FILTER_ATTRIBUTE: Record<string, string> = { host: 'host.name', 'swarm-node': 'host.name', container: 'container.id', service: 'service.name', pod: 'k8s.pod.name', task: 'docker.swarm.task.id' };

/** The series-explorer filter (`key=value`) that selects an entity's series. */
export function seriesFilterOf(entity: TopologyEntity): string {
  const key = FILTER_ATTRIBUTE[entity.type] ?? (entity.type.startsWith('k8s.') ? `${entity.type}.name` : undefined);
  if (!key) return '';
  const value = entity.attributes[key] ?? (entity.type === 'container' ? entity.id.slice(entity.id.indexOf(':') + 1) : entity.name);
  return `${key}=${String(value)}`;
}

export interface TopologyProps {
  readonly entities: readonly TopologyEntity[];
  readonly edges: readonly TopologyEdge[];
  readonly health: ReadonlyMap<string, Health>;
  /** Entities to emphasise (an incident's); others are dimmed when given. */
  readonly highlight?: ReadonlySet<string>;
}

export function Topology({ entities, edges, health, highlight }: TopologyProps) {
  const [filter, setFilter] = useState('');
  const [zoom, setZoom] = useState(1);
  const layout = useMemo(() => layoutTopology(entities, edges), [entities, edges]);
  const needle = filter.trim().toLowerCase();
  const matches = (e: TopologyEntity) => !needle || e.name.toLowerCase().includes(needle) || e.id.toLowerCase().includes(needle) || e.type.includes(needle);
  if (entities.length === 0) {
    return <p class="empty">No topology yet: it appears when collectors report hosts, containers or services.</p>;
  }
  return (
    <div class="topology" data-testid="topology">
      <div class="toolbar">
        <label>
          Filter <input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder="name or type" />
        </label>
        <span class="zoom" role="group" aria-label="Zoom">
          <button type="button" onClick={() => setZoom((z) => Math.max(0.25, z / 1.25))} aria-label="Zoom out">
            −
          </button>
          <span aria-live="polite">{Math.round(zoom * 100)}%</span>
          <button type="button" onClick={() => setZoom((z) => Math.min(3, z * 1.25))} aria-label="Zoom in">
            +
          </button>
        </span>
        <span class="legend">
          <span class="swatch health-ok" /> healthy <span class="swatch health-warning" /> warning <span class="swatch health-critical" /> critical
        </span>
      </div>
      <div class="topology-scroll">
        <svg width={layout.width * zoom} height={layout.height * zoom} viewBox={`0 0 ${layout.width} ${layout.height}`} role="group" aria-label={`Topology: ${entities.length} entities`}>
          {layout.columns.map((c) => (
            <text key={c.title} x={c.x} y={14} class="column-title">
              {c.title}
            </text>
          ))}
          {layout.edges.map((e, i) => {
            const x1 = e.from.x + NODE_WIDTH;
            const y1 = e.from.y + NODE_HEIGHT / 2;
            const y2 = e.to.y + NODE_HEIGHT / 2;
            // Within one column (service calls service) the edge bows out to the right.
            const same = e.from.column === e.to.column;
            const x2 = same ? x1 : e.to.x;
            const bow = same ? x1 + 36 : (x1 + x2) / 2;
            const d = `M${x1},${y1} C${bow},${y1} ${bow},${y2} ${x2},${y2}`;
            const dim = (needle && !(matches(e.from.entity) || matches(e.to.entity))) || (highlight && !(highlight.has(e.from.entity.id) && highlight.has(e.to.entity.id)));
            return <path key={i} d={d} class={`edge${dim ? ' dim' : ''}${same ? ' edge-calls' : ''}`} />;
          })}
          {layout.nodes.map((n) => {
            const h = health.get(n.entity.id) ?? 'ok';
            const dim = (needle && !matches(n.entity)) || (highlight && !highlight.has(n.entity.id));
            const filterText = seriesFilterOf(n.entity);
            const name = n.entity.name.length > 24 ? `${n.entity.name.slice(0, 23)}…` : n.entity.name;
            return (
              <a key={n.entity.id} href={filterText ? `#/series?q=${encodeURIComponent(filterText)}` : undefined} aria-label={`${n.entity.type} ${n.entity.name}: ${h === 'ok' ? 'healthy' : h}`}>
                <g class={`node health-${h}${dim ? ' dim' : ''}${highlight?.has(n.entity.id) ? ' highlighted' : ''}`} data-entity={n.entity.id} data-health={h}>
                  <title>{`${n.entity.id}${h === 'ok' ? '' : ` — ${h}`}`}</title>
                  <rect x={n.x} y={n.y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={6} />
                  <text x={n.x + 10} y={n.y + NODE_HEIGHT / 2 + 4}>
                    {name}
                  </text>
                </g>
              </a>
            );
          })}
        </svg>
      </div>
    </div>
  );
}
