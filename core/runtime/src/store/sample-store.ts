/**
 * Recent history of every series, compressed (docs/architecture.md, "Storage and state").
 *
 * Per series: a **head** of up to `headPoints` (32) raw points (float64 time and value) that takes
 * appends, and a **log** of sealed chunks (chunk-codec.ts: delta-of-delta timestamps, decimal or XOR
 * values; ~1-2 bytes per point on real series) in one byte array per series. When the head is full
 * and the next point arrives, the head is encoded into a small chunk at the end of the log and
 * starts over; once `chunkPoints / headPoints` small chunks follow each other at the end of the log,
 * they are re-encoded as one chunk of `chunkPoints` (128), which compresses better (one header, one
 * choice of encoding for more points). A small head keeps the memory of many young or slow series
 * low; the merge keeps long history compact. Chunks are immutable once merged; retention drops the
 * oldest ones whole by moving the log's start.
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
 * lookup; encoding costs once per `headPoints` samples of a series (and the merge once per
 * `chunkPoints`).
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
  /** Points per merged chunk (2..1024, default 128; a multiple of `headPoints`). */
  readonly chunkPoints?: number;
  /** Raw points in each series' head, sealed as a small chunk when full (default: the largest divisor of chunkPoints up to 32). */
  readonly headPoints?: number;
  /** Sealed chunks entirely older than this behind the series' newest sample are dropped (ms, default 24 h). */
  readonly retentionMs?: number;
  /** The band is kept this far behind the series' newest sample (ms, default 6 h). */
  readonly bandRetentionMs?: number;
}

const PAGE_SHIFT = 10;
const PAGE_SERIES = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SERIES - 1;
const DAY_MS = 86_400_000;

/** The largest divisor of `chunkPoints` in 2..32, or `chunkPoints` itself when it has none. */
function defaultHeadPoints(chunkPoints: number): number {
  for (let d = Math.min(32, chunkPoints); d >= 2; d--) if (chunkPoints % d === 0) return d;
  return chunkPoints;
}

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
  /** Small chunks at the end of the log not merged yet, and their bytes (in each log). */
  readonly tailChunks = new Uint8Array(PAGE_SERIES);
  readonly tailBytes = new Uint32Array(PAGE_SERIES);
  readonly bandTailBytes = new Uint32Array(PAGE_SERIES);

  constructor(chunkPoints: number) {
    this.ts = new Float64Array(PAGE_SERIES * chunkPoints);
    this.vs = new Float64Array(PAGE_SERIES * chunkPoints);
  }

  get fixedBytes(): number {
    return this.ts.byteLength + this.vs.byteLength + this.headLen.byteLength + this.last.byteLength + this.sealed.byteLength * 7 + this.tailChunks.byteLength + PAGE_SERIES * 3 * 8;
  }
}

export class SampleStore {
  readonly chunkPoints: number;
  readonly headPoints: number;
  readonly retentionMs: number;
  readonly bandRetentionMs: number;
  private pages: SeriesPage[] = [];
  private readonly encoder = new ChunkEncoder();
  private readonly decoder = new ChunkDecoder();
  /** Scratch for merging small chunks. */
  private readonly mergeTs = new Float64Array(MAX_CHUNK_POINTS);
  private readonly mergeVs = new Float64Array(MAX_CHUNK_POINTS);
  private readonly mergeBand = new Float32Array(MAX_CHUNK_POINTS * 3);
  /** Capacity of all logs and head bands, for `bytes`. */
  private variableBytes = 0;

  /**
   * @param pointsPerSeries the newest points per series that `read` returns (`store.points`)
   * @param initialSeries series ids to make room for now (more are added in pages as they appear)
   */
  constructor(readonly pointsPerSeries: number, initialSeries = PAGE_SERIES, options: SampleStoreOptions = {}) {
    if (!(pointsPerSeries >= 1)) throw new RangeError('pointsPerSeries must be >= 1');
    const chunkPoints = options.chunkPoints ?? 128;
    if (!(Number.isInteger(chunkPoints) && chunkPoints >= 2 && chunkPoints <= MAX_CHUNK_POINTS)) throw new RangeError(`chunkPoints must be an integer in 2..${MAX_CHUNK_POINTS}`);
    const headPoints = options.headPoints ?? defaultHeadPoints(chunkPoints);
    if (!(Number.isInteger(headPoints) && headPoints >= 2 && chunkPoints % headPoints === 0)) throw new RangeError('headPoints must be an integer >= 2 that divides chunkPoints');
    this.chunkPoints = chunkPoints;
    this.headPoints = headPoints;
    this.retentionMs = options.retentionMs ?? DAY_MS;
    this.bandRetentionMs = options.bandRetentionMs ?? DAY_MS / 4;
    this.ensureSeries(initialSeries);
  }

  /** Makes room for series ids below `seriesCount`: one page of 1024 series at a time. */
  ensureSeries(seriesCount: number): void {
    while (this.pages.length * PAGE_SERIES < seriesCount) this.pages.push(new SeriesPage(this.headPoints));
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
    const n = this.headPoints;
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
      band = page.headBand[s] = new Float32Array(this.headPoints * 3).fill(Number.NaN);
      this.variableBytes += band.byteLength;
    }
    const at = (h - 1) * 3;
    band[at] = expected;
    band[at + 1] = lower;
    band[at + 2] = upper;
  }

  /** Encodes the full head of series slot `s` into the logs, merging the small chunks at their end when enough are there. */
  private seal(page: SeriesPage, s: number): void {
    const n = this.headPoints;
    const bytes = this.encoder.encodeSamples(page.ts, page.vs, s * n, n);
    page.tailBytes[s] = (page.tailChunks[s] === 0 ? 0 : page.tailBytes[s]) + bytes.length;
    page.tailChunks[s]++;
    this.appendTo(page.log, page.logStart, page.logEnd, s, bytes);
    page.sealed[s] += n;
    const band = page.headBand[s];
    if (band) {
      let any = false;
      for (let i = 0; i < n * 3; i += 3) if (!Number.isNaN(band[i])) any = true;
      if (any) {
        const chunk = this.encoder.encodeBand(page.ts[s * n], band, 0, n);
        page.bandTailBytes[s] = (page.tailChunks[s] === 1 ? 0 : page.bandTailBytes[s]) + chunk.length;
        this.appendTo(page.bandLog, page.bandStart, page.bandEnd, s, chunk);
        band.fill(Number.NaN);
      } else if (page.tailChunks[s] === 1) page.bandTailBytes[s] = 0;
    }
    if (page.tailChunks[s] * n >= this.chunkPoints) this.merge(page, s);
  }

  /**
   * Re-encodes the small chunks at the end of slot `s`'s log (and of its band log) as one. Retention
   * may have dropped some of them already (a `store.points` smaller than a chunk): only those still
   * in the log are merged.
   */
  private merge(page: SeriesPage, s: number): void {
    const log = page.log[s]!;
    const end = page.logEnd[s];
    let at = Math.max(page.logStart[s], end - page.tailBytes[s]);
    const from = at;
    const ts = this.mergeTs;
    const vs = this.mergeVs;
    let count = 0;
    let scale = 0;
    const firsts: number[] = [];
    while (at < end) {
      const m = this.decoder.decodeSamples(log, at);
      scale = scale < 0 || this.decoder.lastScale < 0 ? -1 : Math.max(scale, this.decoder.lastScale);
      ts.set(this.decoder.timestamps.subarray(0, m), count);
      vs.set(this.decoder.values.subarray(0, m), count);
      firsts.push(count);
      count += m;
      at += chunkByteLength(log, at);
    }
    page.tailChunks[s] = 0;
    page.tailBytes[s] = 0;
    const bandTail = page.bandTailBytes[s];
    page.bandTailBytes[s] = 0;
    if (firsts.length < 2) return;
    let bandCount = 0;
    const bandLog = page.bandLog[s];
    const bandEnd = page.bandEnd[s];
    const bandFrom = bandLog ? Math.max(page.bandStart[s], bandEnd - bandTail) : 0;
    if (bandLog && bandFrom < bandEnd) {
      const band = this.mergeBand;
      band.fill(Number.NaN, 0, count * 3);
      for (let b = bandFrom; b < bandEnd; b += chunkByteLength(bandLog, b)) {
        const first = chunkFirstTimestamp(bandLog, b);
        const k = firsts.find((i) => ts[i] === first);
        if (k === undefined) continue;
        const m = this.decoder.decodeBand(bandLog, b);
        for (let i = 0; i < m * 3; i++) band[k * 3 + i] = this.decoder.band[i];
        bandCount++;
      }
      if (bandCount > 0) {
        page.bandEnd[s] = bandFrom;
        this.appendTo(page.bandLog, page.bandStart, page.bandEnd, s, this.encoder.encodeBand(ts[0], band, 0, count));
      }
    }
    page.logEnd[s] = from;
    this.appendTo(page.log, page.logStart, page.logEnd, s, this.encoder.encodeSamples(ts, vs, 0, count, scale));
  }

  /** Appends a chunk to a log, reusing the room of dropped chunks before growing by what is needed + 1/8 (at least two more such chunks). */
  private appendTo(logs: (Uint8Array | undefined)[], starts: Uint32Array, ends: Uint32Array, s: number, chunk: Uint8Array): void {
    let buf = logs[s];
    let end = ends[s];
    if (!buf || end + chunk.length > buf.length) {
      const start = starts[s];
      const live = end - start;
      if (buf && start > 0 && live + chunk.length <= buf.length) {
        buf.copyWithin(0, start, end);
      } else {
        // room for two more chunks like this one at least: a young series reallocates every third seal, not every seal
        const grown = new Uint8Array(live + chunk.length + Math.max(64, live >>> 3, 2 * chunk.length));
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
    const headFirst = page.ts[s * this.headPoints];
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
    const n = this.headPoints;
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
    const at = s * this.headPoints + h - 1;
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
