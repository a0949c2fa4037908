/**
 * Every attribute key the swarm plugin writes, in one place. OpenTelemetry semantic-convention
 * keys where one exists (`service.name`, `host.name`, `container.id`, `container.image.name`);
 * the orchestrator's own facts under `docker.swarm.*`. Resource builders below are the only code
 * that puts them together, so a series' identity never depends on where it was written.
 */
import type { Attributes } from '@sextant/plugin-api';

export const SWARM_KEYS = {
  // OpenTelemetry semantic conventions
  serviceName: 'service.name',
  hostName: 'host.name',
  containerId: 'container.id',
  imageName: 'container.image.name',
  // resource keys of the orchestrator
  clusterId: 'docker.swarm.cluster.id',
  nodeId: 'docker.swarm.node.id',
  nodeRole: 'docker.swarm.node.role',
  swarmServiceName: 'docker.swarm.service.name',
  serviceId: 'docker.swarm.service.id',
  serviceMode: 'docker.swarm.service.mode',
  stackNamespace: 'docker.swarm.stack.namespace',
  taskId: 'docker.swarm.task.id',
  taskSlot: 'docker.swarm.task.slot',
  // point attributes (bounded value sets)
  taskState: 'docker.swarm.task.state',
  nodeState: 'docker.swarm.node.state',
  nodeAvailability: 'docker.swarm.node.availability',
  // entity and event attributes
  image: 'docker.swarm.service.image',
  ports: 'docker.swarm.service.ports',
  updateState: 'docker.swarm.update.state',
  updateMessage: 'docker.swarm.update.message',
  replicas: 'docker.swarm.service.replicas',
  taskDesiredState: 'docker.swarm.task.desired_state',
  taskExitCode: 'docker.swarm.task.exit_code',
  taskError: 'docker.swarm.task.error',
  managerReachability: 'docker.swarm.node.manager.reachability',
  leader: 'docker.swarm.node.leader',
  engineVersion: 'docker.swarm.node.engine.version',
  updateProgress: 'docker.swarm.update.progress',
  // event attributes
  eventOrigin: 'docker.swarm.event.origin',
  change: 'docker.swarm.change',
  imageOld: 'docker.swarm.image.old',
  imageNew: 'docker.swarm.image.new',
  replicasOld: 'docker.swarm.replicas.old',
  replicasNew: 'docker.swarm.replicas.new',
  updateStateOld: 'docker.swarm.update.state.old',
  taskFailures: 'docker.swarm.task.failures',
  taskRestarts: 'docker.swarm.service.task.restarts',
} as const;

/** The label `docker stack deploy` puts on services. */
export const STACK_LABEL = 'com.docker.stack.namespace';

const K = SWARM_KEYS;

export function serviceResource(s: { id: string; name: string; mode: string; stack: string | undefined }, clusterId: string): Attributes {
  return {
    [K.serviceName]: s.name,
    [K.swarmServiceName]: s.name,
    [K.serviceId]: s.id,
    [K.serviceMode]: s.mode,
    ...(s.stack ? { [K.stackNamespace]: s.stack } : {}),
    ...(clusterId ? { [K.clusterId]: clusterId } : {}),
  };
}

/** Resource of a service's events: what identifies the service, whatever its mode. */
export function serviceEventResource(s: { id: string; name: string }, clusterId: string): Attributes {
  return { [K.serviceName]: s.name, [K.swarmServiceName]: s.name, [K.serviceId]: s.id, ...(clusterId ? { [K.clusterId]: clusterId } : {}) };
}

/** Resource of a node's metrics and events. */
export function nodeResource(n: { id: string; hostname: string }, clusterId: string): Attributes {
  return { [K.hostName]: n.hostname, [K.nodeId]: n.id, ...(clusterId ? { [K.clusterId]: clusterId } : {}) };
}

export function clusterResource(clusterId: string): Attributes {
  return { [K.clusterId]: clusterId || 'unknown' };
}

/** Topology entity ids. `container:<id>` is the containers collector's entity, never upserted here. */
export const entityIds = {
  service: (name: string) => `service:${name}`,
  task: (id: string) => `task:${id}`,
  node: (id: string) => `swarm-node:${id}`,
  host: (hostname: string) => `host:${hostname}`,
  container: (id: string) => `container:${id}`,
};
