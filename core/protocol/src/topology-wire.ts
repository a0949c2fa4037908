/**
 * Topology on the wire (sextant.common.v1.TopologyUpdate) and the child's copy of the host's graph.
 *
 * The child's TopologyView must answer synchronously (detectors call it inside process()), so the
 * host pushes the graph down the Detect/Correlate stream: the whole graph once when the stream
 * opens, then every update the host applies. A query RPC per lookup would need the child to block
 * on the host, and costs a round trip per call (see the README's measurement).
 */
import type { Attributes, TopologyEdge, TopologyEntity, TopologyUpdate, TopologyView } from '@sextant/plugin-api';
import type { TopologyEdge as WireEdge, TopologyUpdate as WireTopologyUpdate } from './gen/sextant/common/v1/common.js';
import { attributesFromWire, attributesToWire } from './series-wire.js';

const edgeToWire = (e: TopologyEdge): WireEdge => ({ from: e.from, to: e.to, type: e.type });

export function topologyToWire(update: TopologyUpdate): WireTopologyUpdate {
  return {
    upsertEntities: (update.upsertEntities ?? []).map((e) => ({ id: e.id, type: e.type, name: e.name, attributes: attributesToWire(e.attributes) })),
    removeEntities: [...(update.removeEntities ?? [])],
    upsertEdges: (update.upsertEdges ?? []).map(edgeToWire),
    removeEdges: (update.removeEdges ?? []).map(edgeToWire),
  };
}

/** Empty lists are left out, so the result compares equal to the update a collector wrote. */
export function topologyFromWire(w: WireTopologyUpdate): TopologyUpdate {
  const out: { -readonly [K in keyof TopologyUpdate]: TopologyUpdate[K] } = {};
  if (w.upsertEntities.length) out.upsertEntities = w.upsertEntities.map((e) => ({ id: e.id, type: e.type, name: e.name, attributes: attributesFromWire(e.attributes) }));
  if (w.removeEntities.length) out.removeEntities = w.removeEntities;
  if (w.upsertEdges.length) out.upsertEdges = w.upsertEdges.map((e) => ({ from: e.from, to: e.to, type: e.type }));
  if (w.removeEdges.length) out.removeEdges = w.removeEdges.map((e) => ({ from: e.from, to: e.to, type: e.type }));
  return out;
}

/** The whole graph of a view as one update of upserts (what a new stream starts with). */
export function topologyOf(view: TopologyView): TopologyUpdate {
  return { upsertEntities: view.entities(), upsertEdges: view.edges() };
}

const edgeKey = (e: TopologyEdge) => `${e.type}\u0000${e.from}\u0000${e.to}`;

/**
 * Resource keys that identify an entity, most specific first. The same rule as the runtime's
 * TopologyGraph.entityOf (core/runtime/src/store/topology-graph.ts); the isolation parity test
 * (core/analysis/test/isolation-parity.test.ts) checks that both agree.
 */
const RESOURCE_ENTITY_KEYS: readonly [string, string][] = [
  ['container.id', 'container'],
  ['k8s.pod.uid', 'pod'],
  ['k8s.pod.name', 'pod'],
  ['service.name', 'service'],
  ['host.name', 'host'],
];

/** The child's copy of the host's graph: applies the updates the host pushes, same semantics. */
export class TopologyMirror implements TopologyView {
  private readonly nodes = new Map<string, TopologyEntity>();
  private readonly links = new Map<string, TopologyEdge>();

  apply(update: TopologyUpdate): void {
    for (const e of update.upsertEntities ?? []) this.nodes.set(e.id, e);
    for (const e of update.upsertEdges ?? []) this.links.set(edgeKey(e), e);
    for (const e of update.removeEdges ?? []) this.links.delete(edgeKey(e));
    for (const id of update.removeEntities ?? []) {
      this.nodes.delete(id);
      for (const [k, e] of this.links) if (e.from === id || e.to === id) this.links.delete(k);
    }
  }

  entity(id: string): TopologyEntity | undefined {
    return this.nodes.get(id);
  }

  entities(type?: string): readonly TopologyEntity[] {
    const all = [...this.nodes.values()];
    return type ? all.filter((e) => e.type === type) : all;
  }

  edges(filter: { from?: string; to?: string; type?: string } = {}): readonly TopologyEdge[] {
    return [...this.links.values()].filter((e) => (!filter.from || e.from === filter.from) && (!filter.to || e.to === filter.to) && (!filter.type || e.type === filter.type));
  }

  entityOf(resource: Attributes): string | undefined {
    for (const [key, type] of RESOURCE_ENTITY_KEYS) {
      const v = resource[key];
      if (v !== undefined) return `${type}:${String(v)}`;
    }
    return undefined;
  }
}
