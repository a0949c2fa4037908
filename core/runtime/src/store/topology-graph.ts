/**
 * The topology graph (docs/architecture.md, "Data model"): entities and directed edges reported by collectors and
 * orchestrators, merged. Implements the read-only TopologyView plugins see.
 */
import type { Attributes, TopologyEdge, TopologyEntity, TopologyUpdate, TopologyView } from '@sextant/plugin-api';

const edgeKey = (e: TopologyEdge) => `${e.type}\u0000${e.from}\u0000${e.to}`;

/** Resource keys that identify an entity, most specific first. */
const RESOURCE_ENTITY_KEYS: readonly [string, string][] = [
  ['container.id', 'container'],
  ['k8s.pod.uid', 'pod'],
  ['k8s.pod.name', 'pod'],
  ['service.name', 'service'],
  ['host.name', 'host'],
];

export class TopologyGraph implements TopologyView {
  private readonly nodes = new Map<string, TopologyEntity>();
  private readonly links = new Map<string, TopologyEdge>();
  private readonly listeners = new Set<(update: TopologyUpdate) => void>();

  /** Every update applied from now on, until the returned function is called (isolated plugins mirror the graph with it). */
  subscribe(listener: (update: TopologyUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  apply(update: TopologyUpdate): void {
    for (const e of update.upsertEntities ?? []) this.nodes.set(e.id, e);
    for (const e of update.upsertEdges ?? []) this.links.set(edgeKey(e), e);
    for (const e of update.removeEdges ?? []) this.links.delete(edgeKey(e));
    for (const id of update.removeEntities ?? []) {
      this.nodes.delete(id);
      for (const [k, e] of this.links) if (e.from === id || e.to === id) this.links.delete(k);
    }
    for (const listener of this.listeners) listener(update);
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
