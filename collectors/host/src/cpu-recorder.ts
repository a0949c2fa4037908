/**
 * CPU utilisation per mode from /proc/stat tick deltas between rounds.
 *
 * State is one row per CPU in typed arrays indexed by "slot": slot 0 is the all-CPU line, slot
 * n + 1 is logical CPU n. No object is created per CPU or per sample after the first round.
 */
import { HOST_METRICS } from './host-metrics.js';
import { type HostSeries } from './host-series.js';
import { CPU_MODES, CPU_MODE_COUNT, type ProcStat } from './proc-stat.js';

/** Series id not asked for yet. */
const UNKNOWN = -2;

export class CpuRecorder {
  /** Previous round's ticks, CPU_MODE_COUNT per slot. */
  private previous = new Float64Array(0);
  /** 1 when the slot has a previous reading. */
  private hasPrevious = new Uint8Array(0);
  /** Series ids, CPU_MODE_COUNT per slot. */
  private seriesIds = new Int32Array(0);
  private logicalCountId = UNKNOWN;
  private readonly deltas = new Float64Array(CPU_MODE_COUNT);

  constructor(
    private readonly series: HostSeries,
    private readonly perCpu: boolean,
  ) {}

  record(stat: ProcStat): void {
    if (this.logicalCountId === UNKNOWN) this.logicalCountId = this.series.id(HOST_METRICS.cpuLogicalCount, {});
    this.series.write(this.logicalCountId, stat.cpuCount);
    this.recordSlot(0, -1, stat.cpuTicks, 0);
    if (!this.perCpu) return;
    for (let row = 0; row < stat.cpuCount; row++) {
      const cpuNumber = stat.cpuNumbers[row];
      this.recordSlot(cpuNumber + 1, cpuNumber, stat.cpuTicks, (row + 1) * CPU_MODE_COUNT);
    }
  }

  /**
   * Emits utilisation for one slot. A mode's ticks may step back slightly (iowait on some kernels):
   * that mode counts as 0 for the round. A larger step back of the total (CPU hot-unplugged and
   * back, counters reset) skips the round for that slot and re-bases it.
   */
  private recordSlot(slot: number, cpuNumber: number, ticks: Float64Array, offset: number): void {
    this.ensureSlots(slot + 1);
    const base = slot * CPU_MODE_COUNT;
    let total = 0;
    let rawTotal = 0;
    for (let m = 0; m < CPU_MODE_COUNT; m++) {
      const delta = ticks[offset + m] - this.previous[base + m];
      rawTotal += delta;
      const clamped = delta > 0 ? delta : 0;
      this.deltas[m] = clamped;
      total += clamped;
      this.previous[base + m] = ticks[offset + m];
    }
    const usable = this.hasPrevious[slot] === 1 && rawTotal > 0 && total > 0;
    this.hasPrevious[slot] = 1;
    if (!usable) return;
    for (let m = 0; m < CPU_MODE_COUNT; m++) {
      let id = this.seriesIds[base + m];
      if (id === UNKNOWN) {
        id = this.series.id(
          HOST_METRICS.cpuUtilization,
          cpuNumber < 0 ? { 'cpu.mode': CPU_MODES[m] } : { 'cpu.mode': CPU_MODES[m], 'cpu.logical_number': cpuNumber },
        );
        this.seriesIds[base + m] = id;
      }
      this.series.write(id, this.deltas[m] / total);
    }
  }

  private ensureSlots(slots: number): void {
    if (slots <= this.hasPrevious.length) return;
    const capacity = Math.max(slots, this.hasPrevious.length * 2, 8);
    const previous = new Float64Array(capacity * CPU_MODE_COUNT);
    previous.set(this.previous);
    const hasPrevious = new Uint8Array(capacity);
    hasPrevious.set(this.hasPrevious);
    const seriesIds = new Int32Array(capacity * CPU_MODE_COUNT).fill(UNKNOWN);
    seriesIds.set(this.seriesIds);
    this.previous = previous;
    this.hasPrevious = hasPrevious;
    this.seriesIds = seriesIds;
  }
}
