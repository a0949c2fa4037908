/**
 * A synthetic host on disk: a cgroup tree (v1 or v2, cgroupfs or systemd layout) and a /proc tree
 * with `<pid>/cgroup` and `<pid>/net/dev` for each container, in a directory of the caller's
 * choosing. Used by tests (fixtures for the cgroup version the machine does not run) and by the
 * benchmark. Counters grow on every {@link SyntheticHost.advance} call, like a busy container.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SyntheticContainerFiles {
  readonly id: string;
  readonly pid: number;
  /** CPU limit in cores; undefined = unlimited. */
  readonly cpuLimitCores?: number;
  /** Memory limit in bytes; undefined = unlimited. */
  readonly memoryLimitBytes?: number;
}

export interface SyntheticHostOptions {
  readonly dir: string;
  readonly version: 1 | 2;
  readonly driver: 'cgroupfs' | 'systemd';
  readonly containers: readonly SyntheticContainerFiles[];
}

/** Per-second growth applied by `advance` (cores, bytes, ...), so tests know what rates to expect. */
export const SYNTHETIC_RATES = {
  cpuCores: 0.25,
  throttledPeriodsPerS: 3,
  throttledSecondsPerS: 0.05,
  diskReadBytesPerS: 4096,
  diskWriteBytesPerS: 8192,
  netRxBytesPerS: 1000,
  netTxBytesPerS: 500,
  netRxPacketsPerS: 10,
  netTxPacketsPerS: 5,
} as const;

export const SYNTHETIC_MEMORY = { usage: 64 * 2 ** 20, inactiveFile: 16 * 2 ** 20, pids: 7 } as const;

export class SyntheticHost {
  readonly cgroupRoot: string;
  readonly procRoot: string;
  private elapsedS = 0;
  private readonly v1Controllers = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'] as const;

  constructor(private readonly options: SyntheticHostOptions) {
    this.cgroupRoot = join(options.dir, 'cgroup');
    this.procRoot = join(options.dir, 'proc');
    mkdirSync(this.cgroupRoot, { recursive: true });
    if (options.version === 2) writeFileSync(join(this.cgroupRoot, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    for (const c of options.containers) this.writeContainer(c);
  }

  /** The cgroup path of a container relative to a hierarchy root. */
  relativePath(id: string): string {
    return this.options.driver === 'systemd' ? `system.slice/docker-${id}.scope` : `docker/${id}`;
  }

  /** Directory holding `file` of controller `controller` (v1) for a container. */
  dirOf(id: string, controller: string): string {
    return this.options.version === 2 ? join(this.cgroupRoot, this.relativePath(id)) : join(this.cgroupRoot, controller, this.relativePath(id));
  }

  /** Moves every counter forward by `seconds`. */
  advance(seconds: number): void {
    this.elapsedS += seconds;
    for (const c of this.options.containers) this.writeCounters(c);
  }

  private writeContainer(c: SyntheticContainerFiles): void {
    const rel = this.relativePath(c.id);
    if (this.options.version === 2) {
      mkdirSync(join(this.cgroupRoot, rel), { recursive: true });
    } else {
      for (const ctrl of this.v1Controllers) mkdirSync(join(this.cgroupRoot, ctrl, rel), { recursive: true });
    }
    mkdirSync(join(this.procRoot, String(c.pid), 'net'), { recursive: true });
    const procCgroup =
      this.options.version === 2
        ? `0::/${rel}\n`
        : ['12:pids', '11:blkio', '10:memory', '3:cpuacct', '2:cpu', '1:name=systemd'].map((h) => `${h}:/${rel}`).join('\n') + '\n0::/\n';
    writeFileSync(join(this.procRoot, String(c.pid), 'cgroup'), procCgroup);
    const d = (ctrl: string) => this.dirOf(c.id, ctrl);
    if (this.options.version === 2) {
      writeFileSync(join(d('cpu'), 'cpu.max'), c.cpuLimitCores ? `${Math.round(c.cpuLimitCores * 100000)} 100000\n` : 'max 100000\n');
      writeFileSync(join(d('memory'), 'memory.max'), c.memoryLimitBytes ? `${c.memoryLimitBytes}\n` : 'max\n');
    } else {
      writeFileSync(join(d('cpu'), 'cpu.cfs_period_us'), '100000\n');
      writeFileSync(join(d('cpu'), 'cpu.cfs_quota_us'), c.cpuLimitCores ? `${Math.round(c.cpuLimitCores * 100000)}\n` : '-1\n');
      writeFileSync(join(d('memory'), 'memory.limit_in_bytes'), `${c.memoryLimitBytes ?? 9223372036854771712}\n`);
    }
    this.writeCounters(c);
  }

  private writeCounters(c: SyntheticContainerFiles): void {
    const t = this.elapsedS;
    const r = SYNTHETIC_RATES;
    const m = SYNTHETIC_MEMORY;
    const d = (ctrl: string) => this.dirOf(c.id, ctrl);
    const cpuNs = Math.round(t * r.cpuCores * 1e9);
    const periods = Math.round(t * 10);
    const throttled = Math.round(t * r.throttledPeriodsPerS);
    const throttledNs = Math.round(t * r.throttledSecondsPerS * 1e9);
    const read = Math.round(t * r.diskReadBytesPerS);
    const write = Math.round(t * r.diskWriteBytesPerS);
    if (this.options.version === 2) {
      writeFileSync(
        join(d('cpu'), 'cpu.stat'),
        `usage_usec ${Math.round(cpuNs / 1000)}\nuser_usec ${Math.round(cpuNs / 2000)}\nsystem_usec ${Math.round(cpuNs / 2000)}\nnr_periods ${periods}\nnr_throttled ${throttled}\nthrottled_usec ${Math.round(throttledNs / 1000)}\n`,
      );
      writeFileSync(join(d('memory'), 'memory.current'), `${m.usage}\n`);
      writeFileSync(join(d('memory'), 'memory.stat'), `anon ${m.usage - m.inactiveFile}\nfile ${m.inactiveFile}\nactive_file 0\ninactive_file ${m.inactiveFile}\n`);
      writeFileSync(join(d('memory'), 'memory.events'), 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
      writeFileSync(join(d('io'), 'io.stat'), `8:0 rbytes=${read} wbytes=${write} rios=1 wios=2 dbytes=0 dios=0\n`);
      writeFileSync(join(d('pids'), 'pids.current'), `${m.pids}\n`);
    } else {
      writeFileSync(join(d('cpuacct'), 'cpuacct.usage'), `${cpuNs}\n`);
      writeFileSync(join(d('cpu'), 'cpu.stat'), `nr_periods ${periods}\nnr_throttled ${throttled}\nthrottled_time ${throttledNs}\n`);
      writeFileSync(join(d('memory'), 'memory.usage_in_bytes'), `${m.usage}\n`);
      writeFileSync(join(d('memory'), 'memory.stat'), `cache ${m.inactiveFile}\nrss ${m.usage - m.inactiveFile}\ntotal_cache ${m.inactiveFile}\ntotal_inactive_file ${m.inactiveFile}\n`);
      writeFileSync(join(d('memory'), 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
      writeFileSync(join(d('blkio'), 'blkio.throttle.io_service_bytes'), `8:0 Read ${read}\n8:0 Write ${write}\n8:0 Sync 0\n8:0 Async 0\n8:0 Total ${read + write}\nTotal ${read + write}\n`);
      writeFileSync(join(d('pids'), 'pids.current'), `${m.pids}\n`);
    }
    const rx = Math.round(t * r.netRxBytesPerS);
    const tx = Math.round(t * r.netTxBytesPerS);
    const rxp = Math.round(t * r.netRxPacketsPerS);
    const txp = Math.round(t * r.netTxPacketsPerS);
    writeFileSync(
      join(this.procRoot, String(c.pid), 'net', 'dev'),
      'Inter-|   Receive                                                |  Transmit\n' +
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
        `    lo: 999999 99 0 0 0 0 0 0 999999 99 0 0 0 0 0 0\n` +
        `  eth0: ${rx} ${rxp} 0 0 0 0 0 0 ${tx} ${txp} 0 0 0 0 0 0\n`,
    );
  }
}
