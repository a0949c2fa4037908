/**
 * A layered layout for the topology, small enough to ship (a general graph layout library would
 * take most of the UI's size budget): one column per kind of entity (see TITLES), empty columns
 * left out.
 * Rows are ordered so that edges cross little: containers follow their host, services sit at the
 * average row of their members (the barycentre heuristic of layered graph drawing).
 */
import type { TopologyEdge, TopologyEntity } from './api-types.js';

export interface PlacedNode {
  readonly entity: TopologyEntity;
  readonly column: number;
  readonly row: number;
  readonly x: number;
  readonly y: number;
}

export interface TopologyLayout {
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly { readonly from: PlacedNode; readonly to: PlacedNode; readonly type: string }[];
  readonly width: number;
  readonly height: number;
  /** Columns in use, with their titles, left to right. */
  readonly columns: readonly { readonly title: string; readonly x: number }[];
}

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 34;
const COLUMN_GAP = 90;
const ROW_GAP = 12;
const MARGIN = 24;

/**
 * Columns, left to right. Docker: hosts, containers, services. Kubernetes: nodes (hosts), pods,
 * containers, workloads (`k8s.deployment`, `k8s.statefulset`, ...), services. Swarm: nodes, tasks,
 * containers, services.
 */
const TITLES = ['Hosts', 'Pods and tasks', 'Containers', 'Workloads', 'Services', 'Other'];
const COLUMN_OF: Record<string, number> = { host: 0, 'swarm-node': 0, pod: 1, task: 1, container: 2, workload: 3, service: 4, application: 4 };

function columnOf(type: string): number {
  return COLUMN_OF[type] ?? (type.startsWith('k8s.') ? 3 : 5);
}

export function layoutTopology(entities: readonly TopologyEntity[], edges: readonly TopologyEdge[]): TopologyLayout {
  const byColumn: TopologyEntity[][] = TITLES.map(() => []);
  for (const e of entities) byColumn[columnOf(e.type)].push(e);
  const neighbours = new Map<string, string[]>();
  for (const edge of edges) {
    (neighbours.get(edge.from) ?? neighbours.set(edge.from, []).get(edge.from)!).push(edge.to);
    (neighbours.get(edge.to) ?? neighbours.set(edge.to, []).get(edge.to)!).push(edge.from);
  }
  const rowOf = new Map<string, number>();
  const barycentre = (id: string): number => {
    const rows = (neighbours.get(id) ?? []).map((n) => rowOf.get(n)).filter((r): r is number => r !== undefined);
    return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.POSITIVE_INFINITY;
  };
  const used = byColumn.map((c, i) => (c.length ? i : -1)).filter((i) => i >= 0);
  for (const column of used) {
    const list = byColumn[column];
    const keyed = list.map((e) => ({ e, key: barycentre(e.id) }));
    keyed.sort((a, b) => a.key - b.key || a.e.name.localeCompare(b.e.name));
    keyed.forEach(({ e }, row) => rowOf.set(e.id, row));
    byColumn[column] = keyed.map((k) => k.e);
  }
  const placed = new Map<string, PlacedNode>();
  const tallest = Math.max(1, ...used.map((c) => byColumn[c].length));
  const height = MARGIN * 2 + tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP;
  const columns: { title: string; x: number }[] = [];
  used.forEach((column, slot) => {
    const list = byColumn[column];
    const x = MARGIN + slot * (NODE_WIDTH + COLUMN_GAP);
    columns.push({ title: TITLES[column], x });
    const offset = ((tallest - list.length) * (NODE_HEIGHT + ROW_GAP)) / 2;
    list.forEach((entity, row) => placed.set(entity.id, { entity, column, row, x, y: MARGIN + offset + row * (NODE_HEIGHT + ROW_GAP) }));
  });
  // 40 px more on the right for edges that bow out of the last column.
  const width = MARGIN * 2 + Math.max(1, used.length) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + 40;
  const placedEdges = edges
    .map((e) => ({ from: placed.get(e.from), to: placed.get(e.to), type: e.type }))
    .filter((e): e is { from: PlacedNode; to: PlacedNode; type: string } => e.from !== undefined && e.to !== undefined)
    .map((e) => (e.from.column <= e.to.column ? e : { from: e.to, to: e.from, type: e.type }));
  return { nodes: [...placed.values()], edges: placedEdges, width, height, columns };
}

/** Health of an entity from the open incidents that name it: the worst severity, or `ok`. */
export type Health = 'ok' | 'info' | 'warning' | 'critical';

export function healthByEntity(incidents: readonly { status: string; severity: string; entities: readonly string[] }[]): Map<string, Health> {
  const rank: Record<string, number> = { ok: 0, info: 1, warning: 2, critical: 3 };
  const out = new Map<string, Health>();
  for (const inc of incidents) {
    if (inc.status !== 'open') continue;
    for (const id of inc.entities) {
      const now = out.get(id) ?? 'ok';
      if ((rank[inc.severity] ?? 0) > rank[now]) out.set(id, inc.severity as Health);
    }
  }
  return out;
}
