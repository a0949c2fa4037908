/** Memory and swap from /proc/meminfo. */
import { HOST_METRICS } from './host-metrics.js';
import type { HostSeries } from './host-series.js';
import type { Meminfo } from './meminfo.js';

const MEMORY_STATES = ['used', 'free', 'cached', 'buffers'] as const;
const PAGING_STATES = ['used', 'free'] as const;

export class MemoryRecorder {
  private readonly usageIds: number[];
  private readonly utilizationIds: number[];
  private readonly limitId: number;
  private readonly pagingUsageIds: number[];
  /** Created on first use: not every kernel reports MemAvailable, not every host has swap. */
  private availableId = -2;
  private pagingUtilizationIds: number[] | undefined;
  private readonly values = new Float64Array(MEMORY_STATES.length);

  constructor(private readonly series: HostSeries) {
    this.usageIds = MEMORY_STATES.map((state) => series.id(HOST_METRICS.memoryUsage, { 'system.memory.state': state }));
    this.utilizationIds = MEMORY_STATES.map((state) => series.id(HOST_METRICS.memoryUtilization, { 'system.memory.state': state }));
    this.limitId = series.id(HOST_METRICS.memoryLimit, {});
    this.pagingUsageIds = PAGING_STATES.map((state) => series.id(HOST_METRICS.pagingUsage, { 'system.paging.state': state }));
  }

  /**
   * States add up to MemTotal: used = total - free - buffers - cached, where cached is the page
   * cache plus reclaimable slab (what `free` shows as buff/cache). Inside containers with a
   * virtualised meminfo the parts can exceed the total; used is then clamped at 0.
   */
  record(info: Meminfo): void {
    const cached = info.cached + info.sReclaimable;
    const used = Math.max(0, info.memTotal - info.memFree - info.buffers - cached);
    this.values[0] = used;
    this.values[1] = info.memFree;
    this.values[2] = cached;
    this.values[3] = info.buffers;
    for (let i = 0; i < MEMORY_STATES.length; i++) {
      this.series.write(this.usageIds[i], this.values[i]);
      this.series.write(this.utilizationIds[i], this.values[i] / info.memTotal);
    }
    this.series.write(this.limitId, info.memTotal);
    if (!Number.isNaN(info.memAvailable)) {
      if (this.availableId === -2) this.availableId = this.series.id(HOST_METRICS.memoryAvailable, {});
      this.series.write(this.availableId, info.memAvailable);
    }
    const swapUsed = info.swapTotal - info.swapFree;
    this.series.write(this.pagingUsageIds[0], swapUsed);
    this.series.write(this.pagingUsageIds[1], info.swapFree);
    if (info.swapTotal > 0) {
      this.pagingUtilizationIds ??= PAGING_STATES.map((state) => this.series.id(HOST_METRICS.pagingUtilization, { 'system.paging.state': state }));
      this.series.write(this.pagingUtilizationIds[0], swapUsed / info.swapTotal);
      this.series.write(this.pagingUtilizationIds[1], info.swapFree / info.swapTotal);
    }
  }
}
