/** Process counts and the fork rate from /proc/stat. */
import { CounterRate } from '@sextant/plugin-kit';
import { HOST_METRICS } from './host-metrics.js';
import type { HostSeries } from './host-series.js';
import type { ProcStat } from './proc-stat.js';

export class ProcessRecorder {
  private readonly runningId: number;
  private readonly blockedId: number;
  private readonly createdId: number;
  private readonly created: CounterRate;

  /** `unsignedLongModulus`: wrap modulus of the `processes` counter (an unsigned long). */
  constructor(
    private readonly series: HostSeries,
    unsignedLongModulus: number,
  ) {
    this.runningId = series.id(HOST_METRICS.processCount, { 'process.status': 'running' });
    this.blockedId = series.id(HOST_METRICS.processCount, { 'process.status': 'blocked' });
    this.createdId = series.id(HOST_METRICS.processCreated, {});
    this.created = new CounterRate({ wrapAt: unsignedLongModulus });
  }

  record(stat: ProcStat): void {
    this.series.write(this.runningId, stat.procsRunning);
    this.series.write(this.blockedId, stat.procsBlocked);
    this.series.write(this.createdId, this.created.update(stat.processesCreated, this.series.now));
  }
}
