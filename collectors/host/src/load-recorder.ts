/** Load averages and thread count from /proc/loadavg; uptime from /proc/uptime. */
import { HOST_METRICS } from './host-metrics.js';
import type { HostSeries } from './host-series.js';
import type { LoadAverage } from './loadavg.js';

export class LoadRecorder {
  private readonly load1Id: number;
  private readonly load5Id: number;
  private readonly load15Id: number;
  private readonly threadsId: number;

  constructor(private readonly series: HostSeries) {
    this.load1Id = series.id(HOST_METRICS.load1m, {});
    this.load5Id = series.id(HOST_METRICS.load5m, {});
    this.load15Id = series.id(HOST_METRICS.load15m, {});
    this.threadsId = series.id(HOST_METRICS.threadCount, {});
  }

  record(load: LoadAverage): void {
    this.series.write(this.load1Id, load.load1);
    this.series.write(this.load5Id, load.load5);
    this.series.write(this.load15Id, load.load15);
    this.series.write(this.threadsId, load.threads);
  }
}

export class UptimeRecorder {
  private readonly uptimeId: number;

  constructor(private readonly series: HostSeries) {
    this.uptimeId = series.id(HOST_METRICS.uptime, {});
  }

  record(seconds: number): void {
    this.series.write(this.uptimeId, seconds);
  }
}
