/**
 * Peer groups come from topology, not from the user (issue: peer-group outliers). Two series are
 * peers when they measure the same metric with the same point attributes on members of one group:
 *
 * - replicas of one orchestrated service: a `member-of` edge in the topology graph, or the
 *   resource attributes the orchestrators set (`k8s.deployment.name`, `openshift.deploymentconfig.name`,
 *   `docker.swarm.service.name` (as @sextant/plugin-swarm writes it), `service.name` on containers and pods);
 * - containers of one image (`container.image.name`) when nothing better is known;
 * - hosts of one role (`host.role` / `sextant.host.role`).
 *
 * The member is the container, pod or host the series belongs to.
 */
import type { Attributes, SeriesDescriptor, TopologyView } from '@sextant/plugin-api';

export interface PeerIdentity {
  /** `service:web`, `image:nginx`, `role:db`, ... */
  readonly group: string;
  /** `container:abc`, `pod:web-1`, `host:h1`. */
  readonly member: string;
  /** The version the member runs (image tag, service.version), to notice rollouts. */
  readonly version: string;
}

function str(v: unknown): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function memberOf(resource: Attributes): string | undefined {
  const container = str(resource['container.id']);
  if (container) return `container:${container}`;
  const pod = str(resource['k8s.pod.uid']) ?? str(resource['k8s.pod.name']);
  if (pod) return `pod:${pod}`;
  const task = str(resource['docker.swarm.task.id']);
  if (task) return `task:${task}`;
  const host = str(resource['host.name']);
  if (host) return `host:${host}`;
  return undefined;
}

/** Works out which peer group a series' producer belongs to, or undefined when it has none. */
export function peerIdentity(series: Pick<SeriesDescriptor, 'resource'>, topology?: TopologyView): PeerIdentity | undefined {
  const r = series.resource;
  const member = memberOf(r);
  if (!member) return undefined;
  const version = str(r['service.version']) ?? str(r['container.image.tags']) ?? str(r['container.image.tag']) ?? '';
  const viaEdge = topology?.edges({ from: member, type: 'member-of' })[0];
  if (viaEdge) return { group: viaEdge.to, member, version };
  const ns = str(r['k8s.namespace.name']);
  const deployment = str(r['k8s.deployment.name']) ?? str(r['k8s.statefulset.name']) ?? str(r['k8s.daemonset.name']);
  if (deployment) return { group: `service:${ns ? `${ns}/` : ''}${deployment}`, member, version };
  const dc = str(r['openshift.deploymentconfig.name']);
  if (dc) return { group: `service:${ns ? `${ns}/` : ''}${dc}`, member, version };
  const swarm = str(r['docker.swarm.service.name']);
  if (swarm) return { group: `service:${swarm}`, member, version };
  if (!member.startsWith('host:')) {
    const service = str(r['service.name']);
    if (service) return { group: `service:${service}`, member, version };
    const image = str(r['container.image.name']);
    if (image) return { group: `image:${image}`, member, version };
    return undefined;
  }
  const role = str(r['host.role']) ?? str(r['sextant.host.role']);
  if (role) return { group: `role:${role}`, member, version };
  return undefined;
}

/** Canonical text of point attributes: peers must agree on them (`state=used`, `cpu.mode=user`). */
export function pointKey(attributes: Attributes): string {
  const keys = Object.keys(attributes).sort();
  return keys.map((k) => `${k}=${String(attributes[k])}`).join(',');
}
