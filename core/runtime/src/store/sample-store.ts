/**
 * Recent history of every series, compressed (docs/architecture.md, "Storage and state").
 *
 * Per series: a **head** of up to `chunkPoints` raw points (float64 time and value) that takes
 * appends, and a **log** of sealed chunks (chunk-codec.ts: delta-of-delta timestamps, decimal or XOR
 * values; ~1-2 bytes per point on real series) in one byte array per series. When the head is full
 * and the next point arrives, the head is encoded into a chunk at the end of the log and starts over.
 * Chunks are immutable; retention drops the oldest ones whole by moving the log's start.
 *
 * Memory grows in fixed steps: heads live in pages of 1024 series allocated as ids appear (never one
 * giant array doubled), a log grows by what it needs plus 1/8 and reuses the room of dropped chunks.
 *
 * Retention: the newest `pointsPerSeries` points are what `read` returns; a sealed chunk is dropped
 * once the points after it are enough for that, or once all its points are older than `retentionMs`
 * (default 24 h) behind the series' newest sample.
 *
 * Band (a detector's expected value, lower, upper): only for series a detector sets one on, only
 * for the newest `bandRetentionMs` (default 6 h, the UI's default chart range); in the head as float32,
 * in band chunks (a second log) quantised to ~1/1024 of the band's width.
 *
 * Hot path (`append`): typed-array stores and integer updates per sample, no allocation and no Map
 * lookup; encoding a chunk costs once per `chunkPoints` samples of a series.
 */
import type { SampleBatch } from '@sextant/plugin-api';
import type { MutableBatch } from './mutable-batch.js';
import { ChunkDecoder, ChunkEncoder, chunkByteLength, chunkFirstTimestamp, chunkPointCount, MAX_CHUNK_POINTS } from './chunk-codec.js';

export interface SamplePoint {
  readonly timestamp: number;
  readonly value: number;
  /** A detector's expected value and band at this sample, when one models the series. */
  readonly expected?: number;
  readonly lower?: number;
  readonly upper?: number;
}

export interface SampleStoreOptions {
  /** Points per sealed chunk, and raw points in each series' head (2..1024, default 120). */
  readonly chunkPoints?: number;
  /** Sealed chunks entirely older than this behind the series' newest sample are dropped (ms, default 24 h). */
  readonly retentionMs?: number;
  /** The band is kept this far behind the series' newest sample (ms, default 6 h). */
  readonly bandRetentionMs?: number;
}

const PAGE_SHIFT = 10;
const PAGE_SERIES = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SERIES - 1;
const DAY_MS = 86_400_000;

/** Heads and per-series state of 1024 consecutive series ids. */
class SeriesPage {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly headLen = new Uint16Array(PAGE_SERIES);
  /** Newest timestamp per series, `-Infinity` when none: out-of-order detection. */
  readonly last = new Float64Array(PAGE_SERIES).fill(Number.NEGATIVE_INFINITY);
  /** Points in the sealed chunks of the log. */
  readonly sealed = new Uint32Array(PAGE_SERIES);
  readonly log: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(PAGE_SERIES);
  readonly logStart = new Uint32Array(PAGE_SERIES);
  readonly logEnd = new Uint32Array(PAGE_SERIES);
  /** (expected, lower, upper) per head point, NaN = none; only for series that got a band. */
  readonly headBand: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(PAGE_SERIES);
  readonly bandLog: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(PAGE_SERIES);
  readonly bandStart = new Uint32Array(PAGE_SERIES);
  readonly bandEnd = new Uint32Array(PAGE_SERIES);

  constructor(chunkPoints: number) {
    this.ts = new Float64Array(PAGE_SERIES * chunkPoints);
    this.vs = new Float64Array(PAGE_SERIES * chunkPoints);
  }

  get fixedBytes(): number {
    return this.ts.byteLength + this.vs.byteLength + this.headLen.byteLength + this.last.byteLength + this.sealed.byteLength * 5 + PAGE_SERIES * 3 * 8;
  }
}

export class SampleStore {
  readonly chunkPoints: number;
  readonly retentionMs: number;
  readonly bandRetentionMs: number;
  private pages: SeriesPage[] = [];
  private readonly encoder = new ChunkEncoder();
  private readonly decoder = new ChunkDecoder();
  /** Capacity of all logs and head bands, for `bytes`. */
  private variableBytes = 0;

  /**
   * @param pointsPerSeries the newest points per series that `read` returns (`store.points`)
   * @param initialSeries series ids to make room for now (more are added in pages as they appear)
   */
  constructor(readonly pointsPerSeries: number, initialSeries = PAGE_SERIES, options: SampleStoreOptions = {}) {
    if (!(pointsPerSeries >= 1)) throw new RangeError('pointsPerSeries must be >= 1');
    const chunkPoints = options.chunkPoints ?? 120;
    if (!(Number.isInteger(chunkPoints) && chunkPoints >= 2 && chunkPoints <= MAX_CHUNK_POINTS)) throw new RangeError(`chunkPoints must be an integer in 2..${MAX_CHUNK_POINTS}`);
    this.chunkPoints = chunkPoints;
    this.retentionMs = options.retentionMs ?? DAY_MS;
    this.bandRetentionMs = options.bandRetentionMs ?? DAY_MS / 4;
    this.ensureSeries(initialSeries);
  }

  /** Makes room for series ids below `seriesCount`: one page of 1024 series at a time. */
  ensureSeries(seriesCount: number): void {
    while (this.pages.length * PAGE_SERIES < seriesCount) this.pages.push(new SeriesPage(this.chunkPoints));
  }

  /** Latest timestamp stored for a series (`-Infinity` when none). */
  lastTimestamp(id: number): number {
    const page = this.pages[id >>> PAGE_SHIFT];
    return page ? page.last[id & PAGE_MASK] : Number.NEGATIVE_INFINITY;
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
    const n = this.chunkPoints;
    const { series, timestamps, values, length } = batch;
    let maxId = 0;
    for (let i = 0; i < length; i++) if (series[i] > maxId) maxId = series[i];
    this.ensureSeries(maxId + 1);
    if (accepted) accepted.reserve(length);
    const pages = this.pages;
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
      const page = pages[id >>> PAGE_SHIFT];
      const s = id & PAGE_MASK;
      const prev = page.last[s];
      if (t <= prev) {
        drops[t === prev ? 1 : 2]++;
        continue;
      }
      let h = page.headLen[s];
      if (h === n) {
        this.seal(page, s);
        h = 0;
      }
      const at = s * n + h;
      page.ts[at] = t;
      page.vs[at] = v;
      page.headLen[s] = h + 1;
      page.last[s] = t;
      if (h === 0 && page.sealed[s] > 0) this.expire(page, s, t);
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
    const page = this.pages[id >>> PAGE_SHIFT];
    if (!page) return;
    const s = id & PAGE_MASK;
    const h = page.headLen[s];
    if (h === 0) return;
    let band = page.headBand[s];
    if (!band) {
      band = page.headBand[s] = new Float32Array(this.chunkPoints * 3).fill(Number.NaN);
      this.variableBytes += band.byteLength;
    }
    const at = (h - 1) * 3;
    band[at] = expected;
    band[at + 1] = lower;
    band[at + 2] = upper;
  }

  /** Encodes the full head of series slot `s` into the logs. */
  private seal(page: SeriesPage, s: number): void {
    const n = this.chunkPoints;
    const bytes = this.encoder.encodeSamples(page.ts, page.vs, s * n, n);
    this.appendTo(page.log, page.logStart, page.logEnd, s, bytes);
    page.sealed[s] += n;
    const band = page.headBand[s];
    if (band) {
      let any = false;
      for (let i = 0; i < n * 3; i += 3) if (!Number.isNaN(band[i])) any = true;
      if (any) {
        this.appendTo(page.bandLog, page.bandStart, page.bandEnd, s, this.encoder.encodeBand(page.ts[s * n], band, 0, n));
        band.fill(Number.NaN);
      }
    }
  }

  /** Appends a chunk to a log, reusing the room of dropped chunks before growing by what is needed + 1/8. */
  private appendTo(logs: (Uint8Array | undefined)[], starts: Uint32Array, ends: Uint32Array, s: number, chunk: Uint8Array): void {
    let buf = logs[s];
    let end = ends[s];
    if (!buf || end + chunk.length > buf.length) {
      const start = starts[s];
      const live = end - start;
      if (buf && start > 0 && live + chunk.length <= buf.length) {
        buf.copyWithin(0, start, end);
      } else {
        const grown = new Uint8Array(live + chunk.length + Math.max(64, live >>> 3));
        if (buf) grown.set(buf.subarray(start, end));
        this.variableBytes += grown.length - (buf?.length ?? 0);
        logs[s] = buf = grown;
      }
      starts[s] = 0;
      end = live;
    }
    buf.set(chunk, end);
    ends[s] = end + chunk.length;
  }

  /** Drops the oldest chunks of slot `s` that retention no longer needs; `newest` is its newest timestamp. */
  private expire(page: SeriesPage, s: number, newest: number): void {
    const log = page.log[s]!;
    const headFirst = page.ts[s * this.chunkPoints];
    const cutoff = newest - this.retentionMs;
    let start = page.logStart[s];
    const end = page.logEnd[s];
    while (start < end) {
      const len = chunkByteLength(log, start);
      const count = chunkPointCount(log, start);
      const nextFirst = start + len < end ? chunkFirstTimestamp(log, start + len) : headFirst;
      if (page.sealed[s] - count + page.headLen[s] < this.pointsPerSeries && nextFirst > cutoff) break;
      page.sealed[s] -= count;
      start += len;
    }
    page.logStart[s] = start;
    const bandLog = page.bandLog[s];
    if (!bandLog) return;
    const oldest = start < end ? chunkFirstTimestamp(log, start) : headFirst;
    const bandCutoff = newest - this.bandRetentionMs;
    let b = page.bandStart[s];
    const bEnd = page.bandEnd[s];
    while (b < bEnd) {
      const len = chunkByteLength(bandLog, b);
      const nextFirst = b + len < bEnd ? chunkFirstTimestamp(bandLog, b + len) : headFirst;
      if (chunkFirstTimestamp(bandLog, b) >= oldest && nextFirst > bandCutoff) break;
      b += len;
    }
    page.bandStart[s] = b;
  }

  /** Points of one series with `from <= timestamp <= to`, oldest first, with the band where kept. */
  read(id: number, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): SamplePoint[] {
    const page = this.pages[id >>> PAGE_SHIFT];
    const out: SamplePoint[] = [];
    if (!page) return out;
    const s = id & PAGE_MASK;
    const n = this.chunkPoints;
    const headLen = page.headLen[s];
    if (headLen === 0) return out;
    const headFirst = page.ts[s * n];
    // the oldest points beyond pointsPerSeries are still in a chunk but no longer part of the series
    const skip = Math.max(0, page.sealed[s] + headLen - this.pointsPerSeries);
    let index = 0;
    const log = page.log[s];
    const end = page.logEnd[s];
    const bandLog = page.bandLog[s];
    let b = page.bandStart[s];
    const bEnd = page.bandEnd[s];
    const dec = this.decoder;
    for (let at = page.logStart[s]; log && at < end && headFirst > from; ) {
      const len = chunkByteLength(log, at);
      const count = chunkPointCount(log, at);
      const first = chunkFirstTimestamp(log, at);
      if (first > to) return out;
      const nextFirst = at + len < end ? chunkFirstTimestamp(log, at + len) : headFirst;
      if (index + count > skip && nextFirst > from) {
        dec.decodeSamples(log, at);
        let banded = false;
        while (bandLog && b < bEnd && chunkFirstTimestamp(bandLog, b) < first) b += chunkByteLength(bandLog, b);
        if (bandLog && b < bEnd && chunkFirstTimestamp(bandLog, b) === first) {
          dec.decodeBand(bandLog, b);
          banded = true;
        }
        for (let k = Math.max(0, skip - index); k < count; k++) {
          const t = dec.timestamps[k];
          if (t < from || t > to) continue;
          const e = banded ? dec.band[k * 3] : Number.NaN;
          if (Number.isNaN(e)) out.push({ timestamp: t, value: dec.values[k] });
          else out.push({ timestamp: t, value: dec.values[k], expected: e, lower: dec.band[k * 3 + 1], upper: dec.band[k * 3 + 2] });
        }
      }
      index += count;
      at += len;
    }
    const band = page.headBand[s];
    for (let k = Math.max(0, skip - index); k < headLen; k++) {
      const at = s * n + k;
      const t = page.ts[at];
      if (t < from || t > to) continue;
      if (band && !Number.isNaN(band[k * 3])) out.push({ timestamp: t, value: page.vs[at], expected: band[k * 3], lower: band[k * 3 + 1], upper: band[k * 3 + 2] });
      else out.push({ timestamp: t, value: page.vs[at] });
    }
    return out;
  }

  /** The newest point of a series, if any. */
  latest(id: number): SamplePoint | undefined {
    const page = this.pages[id >>> PAGE_SHIFT];
    if (!page) return undefined;
    const s = id & PAGE_MASK;
    const h = page.headLen[s];
    if (h === 0) return undefined;
    const at = s * this.chunkPoints + h - 1;
    return { timestamp: page.ts[at], value: page.vs[at] };
  }

  /** Points stored for a series (head + sealed chunks; may exceed `pointsPerSeries` by less than two chunks). */
  storedPoints(id: number): number {
    const page = this.pages[id >>> PAGE_SHIFT];
    return page ? page.sealed[id & PAGE_MASK] + page.headLen[id & PAGE_MASK] : 0;
  }

  /** Bytes of sealed sample chunks a series holds (its compressed history, without the raw head). */
  sealedBytes(id: number): number {
    const page = this.pages[id >>> PAGE_SHIFT];
    if (!page) return 0;
    const s = id & PAGE_MASK;
    return page.logEnd[s] - page.logStart[s];
  }

  /** Points in the sealed chunks of a series. */
  sealedPoints(id: number): number {
    const page = this.pages[id >>> PAGE_SHIFT];
    return page ? page.sealed[id & PAGE_MASK] : 0;
  }

  /** Bytes the store holds: heads and per-series state (per 1024-series page), logs and bands (their capacity). */
  get bytes(): number {
    return this.pages.length * (this.pages[0]?.fixedBytes ?? 0) + this.variableBytes;
  }
}
