/**
 * What autodiscovery knows about one container, and how it is read from the topology entity the
 * containers collector (`@sextant/collector-containers`) reports as `container:<id>`.
 *
 * The entity attribute keys are the wire contract between that collector and the runtime:
 * `CONTAINER_ENTITY_KEYS` in @sextant/plugin-api.
 */
import { CONTAINER_ENTITY_KEYS, type TopologyEntity } from '@sextant/plugin-api';

/** One port the container exposes (image EXPOSE / `--expose`) or publishes (`-p`). */
export interface ContainerPort {
  /** Port inside the container. */
  readonly port: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  /** Host port it is published on, when published. */
  readonly hostPort?: number;
  /** Host address it is published on (`0.0.0.0`, `127.0.0.1`), when published. */
  readonly hostIp?: string;
}

export interface DiscoveredContainer {
  /** Full 64-hex engine id. */
  readonly id: string;
  /** Name without the leading slash. */
  readonly name: string;
  /** Image reference as the container was created with it: `docker.io/library/nginx:1.25`, `redis`, `sha256:...`. */
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Engine state: `created`, `running`, `paused`, `restarting`, `exited`, `dead`. */
  readonly state: string;
  /** Host pid of the container's init process; 0 when not running. */
  readonly pid: number;
  /** Addresses on the container's networks, in network-name order. Empty for `none`/`host`. */
  readonly ipAddresses: readonly string[];
  readonly ports: readonly ContainerPort[];
  /** `host`, `none`, `bridge`, a network name, or `container:<id>`. */
  readonly networkMode: string;
}

/** Attribute keys of a `container:<id>` topology entity (shared with the containers collector). */
export { CONTAINER_ENTITY_KEYS };

function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * Reads a container from its topology entity. Returns undefined for entities that are not
 * containers or lack an id or image. Malformed JSON attributes read as empty (never throws).
 */
export function discoveredContainerFromEntity(entity: TopologyEntity): DiscoveredContainer | undefined {
  if (entity.type !== 'container') return undefined;
  const a = entity.attributes;
  const K = CONTAINER_ENTITY_KEYS;
  const id = typeof a[K.id] === 'string' ? (a[K.id] as string) : entity.id.replace(/^container:/, '');
  const image = a[K.imageRef] ?? a['container.image.name'];
  if (!id || typeof image !== 'string') return undefined;
  const labels = parseJson<Record<string, string>>(a[K.labels], {});
  const ips = parseJson<unknown[]>(a[K.ipAddresses], []);
  const ports = parseJson<unknown[]>(a[K.ports], []);
  return {
    id,
    name: typeof a[K.name] === 'string' ? (a[K.name] as string) : entity.name,
    image,
    labels: typeof labels === 'object' && labels !== null && !Array.isArray(labels) ? labels : {},
    state: typeof a[K.state] === 'string' ? (a[K.state] as string) : 'unknown',
    pid: typeof a[K.pid] === 'number' ? (a[K.pid] as number) : 0,
    ipAddresses: Array.isArray(ips) ? ips.filter((ip): ip is string => typeof ip === 'string') : [],
    ports: Array.isArray(ports) ? ports.filter(isContainerPort) : [],
    networkMode: typeof a[K.networkMode] === 'string' ? (a[K.networkMode] as string) : 'default',
  };
}

function isContainerPort(p: unknown): p is ContainerPort {
  return typeof p === 'object' && p !== null && Number.isInteger((p as ContainerPort).port) && typeof (p as ContainerPort).protocol === 'string';
}
