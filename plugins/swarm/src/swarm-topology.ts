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

export class SwarmTopology {
  private entities = new Map<string, string>();
  private edges = new Map<string, TopologyEdge>();

  /** The update that turns what was reported into what `snapshot` says; undefined when nothing changed. */
  diff(snapshot: SwarmSnapshot, clusterId: string): TopologyUpdate | undefined {
    const nextEntities = new Map<string, string>();
    const upsertEntities: TopologyEntity[] = [];
    const nextEdges = new Map<string, TopologyEdge>();
    const put = (e: TopologyEntity) => {
      const json = JSON.stringify([e.name, e.attributes]);
      nextEntities.set(e.id, json);
      if (this.entities.get(e.id) !== json) upsertEntities.push(e);
    };
    const link = (from: string, to: string, type: string) => {
      const e = { from, to, type };
      nextEdges.set(edgeKey(e), e);
    };
    const cluster: Attributes = clusterId ? { [K.clusterId]: clusterId } : {};
    const hostOf = new Map<string, string>();
    for (const n of snapshot.nodes) {
      hostOf.set(n.id, n.hostname);
      const id = entityIds.node(n.id);
      put({
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
      });
      link(id, entityIds.host(n.hostname), 'runs-on');
    }
    const serviceName = new Map<string, string>();
    for (const s of snapshot.services) {
      serviceName.set(s.id, s.name);
      put({
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
          [K.ports]: JSON.stringify(s.ports),
          ...(s.stack ? { [K.stackNamespace]: s.stack } : {}),
          ...(s.updateState ? { [K.updateState]: s.updateState, 'docker.swarm.update.progress': updateProgress(s) } : {}),
        },
      });
    }
    for (const t of snapshot.liveTasks) {
      const name = serviceName.get(t.serviceId);
      if (!name) continue;
      const id = entityIds.task(t.id);
      const service = entityIds.service(name);
      put({
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
      });
      link(id, service, 'member-of');
      if (t.nodeId && hostOf.has(t.nodeId)) link(id, entityIds.node(t.nodeId), 'runs-on');
      if (t.containerId) {
        const container = entityIds.container(t.containerId);
        link(container, id, 'realizes');
        link(container, service, 'member-of');
      }
    }
    const removeEntities = [...this.entities.keys()].filter((id) => !nextEntities.has(id));
    const upsertEdges = [...nextEdges].filter(([k]) => !this.edges.has(k)).map(([, e]) => e);
    // Edges of removed entities go with them; remove the others explicitly.
    const removed = new Set(removeEntities);
    const removeEdges = [...this.edges].filter(([k, e]) => !nextEdges.has(k) && !removed.has(e.from) && !removed.has(e.to)).map(([, e]) => e);
    this.entities = nextEntities;
    this.edges = nextEdges;
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
    if (!this.entities.size && !this.edges.size) return undefined;
    const update: TopologyUpdate = { removeEntities: [...this.entities.keys()], removeEdges: [...this.edges.values()] };
    this.entities = new Map();
    this.edges = new Map();
    return update;
  }
}
