/** Configuration of the `containers` collector (zod v4). Defaults live in the factory. */
import { z } from 'zod';
import { durationMs as durationField } from '@sextant/plugin-kit';
import { resolveEngineSocket } from '@sextant/docker-engine';

/** A duration as milliseconds (number) or text (`500ms`, `10s`, `5m`, `1h`), longer than 0. */
const duration = durationField({ min: 1 });

/**
 * Container filters. A plain pattern matches the container name (a picomatch glob, the one
 * dialect of `@sextant/plugin-kit`); `image:<glob>` matches the full image reference, where `*`
 * stays within one `/` segment (`image:**\/nginx*` for `docker.io/library/nginx:1.25`);
 * `label:<key>` needs the label and `label:<key>=<value>` needs that value.
 */
const filterList = z.array(z.string().min(1));

export const containersConfigSchema = z.object({
  /** Engine API unix socket. Unset: `DOCKER_HOST` when it is `unix://...`, else /var/run/docker.sock. */
  socket: z.string().min(1).optional(),
  cgroupRoot: z.string().min(1),
  procRoot: z.string().min(1),
  include: filterList,
  exclude: filterList,
  /** Extra label names copied into resources as `container.label.<name>` (well-known ones always are). */
  labels: z.array(z.string().min(1)),
  /** How often the full container list is re-read even while the event stream is up. */
  stateRefresh: duration,
  /** Timeout of one engine API request. */
  requestTimeout: duration,
  /** Longest wait between reconnect attempts to the engine. */
  maxBackoff: duration,
  /** Read per-container network counters from /proc/<pid>/net/dev. */
  network: z.boolean(),
});

export type ContainersConfigInput = z.input<typeof containersConfigSchema>;
export type ContainersConfig = z.output<typeof containersConfigSchema>;

export const containersDefaults: Partial<ContainersConfig> = {
  cgroupRoot: '/sys/fs/cgroup',
  procRoot: '/proc',
  include: [],
  exclude: [],
  labels: [],
  stateRefresh: 60_000,
  requestTimeout: 5_000,
  maxBackoff: 30_000,
  network: true,
};

/** The socket to use: the configured one, else DOCKER_HOST's unix path, else the Docker default. */
export const resolveSocketPath: (configured: string | undefined, env?: NodeJS.ProcessEnv) => string = resolveEngineSocket;
