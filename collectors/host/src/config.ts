/**
 * Configuration of the `host` collector. Every field has a default (see {@link hostCollectorDefaults}),
 * so `collectors: { host: {} }` is a complete configuration.
 */
import { z } from 'zod';
import { durationMs as durationField } from '@sextant/plugin-kit';

const globs = z.array(z.string().min(1, 'patterns must not be empty'));

const absolutePath = (what: string) =>
  z.string().refine((path) => path.startsWith('/'), { message: `${what} must be an absolute path (e.g. "/host/proc" when the host's /proc is mounted there)` });

/** A duration: milliseconds as a number, or a string such as `500ms`, `2s`, `1m`; longer than 0. */
const durationMs = durationField({ min: 1 });

const section = { enabled: z.boolean() };

export const hostCollectorConfigSchema = z.strictObject({
  /** Where the host's procfs is mounted. Point at `/host/proc` when the agent runs in a container. */
  procRoot: absolutePath('procRoot'),
  /** Where the host's sysfs is mounted (used to tell whole disks from partitions). */
  sysRoot: absolutePath('sysRoot'),
  /** Prefix for mountpoints when measuring filesystems (`/hostfs` when the host's / is mounted there). */
  hostRoot: absolutePath('hostRoot'),
  /** Also report CPU utilisation per logical CPU, not only the all-CPU figure. */
  perCpu: z.boolean(),
  /**
   * Width of the kernel's `unsigned long` counters (diskstats operation and sector counts, forks):
   * `auto` takes it from the agent's architecture. Decides whether a counter that goes backwards
   * from the upper half of its range wrapped (rate kept) or was reset (one round without a rate).
   */
  counterBits: z.union([z.literal('auto'), z.literal(32), z.literal(64)]),
  cpu: z.strictObject(section),
  memory: z.strictObject(section),
  load: z.strictObject(section),
  /** Pressure stall information (Linux >= 4.20); silently absent on older kernels. */
  pressure: z.strictObject(section),
  processes: z.strictObject(section),
  uptime: z.strictObject(section),
  disks: z.strictObject({
    ...section,
    /** Device names to report (globs); empty means all. */
    include: globs,
    /** Device names to leave out (globs). */
    exclude: globs,
    /** Also report partitions. Off by default: a partition's I/O is already in its disk's. */
    partitions: z.boolean(),
  }),
  filesystems: z.strictObject({
    ...section,
    /** Filesystem types to leave out (globs): virtual and in-memory filesystems by default. */
    exclude: globs,
    /** Mountpoints to report (globs); empty means all. */
    includeMountpoints: globs,
    /** Mountpoints to leave out (globs). */
    excludeMountpoints: globs,
    /**
     * How long one round waits for statfs() answers. A mount that does not answer in time (a dead
     * NFS server) is skipped, and not asked again until its pending call returns.
     */
    timeout: durationMs,
  }),
  networks: z.strictObject({
    ...section,
    /** Interface names to report (globs); empty means all. */
    include: globs,
    /** Interface names to leave out (globs), e.g. ["lo", "veth*"]. */
    exclude: globs,
  }),
});

/** Validated configuration (durations in milliseconds). */
export type HostCollectorConfig = z.output<typeof hostCollectorConfigSchema>;

export const DEFAULT_EXCLUDED_FILESYSTEM_TYPES: readonly string[] = [
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs', 'efivarfs',
  'fuse.lxcfs', 'fusectl', 'hugetlbfs', 'mqueue', 'nsfs', 'overlay', 'proc', 'pstore', 'ramfs', 'rpc_pipefs',
  'securityfs', 'selinuxfs', 'squashfs', 'sysfs', 'tmpfs', 'tracefs',
];

export const hostCollectorDefaults: HostCollectorConfig = {
  procRoot: '/proc',
  sysRoot: '/sys',
  hostRoot: '/',
  perCpu: true,
  counterBits: 'auto',
  cpu: { enabled: true },
  memory: { enabled: true },
  load: { enabled: true },
  pressure: { enabled: true },
  processes: { enabled: true },
  uptime: { enabled: true },
  disks: { enabled: true, include: [], exclude: ['loop*', 'ram*'], partitions: false },
  filesystems: {
    enabled: true,
    exclude: [...DEFAULT_EXCLUDED_FILESYSTEM_TYPES],
    includeMountpoints: [],
    excludeMountpoints: ['/proc/**', '/sys/**', '/dev/**', '/run/**', '/var/lib/docker/**', '/var/lib/containers/**', '/var/lib/kubelet/**', '/snap/**'],
    timeout: 2000,
  },
  networks: { enabled: true, include: [], exclude: [] },
};
