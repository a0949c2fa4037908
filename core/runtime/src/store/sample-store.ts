/**
 * Recent history of every series in ring buffers (docs/architecture.md, "Storage and state").
 *
 * Layout: two flat typed arrays (timestamps, values) of `capacity * pointsPerSeries` entries; series
 * `id` owns the slice starting at `id * pointsPerSeries`. `head[id]` is the next write position and
 * `count[id]` the number of valid points. Appending a sample is two array stores and two integer
 * updates: no allocation, no Map lookup. Capacity grows by doubling when a new series id appears,
 * so memory is `O(series * pointsPerSeries * 16 bytes)` and bounded by the series limit.
 */
import type { SampleBatch } from '@sextant/plugin-api';
import type { MutableBatch } from './mutable-batch.js';

export interface SamplePoint {
  readonly timestamp: number;
  readonly value: number;
  /** A detector's expected value and band at this sample, when one models the series. */
  readonly expected?: number;
  readonly lower?: number;
  readonly upper?: number;
}

export class SampleStore {
  private capacity = 0;
  private ts = new Float64Array(0);
  private vs = new Float64Array(0);
  private head = new Uint32Array(0);
  private count = new Uint32Array(0);
  /** Timestamp of the latest sample per series, for out-of-order detection. `-Infinity` when none. */
  private last = new Float64Array(0);
  /**
   * Expected value and band per stored point (expected, lower, upper interleaved), parallel to the
   * sample rings. Allocated on the first setBand(): stores without a modelling detector pay nothing.
   */
  private band: Float32Array | undefined;

  constructor(readonly pointsPerSeries: number, initialSeries = 1024) {
    if (!(pointsPerSeries >= 1)) throw new RangeError('pointsPerSeries must be >= 1');
    this.grow(initialSeries);
  }

  private grow(minSeries: number): void {
    let cap = Math.max(this.capacity, 16);
    while (cap < minSeries) cap *= 2;
    if (cap === this.capacity) return;
    const n = this.pointsPerSeries;
    const ts = new Float64Array(cap * n);
    ts.set(this.ts);
    const vs = new Float64Array(cap * n);
    vs.set(this.vs);
    const head = new Uint32Array(cap);
    head.set(this.head);
    const count = new Uint32Array(cap);
    count.set(this.count);
    const last = new Float64Array(cap).fill(Number.NEGATIVE_INFINITY);
    last.set(this.last);
    if (this.band) {
      const band = new Float32Array(cap * n * 3).fill(Number.NaN);
      band.set(this.band);
      this.band = band;
    }
    this.ts = ts;
    this.vs = vs;
    this.head = head;
    this.count = count;
    this.last = last;
    this.capacity = cap;
  }

  /** Makes room for series ids below `seriesCount`. */
  ensureSeries(seriesCount: number): void {
    if (seriesCount > this.capacity) this.grow(seriesCount);
  }

  /** Latest timestamp stored for a series (`-Infinity` when none). */
  lastTimestamp(id: number): number {
    return id < this.capacity ? this.last[id] : Number.NEGATIVE_INFINITY;
  }

  /**
   * Appends the samples of a batch that are finite and newer than the series' latest sample, and
   * copies them into `accepted` (for detectors) when given. Returns nothing; `drops` counts the
   * rest by reason: [non-finite, duplicate timestamp, out of order, beyond `maxTimestamp`]. A
   * sample from the far future is refused rather than stored: once stored it would make every
   * later, correct sample of its series "out of order" for good. This is the store's hot path:
   * no allocation, no Map lookup.
   */
  append(batch: SampleBatch, drops: Uint32Array, accepted?: MutableBatch, maxTimestamp = Number.POSITIVE_INFINITY): void {
    const n = this.pointsPerSeries;
    const { series, timestamps, values, length } = batch;
    let maxId = 0;
    for (let i = 0; i < length; i++) if (series[i] > maxId) maxId = series[i];
    if (maxId >= this.capacity) this.grow(maxId + 1);
    if (accepted) accepted.reserve(length);
    const ts = this.ts;
    const vs = this.vs;
    const head = this.head;
    const count = this.count;
    const last = this.last;
    let k = 0;
    for (let i = 0; i < length; i++) {
      const id = series[i];
      const t = timestamps[i];
      const v = values[i];
      if (v - v !== 0 || t - t !== 0) {
        drops[0]++;
        continue;
      }
      if (t > maxTimestamp) {
        drops[3]++;
        continue;
      }
      const prev = last[id];
      if (t <= prev) {
        drops[t === prev ? 1 : 2]++;
        continue;
      }
      const pos = head[id];
      const at = id * n + pos;
      ts[at] = t;
      vs[at] = v;
      head[id] = pos + 1 === n ? 0 : pos + 1;
      if (count[id] < n) count[id]++;
      last[id] = t;
      if (accepted) {
        accepted.series[k] = id;
        accepted.timestamps[k] = t;
        accepted.values[k] = v;
        k++;
      }
    }
    if (accepted) accepted.length = k;
  }

  /** Records a detector's expectation for the latest stored point of a series. */
  setBand(id: number, expected: number, lower: number, upper: number): void {
    if (id >= this.capacity || this.count[id] === 0) return;
    if (!this.band) this.band = new Float32Array(this.capacity * this.pointsPerSeries * 3).fill(Number.NaN);
    const n = this.pointsPerSeries;
    const at = (id * n + ((this.head[id] + n - 1) % n)) * 3;
    this.band[at] = expected;
    this.band[at + 1] = lower;
    this.band[at + 2] = upper;
  }

  /** Points of one series with `from <= timestamp <= to`, oldest first. */
  read(id: number, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): SamplePoint[] {
    if (id >= this.capacity) return [];
    const n = this.pointsPerSeries;
    const c = this.count[id];
    const start = (this.head[id] + n - c) % n;
    const out: SamplePoint[] = [];
    for (let k = 0; k < c; k++) {
      const at = id * n + ((start + k) % n);
      const t = this.ts[at];
      if (t < from || t > to) continue;
      const b = this.band ? at * 3 : -1;
      if (b >= 0 && !Number.isNaN(this.band![b])) out.push({ timestamp: t, value: this.vs[at], expected: this.band![b], lower: this.band![b + 1], upper: this.band![b + 2] });
      else out.push({ timestamp: t, value: this.vs[at] });
    }
    return out;
  }

  /** The newest point of a series, if any. */
  latest(id: number): SamplePoint | undefined {
    if (id >= this.capacity || this.count[id] === 0) return undefined;
    const n = this.pointsPerSeries;
    const at = id * n + ((this.head[id] + n - 1) % n);
    return { timestamp: this.ts[at], value: this.vs[at] };
  }

  /** Bytes held by the ring buffers. */
  get bytes(): number {
    return this.ts.byteLength + this.vs.byteLength + this.head.byteLength + this.count.byteLength + this.last.byteLength + (this.band?.byteLength ?? 0);
  }
}
