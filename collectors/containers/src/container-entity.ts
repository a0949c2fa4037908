/**
 * Resource attributes and the topology entity of a container.
 *
 * Resource keys follow the OpenTelemetry semantic conventions: `container.id`, `container.name`,
 * `container.image.name` (reference without tag), `container.image.tags` (comma-joined; arrays
 * are not attribute values here), `container.runtime`, `host.name`, and `container.label.<name>`
 * for a bounded set of labels (config `labels` plus {@link WELL_KNOWN_LABELS}).
 *
 * The `container:<id>` entity carries what autodiscovery needs under the keys of
 * {@link CONTAINER_ENTITY_KEYS}. These must equal the keys @sextant/runtime's autodiscovery reads
 * (both take the table from @sextant/plugin-api).
 */
import { CONTAINER_ENTITY_KEYS, type Attributes, type TopologyEntity } from '@sextant/plugin-api';
import type { ContainerInfo } from '@sextant/docker-engine';

export { CONTAINER_ENTITY_KEYS };

/** Labels always copied into resources: orchestration context the analysis groups by. */
export const WELL_KNOWN_LABELS: readonly string[] = [
  'com.docker.compose.project',
  'com.docker.compose.service',
  'com.docker.swarm.service.name',
  'com.docker.swarm.task.name',
  'com.docker.stack.namespace',
  'io.kubernetes.pod.name',
  'io.kubernetes.pod.namespace',
  'io.kubernetes.container.name',
];

/** `nginx:1.25` -> name `nginx`, tag `1.25`; `reg:5000/a/b@sha256:..` -> `reg:5000/a/b`, no tag. */
export function splitImageReference(reference: string): { name: string; tag: string | undefined } {
  let ref = reference;
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: undefined };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  ref = ref.trim();
  return { name: ref, tag: /^sha256:/.test(ref) ? undefined : 'latest' };
}

export function containerResource(c: ContainerInfo, hostResource: Attributes, runtime: string, extraLabels: ReadonlySet<string>): Attributes {
  const { name, tag } = splitImageReference(c.image);
  const out: Record<string, string | number | boolean> = {
    ...hostResource,
    'container.id': c.id,
    'container.name': c.name,
    'container.image.name': name,
    'container.runtime': runtime,
  };
  if (tag) out['container.image.tags'] = tag;
  for (const [k, v] of Object.entries(c.labels)) {
    if (extraLabels.has(k) || WELL_KNOWN_LABELS.includes(k)) out[`container.label.${k}`] = v;
  }
  return out;
}

export function containerEntity(c: ContainerInfo, runtime: string): TopologyEntity {
  const K = CONTAINER_ENTITY_KEYS;
  return {
    id: `container:${c.id}`,
    type: 'container',
    name: c.name,
    attributes: {
      [K.id]: c.id,
      [K.name]: c.name,
      'container.image.name': splitImageReference(c.image).name,
      'container.runtime': runtime,
      [K.imageRef]: c.image,
      [K.labels]: JSON.stringify(c.labels),
      [K.state]: c.state,
      [K.pid]: c.pid,
      [K.ipAddresses]: JSON.stringify(c.ipAddresses),
      [K.ports]: JSON.stringify(c.ports),
      [K.networkMode]: c.networkMode,
      ...(c.health ? { 'sextant.container.health': c.health } : {}),
    },
  };
}
