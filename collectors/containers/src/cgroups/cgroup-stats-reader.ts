/**
 * Reads one container's cgroup files into its row of the stats table (see container-stats.ts).
 * No shelling out: plain synchronous reads of small kernel files (a few µs each), which keeps a
 * round over hundreds of containers cheap and free of per-file promises.
 *
 * Problems are reported through `onProblem(file, kind)` with the file's base name
 * (`memory.stat`), so the collector can count them per file; the reading stays NaN.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseBlkioServiceBytes,
  parseCfsQuota,
  parseCpuMax,
  parseIoStat,
  parseKeyedValue,
  parseLimitV1,
  parseLimitV2,
  parseSingleCount,
} from './cgroup-file-parsers.js';
import type { CgroupLocation } from './cgroup-locator.js';
import { Stat } from './container-stats.js';

export type CgroupProblem = 'missing' | 'malformed';

export class CgroupStatsReader {
  private readonly pair = new Float64Array(2);

  constructor(private readonly onProblem: (file: string, kind: CgroupProblem) => void) {}

  private read(dir: string | undefined, file: string): string | undefined {
    if (dir === undefined) return undefined;
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      this.onProblem(file, 'missing');
      return undefined;
    }
  }

  /** Parses `text` with `parse`; counts malformed input. */
  private value(file: string, text: string | undefined, parse: (t: string) => number): number {
    if (text === undefined) return Number.NaN;
    const v = parse(text);
    if (Number.isNaN(v)) this.onProblem(file, 'malformed');
    return v;
  }

  /** Fills `out[offset .. offset + cgroup fields]` for `location`; network fields are left alone. */
  readInto(location: CgroupLocation, out: Float64Array, offset: number): void {
    for (let k = Stat.cpuUsageNs; k <= Stat.pids; k++) out[offset + k] = Number.NaN;
    if (location.version === 2) this.readV2(location.dir, out, offset);
    else this.readV1(location.dirs, out, offset);
  }

  private readV2(dir: string, out: Float64Array, o: number): void {
    const cpuStat = this.read(dir, 'cpu.stat');
    if (cpuStat !== undefined) {
      const usage = parseKeyedValue(cpuStat, 'usage_usec');
      if (Number.isNaN(usage)) this.onProblem('cpu.stat', 'malformed');
      out[o + Stat.cpuUsageNs] = usage * 1000;
      // Throttling keys exist only when the cpu controller is enabled for the group.
      out[o + Stat.cpuPeriods] = parseKeyedValue(cpuStat, 'nr_periods');
      out[o + Stat.cpuThrottledPeriods] = parseKeyedValue(cpuStat, 'nr_throttled');
      out[o + Stat.cpuThrottledNs] = parseKeyedValue(cpuStat, 'throttled_usec') * 1000;
    }
    out[o + Stat.cpuLimitCores] = this.value('cpu.max', this.read(dir, 'cpu.max'), parseCpuMax);
    out[o + Stat.memoryUsageBytes] = this.value('memory.current', this.read(dir, 'memory.current'), parseSingleCount);
    out[o + Stat.memoryLimitBytes] = this.value('memory.max', this.read(dir, 'memory.max'), parseLimitV2);
    out[o + Stat.memoryInactiveFileBytes] = this.value('memory.stat', this.read(dir, 'memory.stat'), (t) => parseKeyedValue(t, 'inactive_file'));
    out[o + Stat.oomKills] = this.value('memory.events', this.read(dir, 'memory.events'), (t) => parseKeyedValue(t, 'oom_kill'));
    const io = this.read(dir, 'io.stat');
    if (io !== undefined) {
      if (parseIoStat(io, this.pair)) {
        out[o + Stat.diskReadBytes] = this.pair[0];
        out[o + Stat.diskWriteBytes] = this.pair[1];
      } else this.onProblem('io.stat', 'malformed');
    }
    out[o + Stat.pids] = this.value('pids.current', this.read(dir, 'pids.current'), parseSingleCount);
  }

  private readV1(dirs: Extract<CgroupLocation, { version: 1 }>['dirs'], out: Float64Array, o: number): void {
    out[o + Stat.cpuUsageNs] = this.value('cpuacct.usage', this.read(dirs.cpuacct, 'cpuacct.usage'), parseSingleCount);
    const cpuStat = this.read(dirs.cpu, 'cpu.stat');
    if (cpuStat !== undefined) {
      out[o + Stat.cpuPeriods] = parseKeyedValue(cpuStat, 'nr_periods');
      out[o + Stat.cpuThrottledPeriods] = parseKeyedValue(cpuStat, 'nr_throttled');
      out[o + Stat.cpuThrottledNs] = parseKeyedValue(cpuStat, 'throttled_time');
      if (Number.isNaN(out[o + Stat.cpuPeriods] + out[o + Stat.cpuThrottledPeriods] + out[o + Stat.cpuThrottledNs])) this.onProblem('cpu.stat', 'malformed');
    }
    const quota = this.read(dirs.cpu, 'cpu.cfs_quota_us');
    const period = this.read(dirs.cpu, 'cpu.cfs_period_us');
    if (quota !== undefined && period !== undefined) out[o + Stat.cpuLimitCores] = this.value('cpu.cfs_quota_us', quota, (q) => parseCfsQuota(q, period));
    out[o + Stat.memoryUsageBytes] = this.value('memory.usage_in_bytes', this.read(dirs.memory, 'memory.usage_in_bytes'), parseSingleCount);
    out[o + Stat.memoryLimitBytes] = this.value('memory.limit_in_bytes', this.read(dirs.memory, 'memory.limit_in_bytes'), parseLimitV1);
    out[o + Stat.memoryInactiveFileBytes] = this.value('memory.stat', this.read(dirs.memory, 'memory.stat'), (t) => parseKeyedValue(t, 'total_inactive_file'));
    out[o + Stat.oomKills] = this.value('memory.oom_control', this.read(dirs.memory, 'memory.oom_control'), (t) => parseKeyedValue(t, 'oom_kill'));
    const blkio = this.read(dirs.blkio, 'blkio.throttle.io_service_bytes');
    if (blkio !== undefined) {
      if (parseBlkioServiceBytes(blkio, this.pair)) {
        out[o + Stat.diskReadBytes] = this.pair[0];
        out[o + Stat.diskWriteBytes] = this.pair[1];
      } else this.onProblem('blkio.throttle.io_service_bytes', 'malformed');
    }
    out[o + Stat.pids] = this.value('pids.current', this.read(dirs.pids, 'pids.current'), parseSingleCount);
  }
}
