import type { SampleBatch } from '@sextant/plugin-api';

/**
 * A growable columnar batch: the writer side of SampleBatch. Reused across flushes, so steady-state
 * collection allocates nothing.
 */
export class MutableBatch implements SampleBatch {
  length = 0;
  series: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;

  constructor(initialCapacity = 256) {
    this.series = new Uint32Array(initialCapacity);
    this.timestamps = new Float64Array(initialCapacity);
    this.values = new Float64Array(initialCapacity);
  }

  /** Ensures room for `n` entries in total (existing entries are kept). */
  reserve(n: number): void {
    if (n <= this.series.length) return;
    let cap = this.series.length || 16;
    while (cap < n) cap *= 2;
    const s = new Uint32Array(cap);
    s.set(this.series.subarray(0, this.length));
    const t = new Float64Array(cap);
    t.set(this.timestamps.subarray(0, this.length));
    const v = new Float64Array(cap);
    v.set(this.values.subarray(0, this.length));
    this.series = s;
    this.timestamps = t;
    this.values = v;
  }

  push(series: number, timestamp: number, value: number): void {
    if (this.length === this.series.length) this.reserve(this.length + 1);
    const i = this.length++;
    this.series[i] = series;
    this.timestamps[i] = timestamp;
    this.values[i] = value;
  }

  clear(): void {
    this.length = 0;
  }
}
