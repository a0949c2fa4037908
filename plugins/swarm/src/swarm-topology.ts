/**
 * The swarm's part of the topology graph, reported as differences between polls.
 *
 * Entities: `service:<name>`, `task:<id>` (tasks meant to run), `swarm-node:<id>`.
 * Edges:
 *   task:<id>        runs-on    swarm-node:<id>
 *   swarm-node:<id>  runs-on    host:<hostname>      (the host entity other collectors use)
 *   container:<id>   realizes   task:<id>
 *   container:<id>   member-of  service:<name>       (the replicas of a service: one peer group)
 *   task:<id>        member-of  service:<name>
 *
 * `container:<id>` is the containers collector's entity (same id, from the task's
 * ContainerStatus.ContainerID): it is only ever the end of an edge here, never upserted, so its
 * attributes (which autodiscovery reads) stay the collector's. A container has exactly one
 * `member-of` edge, which the peer-outlier detector takes as its peer group.
 */
import type { Attributes, TopologyEdge, TopologyEntity, TopologyUpdate } from '@sextant/plugin-api';
import { SWARM_KEYS, entityIds } from './swarm-keys.js';
import { updateProgress, type SwarmSnapshot } from './swarm-snapshot.js';

const K = SWARM_KEYS;
const edgeKey = (e: TopologyEdge) => `${e.type}\u0000${e.from}\u0000${e.to}`;

/** What was reported for one entity: a fingerprint of its inputs and the edges it owns. */
interface Reported {
  readonly fingerprint: string;
  readonly edges: readonly TopologyEdge[];
}

/**
 * Entities are compared by a fingerprint of the fields they are built from, so an unchanged
 * task (the common case: thousands per poll) costs one string and one map lookup, and no object.
 */
export class SwarmTopology {
  private reported = new Map<string, Reported>();

  /** The update that turns what was reported into what `snapshot` says; undefined when nothing changed. */
  diff(snapshot: SwarmSnapshot, clusterId: string): TopologyUpdate | undefined {
    const next = new Map<string, Reported>();
    const upsertEntities: TopologyEntity[] = [];
    const upsertEdges: TopologyEdge[] = [];
    const removeEdges: TopologyEdge[] = [];
    const cluster: Attributes = clusterId ? { [K.clusterId]: clusterId } : {};
    /** Keeps the previous report when the fingerprint matches, else builds and diffs the entity's edges. */
    const visit = (id: string, fingerprint: string, build: () => { entity: TopologyEntity; edges: TopologyEdge[] }) => {
      const before = this.reported.get(id);
      if (before && before.fingerprint === fingerprint) {
        next.set(id, before);
        return;
      }
      const { entity, edges } = build();
      upsertEntities.push(entity);
      const old = new Set((before?.edges ?? []).map(edgeKey));
      const now = new Set(edges.map(edgeKey));
      for (const e of edges) if (!old.has(edgeKey(e))) upsertEdges.push(e);
      for (const e of before?.edges ?? []) if (!now.has(edgeKey(e))) removeEdges.push(e);
      next.set(id, { fingerprint, edges });
    };

    const hostOf = new Map<string, string>();
    for (const n of snapshot.nodes) {
      hostOf.set(n.id, n.hostname);
      const id = entityIds.node(n.id);
      visit(id, `${clusterId}|${n.hostname}|${n.role}|${n.availability}|${n.state}|${n.leader}|${n.reachability}|${n.engineVersion}`, () => ({
        entity: {
          id,
          type: 'swarm-node',
          name: n.hostname,
          attributes: {
            ...cluster,
            [K.nodeId]: n.id,
            [K.hostName]: n.hostname,
            [K.nodeRole]: n.role,
            [K.nodeAvailability]: n.availability,
            [K.nodeState]: n.state,
            [K.leader]: n.leader,
            ...(n.reachability ? { [K.managerReachability]: n.reachability } : {}),
            ...(n.engineVersion ? { [K.engineVersion]: n.engineVersion } : {}),
          },
        },
        edges: [{ from: id, to: entityIds.host(n.hostname), type: 'runs-on' }],
      }));
    }
    const serviceName = new Map<string, string>();
    for (const s of snapshot.services) {
      serviceName.set(s.id, s.name);
      const progress = s.updateState ? updateProgress(s) : 1;
      const ports = JSON.stringify(s.ports);
      visit(entityIds.service(s.name), `${clusterId}|${s.id}|${s.mode}|${s.image}|${s.desired}|${ports}|${s.stack}|${s.updateState}|${progress}`, () => ({
        entity: {
          id: entityIds.service(s.name),
          type: 'service',
          name: s.name,
          attributes: {
            ...cluster,
            [K.serviceName]: s.name,
            [K.swarmServiceName]: s.name,
            [K.serviceId]: s.id,
            [K.serviceMode]: s.mode,
            [K.image]: s.image,
            [K.replicas]: s.desired,
            [K.ports]: ports,
            ...(s.stack ? { [K.stackNamespace]: s.stack } : {}),
            ...(s.updateState ? { [K.updateState]: s.updateState, [K.updateProgress]: progress } : {}),
          },
        },
        edges: [],
      }));
    }
    for (const t of snapshot.liveTasks) {
      const name = serviceName.get(t.serviceId);
      if (!name) continue;
      const id = entityIds.task(t.id);
      const onNode = t.nodeId && hostOf.has(t.nodeId) ? t.nodeId : '';
      visit(id, `${name}|${onNode}|${t.nodeId}|${t.containerId}|${t.state}|${t.desiredState}|${t.slot}|${t.exitCode}|${t.error}`, () => {
        const service = entityIds.service(name);
        const edges: TopologyEdge[] = [{ from: id, to: service, type: 'member-of' }];
        if (onNode) edges.push({ from: id, to: entityIds.node(onNode), type: 'runs-on' });
        if (t.containerId) {
          const container = entityIds.container(t.containerId);
          edges.push({ from: container, to: id, type: 'realizes' }, { from: container, to: service, type: 'member-of' });
        }
        return {
          entity: {
            id,
            type: 'task',
            name: t.slot ? `${name}.${t.slot}` : `${name}.${t.nodeId.slice(0, 12)}`,
            attributes: {
              [K.taskId]: t.id,
              [K.swarmServiceName]: name,
              [K.taskState]: t.state,
              [K.taskDesiredState]: t.desiredState,
              ...(t.slot ? { [K.taskSlot]: t.slot } : {}),
              ...(t.nodeId ? { [K.nodeId]: t.nodeId } : {}),
              ...(t.containerId ? { [K.containerId]: t.containerId } : {}),
              ...(t.exitCode !== undefined && t.state !== 'running' ? { [K.taskExitCode]: t.exitCode } : {}),
              ...(t.error ? { [K.taskError]: t.error } : {}),
            },
          },
          edges,
        };
      });
    }
    const removeEntities: string[] = [];
    for (const [id, before] of this.reported) {
      if (next.has(id)) continue;
      removeEntities.push(id);
      // The graph drops edges that touch a removed entity; the others it owned go explicitly
      // (a container's member-of edge to its service outlives the task entity).
      for (const e of before.edges) if (e.from !== id && e.to !== id) removeEdges.push(e);
    }
    this.reported = next;
    if (!upsertEntities.length && !removeEntities.length && !upsertEdges.length && !removeEdges.length) return undefined;
    return {
      ...(upsertEntities.length ? { upsertEntities } : {}),
      ...(removeEntities.length ? { removeEntities } : {}),
      ...(upsertEdges.length ? { upsertEdges } : {}),
      ...(removeEdges.length ? { removeEdges } : {}),
    };
  }

  /** Removes everything reported (the swarm was left, or this agent stopped being the leader). */
  clear(): TopologyUpdate | undefined {
    if (!this.reported.size) return undefined;
    const removeEntities = [...this.reported.keys()];
    const removed = new Set(removeEntities);
    const removeEdges = [...this.reported.values()].flatMap((r) => r.edges.filter((e) => !removed.has(e.from) || !removed.has(e.to)));
    this.reported = new Map();
    return { removeEntities, removeEdges };
  }
}
