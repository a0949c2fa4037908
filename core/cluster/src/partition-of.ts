/**
 * The partition of a series. Stable across processes, machines and restarts; never a process-local
 * id. Fixed for the life of a group's data: changing anything here is a new PARTITIONING version
 * (see GroupLayout, which refuses to mix two in one group).
 *
 *   partition = fnv1a32(partitionKey(series)) % partitions
 *
 * The key is chosen so that **peers land in one partition**: the peer-outlier detector compares
 * replicas of one service (core/analysis/src/outliers/peer-groups.ts), and it runs once per
 * partition, so replicas spread over partitions would never be compared. For a series whose
 * resource names a peer group, the key is
 *
 *   `peer` \0 metric \0 group \0 point attributes (sorted `k=v`, comma-separated)
 *
 * with the group taken from resource attributes as peerIdentity() takes it (the member, i.e. the
 * container, pod, task or host, is left out: that is what differs between peers):
 *   k8s.deployment.name / k8s.statefulset.name / k8s.daemonset.name (with k8s.namespace.name),
 *   openshift.deploymentconfig.name, docker.swarm.service.name, service.name (not on hosts),
 *   container.image.name (not on hosts), host.role / sextant.host.role (hosts only).
 * Any other series (no member or no group) uses its canonical series key (the runtime's
 * `seriesKey`: metric + sorted resource and point attributes).
 *
 * Skew: one (service, metric, point attributes) cell is one partition, so a service with many
 * metrics still spreads over partitions by metric; the largest possible partition share is the
 * largest cell (e.g. 500 replicas of one service x one metric = 500 series in one partition).
 * A peer group given only by a topology `member-of` edge (not by resource attributes) is not seen
 * here: such replicas are partitioned by the attributes they do carry (usually their image).
 */
import type { Attributes, SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';

/** The partitioning this file implements; stored in the group's layout (GroupLayout). */
export const PARTITIONING = 'peer-group/fnv1a32/v1';

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    // UTF-16 code units are hashed as two bytes when above 0xff, so any string hashes the same everywhere.
    if (c > 0xff) {
      h ^= c >>> 8;
      h = Math.imul(h, 0x01000193);
      c &= 0xff;
    }
    h ^= c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function str(v: unknown): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

/** The peer group a resource names (`service:web`, `image:nginx`, `role:db`), or undefined. */
export function peerGroupOf(r: Attributes): string | undefined {
  const host = str(r['host.name']);
  const nonHost = str(r['container.id']) ?? str(r['k8s.pod.uid']) ?? str(r['k8s.pod.name']) ?? str(r['docker.swarm.task.id']);
  if (!nonHost && !host) return undefined;
  const ns = str(r['k8s.namespace.name']);
  const deployment = str(r['k8s.deployment.name']) ?? str(r['k8s.statefulset.name']) ?? str(r['k8s.daemonset.name']);
  if (deployment) return `service:${ns ? `${ns}/` : ''}${deployment}`;
  const dc = str(r['openshift.deploymentconfig.name']);
  if (dc) return `service:${ns ? `${ns}/` : ''}${dc}`;
  const swarm = str(r['docker.swarm.service.name']);
  if (swarm) return `service:${swarm}`;
  if (nonHost) {
    const service = str(r['service.name']);
    if (service) return `service:${service}`;
    const image = str(r['container.image.name']);
    return image ? `image:${image}` : undefined;
  }
  const role = str(r['host.role']) ?? str(r['sextant.host.role']);
  return role ? `role:${role}` : undefined;
}

/** What is hashed for a series (see the file comment). */
export function partitionKey(d: Pick<SeriesDescriptor, 'metric' | 'resource' | 'attributes'>): string {
  const group = peerGroupOf(d.resource);
  if (group === undefined) return seriesKey(d);
  const keys = Object.keys(d.attributes).sort();
  return `peer\u0000${d.metric}\u0000${group}\u0000${keys.map((k) => `${k}=${String(d.attributes[k])}`).join(',')}`;
}

export function partitionOfKey(key: string, partitions: number): number {
  return fnv1a32(key) % partitions;
}

export function partitionOf(descriptor: Pick<SeriesDescriptor, 'metric' | 'resource' | 'attributes'>, partitions: number): number {
  return partitionOfKey(partitionKey(descriptor), partitions);
}
