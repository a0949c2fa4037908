/**
 * Change events of a swarm, from two sources that produce the same {@link ChangeFact}s:
 *
 * - the engine's `/events` stream (`service` and `node` events; Docker puts the changed fields in
 *   the actor attributes: `image.old/new`, `replicas.old/new`, `updatestate.old/new`,
 *   `state.old/new`, `availability.old/new`, `role.old/new`) — the primary source;
 * - the difference between two polls, used when the stream is not available (`events: poll`, or
 *   an engine that refuses `/events`).
 *
 * Facts become SextantEvents with the types the analysis understands: `deploy` (service created or
 * its spec changed), `scale`, `rollout` (update and rollback states), `host.down` / `host.up`
 * (node state), and `swarm.*` for the rest. The resource carries `service.name` (or `host.name`),
 * so a rollout opens an expected-change window for the service's anomalies and shows in the
 * timeline of an incident about it.
 */
import type { EngineEvent } from '@sextant/docker-engine';
import type { SextantEvent, Severity } from '@sextant/plugin-api';
import { SWARM_KEYS, nodeResource, serviceEventResource } from './swarm-keys.js';
import type { NodeView, ServiceView, SwarmSnapshot } from './swarm-snapshot.js';

const K = SWARM_KEYS;

export interface ServiceRef {
  readonly id: string;
  readonly name: string;
}
export interface NodeRef {
  readonly id: string;
  readonly hostname: string;
}

export type ChangeFact =
  | { readonly kind: 'service-created'; readonly service: ServiceRef; readonly image?: string }
  | { readonly kind: 'service-updated'; readonly service: ServiceRef; readonly imageOld?: string; readonly imageNew?: string }
  | { readonly kind: 'service-scaled'; readonly service: ServiceRef; readonly from?: number; readonly to: number }
  | { readonly kind: 'update-state'; readonly service: ServiceRef; readonly from?: string; readonly to: string; readonly message?: string }
  | { readonly kind: 'service-removed'; readonly service: ServiceRef }
  | { readonly kind: 'node-availability'; readonly node: NodeRef; readonly from?: string; readonly to: string }
  | { readonly kind: 'node-state'; readonly node: NodeRef; readonly from?: string; readonly to: string }
  | { readonly kind: 'node-role'; readonly node: NodeRef; readonly from?: string; readonly to: string }
  | { readonly kind: 'node-joined' | 'node-left'; readonly node: NodeRef };

/** Where a fact came from and when it happened. */
export interface FactOrigin {
  readonly origin: 'stream' | 'poll';
  readonly timestamp: number;
  /** Stable id part: the engine's timeNano for stream events, the poll time for diffs. */
  readonly key: string;
}

const int = (v: string | undefined): number | undefined => {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n >= 0 ? n : undefined;
};

/** The facts one engine event states (one event can state several: image and replicas). */
export function factsFromEngineEvent(e: EngineEvent, serviceName: (id: string) => string | undefined, nodeHostname: (id: string) => string | undefined): ChangeFact[] {
  const id = e.Actor?.ID ?? e.id;
  const a = e.Actor?.Attributes ?? {};
  const action = e.Action ?? e.status ?? '';
  if (typeof id !== 'string' || !id) return [];
  if (e.Type === 'service') {
    const service = { id, name: a.name || serviceName(id) || id };
    if (action === 'create') return [{ kind: 'service-created', service }];
    if (action === 'remove') return [{ kind: 'service-removed', service }];
    if (action !== 'update') return [];
    const facts: ChangeFact[] = [];
    if (a['image.new'] !== undefined) facts.push({ kind: 'service-updated', service, imageOld: a['image.old'], imageNew: a['image.new'] });
    const to = int(a['replicas.new']);
    if (to !== undefined) facts.push({ kind: 'service-scaled', service, from: int(a['replicas.old']), to });
    if (a['updatestate.new']) facts.push({ kind: 'update-state', service, from: a['updatestate.old'] || undefined, to: a['updatestate.new'] });
    // An update without image, replica or update-state news is either the allocator's own
    // bookkeeping (one follows every create) or a spec change; a spec change that reaches the tasks
    // always starts a rolling update, reported by its `updatestate.new: updating` event.
    return facts;
  }
  if (e.Type === 'node') {
    const node = { id, hostname: nodeHostname(id) || a.name || id };
    if (action === 'create') return [{ kind: 'node-joined', node }];
    if (action === 'remove') return [{ kind: 'node-left', node }];
    if (action !== 'update') return [];
    const facts: ChangeFact[] = [];
    if (a['state.new']) facts.push({ kind: 'node-state', node, from: a['state.old'] || undefined, to: a['state.new'] });
    if (a['availability.new']) facts.push({ kind: 'node-availability', node, from: a['availability.old'] || undefined, to: a['availability.new'] });
    if (a['role.new']) facts.push({ kind: 'node-role', node, from: a['role.old'] || undefined, to: a['role.new'] });
    return facts;
  }
  return [];
}

/** The facts between two polls (the fallback when the event stream is not available). */
export function factsFromSnapshots(before: SwarmSnapshot, after: SwarmSnapshot): ChangeFact[] {
  const facts: ChangeFact[] = [];
  const old = new Map<string, ServiceView>(before.services.map((s) => [s.id, s]));
  for (const s of after.services) {
    const service = { id: s.id, name: s.name };
    const o = old.get(s.id);
    old.delete(s.id);
    if (!o) {
      facts.push({ kind: 'service-created', service, image: s.image });
      continue;
    }
    if (o.image !== s.image) facts.push({ kind: 'service-updated', service, imageOld: o.image, imageNew: s.image });
    else if (o.specKey !== s.specKey) facts.push({ kind: 'service-updated', service });
    if (s.mode === 'replicated' && o.desired !== s.desired) facts.push({ kind: 'service-scaled', service, from: o.desired, to: s.desired });
    if (o.updateState !== s.updateState && s.updateState) facts.push({ kind: 'update-state', service, from: o.updateState || undefined, to: s.updateState, message: s.updateMessage });
  }
  for (const o of old.values()) facts.push({ kind: 'service-removed', service: { id: o.id, name: o.name } });
  const oldNodes = new Map<string, NodeView>(before.nodes.map((n) => [n.id, n]));
  for (const n of after.nodes) {
    const node = { id: n.id, hostname: n.hostname };
    const o = oldNodes.get(n.id);
    oldNodes.delete(n.id);
    if (!o) {
      facts.push({ kind: 'node-joined', node });
      continue;
    }
    if (o.state !== n.state) facts.push({ kind: 'node-state', node, from: o.state, to: n.state });
    if (o.availability !== n.availability) facts.push({ kind: 'node-availability', node, from: o.availability, to: n.availability });
    if (o.role !== n.role) facts.push({ kind: 'node-role', node, from: o.role, to: n.role });
  }
  for (const o of oldNodes.values()) facts.push({ kind: 'node-left', node: { id: o.id, hostname: o.hostname } });
  return facts;
}

const UPDATE_STATES: Readonly<Record<string, { title: string; severity: Severity }>> = {
  updating: { title: 'rolling update of service {name} started', severity: 'info' },
  paused: { title: 'rolling update of service {name} paused after task failures', severity: 'warning' },
  completed: { title: 'rolling update of service {name} completed', severity: 'info' },
  rollback_started: { title: 'rollback of service {name} started', severity: 'warning' },
  rollback_paused: { title: 'rollback of service {name} paused after task failures', severity: 'critical' },
  rollback_completed: { title: 'service {name} rolled back to its previous spec', severity: 'warning' },
};


/** The SextantEvent of a fact. Ids are stable: the same fact from the same origin gets the same id. */
export function changeEvent(fact: ChangeFact, at: FactOrigin, clusterId: string, index = 0): SextantEvent {
  const base = { timestamp: at.timestamp, source: 'swarm' };
  const origin = { [K.eventOrigin]: at.origin };
  const subject = 'service' in fact ? fact.service.id : fact.node.id;
  const id = `swarm:${clusterId || 'local'}:${at.origin}:${at.key}:${subject}:${fact.kind}:${index}`;
  switch (fact.kind) {
    case 'service-created':
      return { ...base, id, type: 'deploy', severity: 'info', title: `service ${fact.service.name} created${fact.image ? ` (${fact.image})` : ''}`, resource: serviceEventResource(fact.service, clusterId), attributes: { ...origin, [K.change]: 'create', ...(fact.image ? { [K.image]: fact.image } : {}) } };
    case 'service-updated': {
      const image = fact.imageNew !== undefined ? `: image ${fact.imageOld ?? '?'} -> ${fact.imageNew}` : ': spec changed';
      return {
        ...base,
        id,
        type: 'deploy',
        severity: 'info',
        title: `service ${fact.service.name} updated${image}`,
        resource: serviceEventResource(fact.service, clusterId),
        attributes: { ...origin, [K.change]: 'update', ...(fact.imageNew !== undefined ? { [K.imageOld]: fact.imageOld ?? '', [K.imageNew]: fact.imageNew } : {}) },
      };
    }
    case 'service-scaled':
      return { ...base, id, type: 'scale', severity: 'info', title: `service ${fact.service.name} scaled ${fact.from ?? '?'} -> ${fact.to} replicas`, resource: serviceEventResource(fact.service, clusterId), attributes: { ...origin, [K.replicasOld]: fact.from ?? -1, [K.replicasNew]: fact.to } };
    case 'update-state': {
      const spec = UPDATE_STATES[fact.to] ?? { title: `update of service {name} is ${fact.to}`, severity: 'info' as const };
      return {
        ...base,
        id,
        type: 'rollout',
        severity: spec.severity,
        title: spec.title.replace('{name}', fact.service.name) + (fact.message && spec.severity !== 'info' ? `: ${fact.message}` : ''),
        resource: serviceEventResource(fact.service, clusterId),
        attributes: { ...origin, [K.updateState]: fact.to, ...(fact.from ? { [K.updateStateOld]: fact.from } : {}), ...(fact.message ? { [K.updateMessage]: fact.message } : {}) },
      };
    }
    case 'service-removed':
      return { ...base, id, type: 'swarm.service.remove', severity: 'info', title: `service ${fact.service.name} removed`, resource: serviceEventResource(fact.service, clusterId), attributes: { ...origin } };
    case 'node-state': {
      const down = fact.to !== 'ready';
      return {
        ...base,
        id,
        type: down ? 'host.down' : 'host.up',
        severity: down ? 'critical' : 'info',
        title: `swarm node ${fact.node.hostname} is ${fact.to}${fact.from ? ` (was ${fact.from})` : ''}`,
        resource: nodeResource(fact.node, clusterId),
        attributes: { ...origin, [K.nodeState]: fact.to },
      };
    }
    case 'node-availability':
      return {
        ...base,
        id,
        type: 'swarm.node.availability',
        severity: fact.to === 'active' ? 'info' : 'warning',
        title: fact.to === 'drain' ? `swarm node ${fact.node.hostname} drained: its tasks move to other nodes` : `swarm node ${fact.node.hostname} availability ${fact.from ?? '?'} -> ${fact.to}`,
        resource: nodeResource(fact.node, clusterId),
        attributes: { ...origin, [K.nodeAvailability]: fact.to },
      };
    case 'node-role':
      return { ...base, id, type: 'swarm.node.role', severity: 'info', title: `swarm node ${fact.node.hostname} is now a ${fact.to}`, resource: nodeResource(fact.node, clusterId), attributes: { ...origin, [K.nodeRole]: fact.to } };
    case 'node-joined':
    case 'node-left':
      return {
        ...base,
        id,
        type: fact.kind === 'node-joined' ? 'swarm.node.join' : 'swarm.node.leave',
        severity: fact.kind === 'node-joined' ? 'info' : 'warning',
        title: `swarm node ${fact.node.hostname} ${fact.kind === 'node-joined' ? 'joined' : 'left'} the swarm`,
        resource: nodeResource(fact.node, clusterId),
        attributes: { ...origin },
      };
  }
}
