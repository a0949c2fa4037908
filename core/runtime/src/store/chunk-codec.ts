/**
 * Encoding of the sample store's sealed chunks (docs/architecture.md, "Storage and state").
 *
 * A chunk holds up to 1024 consecutive points of one series and is immutable once written. Layout:
 *
 * ```
 * bytes 0..2   total byte length (little endian)       -> the store walks a series' chunks by it
 * bytes 3..4   number of points (little endian)
 * bytes 5..12  first timestamp (float64, little endian) -> range queries skip chunks without decoding
 * bits  ...    timestamps section, then values section (BitStream, most significant bit first)
 * ```
 *
 * Timestamps: whole milliseconds are an integer column (below), which for a regular interval is the
 * Gorilla delta-of-delta idea: 0 bits per point when the interval never changes. Fractional or huge
 * timestamps fall back to the XOR column.
 *
 * Values: the encoder first looks for a power of ten that turns the values into integers exactly
 * (`12.34` -> 1234 at scale 2): gauges and counters with a few significant digits then cost the
 * bits of their changes only. A value a few units in the last place away from such a decimal
 * (`1.7619999999999998`, what an average computed in floating point gives) is that decimal plus a
 * small correction of its bit pattern (a second integer column, ~1 bit a point when there is none),
 * when that decimal has at most ~13 significant digits (with 15-16 nearly every double is that close
 * to one).
 * Values that do not fit (-0, NaN payloads, full-precision noise) are kept bit-exact as exceptions. When that does not pay, values use the XOR column of
 * the Gorilla paper (Pelkonen et al., VLDB 2015): XOR with the previous value, then leading and
 * trailing zeros. Every path is lossless to the bit.
 *
 * Integer column: order 0 (the values), 1 (deltas) or 2 (delta of deltas), whichever is smallest,
 * each either frame-of-reference bit-packed (min + fixed width) or with variable-length prefix codes
 * (0 -> `0`, small -> `10`+6 bits, ...). The encoder computes the exact cost of the six choices and
 * writes the smallest, so a constant series or a counter with a steady rate costs ~0 bits per point.
 *
 * Band chunks (expected, lower, upper per point) have the same header; their values are quantised to
 * a power-of-two step of about 1/1024 of the band's width (invisible on a chart), as integer columns
 * of the expected value and the two half-widths.
 */
import { BitStream } from './bit-stream.js';

export const CHUNK_HEADER_BYTES = 13;
/** Most points in one chunk (the count is a u16; the scratch buffers are sized for this). */
export const MAX_CHUNK_POINTS = 1024;

/** Integers the columns take: |x| < 2^49 keeps deltas of deltas and their zigzag exact in a double. */
const INT_LIMIT = 2 ** 49;
const MAX_SCALE = 15;
const POW10 = Array.from({ length: MAX_SCALE + 1 }, (_, e) => 10 ** e);
const TWO_32 = 4294967296;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const ulpView = new Float64Array(2);
const ulpWords = new Uint32Array(ulpView.buffer);
/** Most units in the last place a value may be from its decimal to be stored as decimal + correction. */
const MAX_ULPS = 4;

/** bits(a) - bits(b) as an integer, for doubles of the same sign (NaN when the signs differ). */
function ulpDistance(a: number, b: number): number {
  ulpView[0] = a;
  ulpView[1] = b;
  if ((ulpWords[1] ^ ulpWords[3]) >>> 31 !== 0) return Number.NaN;
  return (ulpWords[1] - ulpWords[3]) * TWO_32 + (ulpWords[0] - ulpWords[2]);
}

/** `value` with `ulps` added to its bit pattern. */
function addUlps(value: number, ulps: number): number {
  ulpView[0] = value;
  let lo = ulpWords[0] + ulps;
  let hi = ulpWords[1];
  if (lo >= TWO_32) {
    lo -= TWO_32;
    hi++;
  } else if (lo < 0) {
    lo += TWO_32;
    hi--;
  }
  ulpWords[0] = lo;
  ulpWords[1] = hi;
  return ulpView[0];
}

/**
 * A value a few units in the last place from a decimal is taken as that decimal only when the
 * decimal has at most ~13 significant digits (|integer| < 2^44): with 15-16 digits nearly every
 * double is within MAX_ULPS of one, and a full-precision value (a ratio, a mean) would be coded as
 * 50-bit integers plus corrections, slower to write than the XOR column and no smaller.
 */
const CORRECTABLE_LIMIT = 2 ** 44;

/** Whether `v` is an integer divided by 10^e (|integer| < 2^49), or within MAX_ULPS of one below CORRECTABLE_LIMIT. */
function fitsScale(v: number, e: number): boolean {
  const n = Math.round(v * POW10[e]) + 0; // -0 -> 0: the integer column has no -0
  if (!(Math.abs(n) < INT_LIMIT)) return false;
  const c = n / POW10[e];
  if (c === v) return true;
  // the cheap tests first: MAX_ULPS units in the last place are within ~1e-15 of the value
  return Math.abs(n) < CORRECTABLE_LIMIT && Math.abs(c - v) <= Math.abs(v) * 1e-15 && Math.abs(ulpDistance(v, c)) <= MAX_ULPS;
}

/**
 * For each binary exponent e2 (|v| in [2^e2, 2^(e2+1))): the largest scale k with |v| * 10^k < 2^40
 * for every such v, -1 when there is none (see firstScale).
 */
const QUICK_SCALE = Int8Array.from({ length: 2048 }, (_, x) => Math.max(-1, Math.min(MAX_SCALE, Math.floor((39 - (x - 1023)) * Math.log10(2) + 1e-9))));
const exponentView = new Float64Array(1);
const exponentWords = new Uint32Array(exponentView.buffer);

/**
 * The smallest scale 0..MAX_SCALE at which `v` fits (fitsScale), MAX_SCALE + 1 when none does.
 * Trying the sixteen scales one by one costs ~120-350 ns for a value with no short decimal form (a
 * ratio, a mean): most values of such series. One test at the largest scale `k` with
 * |v| * 10^k < 2^40 rules out every scale up to `k` at once: a value within MAX_ULPS units in the
 * last place of some n / 10^e (e <= k) is, times 10^k, within (MAX_ULPS + 1) * 2^-12 + 2^-12
 * (< 1/256) of the integer n * 10^(k - e). Only the few scales above `k` are then tried. The
 * result is the same as trying every scale in turn, in ~50 ns instead.
 */
function firstScale(v: number): number {
  let e = 0;
  exponentView[0] = v;
  const k = QUICK_SCALE[(exponentWords[1] >>> 20) & 0x7ff];
  if (k >= 1 && v !== 0) {
    const x = v * POW10[k];
    if (Math.abs(x - Math.round(x)) > 1 / 256) e = k + 1;
  }
  while (e <= MAX_SCALE && !fitsScale(v, e)) e++;
  return e;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

function bitLength(z: number): number {
  if (z < TWO_32) return 32 - Math.clz32(z);
  return 64 - Math.clz32(Math.floor(z / TWO_32));
}

const zigzag = (r: number): number => (r >= 0 ? r * 2 : -r * 2 - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** A signed integer as 6 bits of length + that many bits of its zigzag. */
function writeSigned(s: BitStream, r: number): void {
  const z = zigzag(r);
  const n = bitLength(z);
  s.write(n, 6);
  s.writeNumber(z, n);
}

function readSigned(s: BitStream): number {
  return unzigzag(s.readNumber(s.read(6)));
}

const signedCost = (r: number): number => 6 + bitLength(zigzag(r));

function varCost(r: number): number {
  const z = zigzag(r);
  if (z === 0) return 1;
  if (z < 64) return 8;
  if (z < 8192) return 16;
  if (z < 1048576) return 24;
  return 10 + bitLength(z);
}

function writeVar(s: BitStream, r: number): void {
  const z = zigzag(r);
  if (z === 0) s.write(0, 1);
  else if (z < 64) s.write(0b10_000000 | z, 8);
  else if (z < 8192) {
    s.write(0b110, 3);
    s.write(z, 13);
  } else if (z < 1048576) {
    s.write(0b1110, 4);
    s.write(z, 20);
  } else {
    s.write(0b1111, 4);
    const n = bitLength(z);
    s.write(n, 6);
    s.writeNumber(z, n);
  }
}

function readVar(s: BitStream): number {
  if (s.readBit() === 0) return 0;
  if (s.readBit() === 0) return unzigzag(s.read(6));
  if (s.readBit() === 0) return unzigzag(s.read(13));
  if (s.readBit() === 0) return unzigzag(s.read(20));
  return unzigzag(s.readNumber(s.read(6)));
}

/** Residual of order `order` at index i >= order. */
function residual(xs: Float64Array, i: number, order: number): number {
  if (order === 0) return xs[i];
  if (order === 1) return xs[i] - xs[i - 1];
  return xs[i] - 2 * xs[i - 1] + xs[i - 2];
}

/**
 * Writes `m` integers (|x| < 2^49) as the cheapest of orders 0..2 x {frame of reference, variable}:
 * 2 bits order, 1 bit mode, the first `order` values, then the residuals.
 */
function writeIntColumn(s: BitStream, xs: Float64Array, m: number): void {
  // pass 1: min and max of the residuals of all three orders, for the bit-packed costs
  let min0 = Number.POSITIVE_INFINITY;
  let max0 = Number.NEGATIVE_INFINITY;
  let min1 = min0;
  let max1 = max0;
  let min2 = min0;
  let max2 = max0;
  for (let i = 0; i < m; i++) {
    const r0 = xs[i];
    if (r0 < min0) min0 = r0;
    if (r0 > max0) max0 = r0;
    if (i === 0) continue;
    const r1 = r0 - xs[i - 1];
    if (r1 < min1) min1 = r1;
    if (r1 > max1) max1 = r1;
    if (i === 1) continue;
    const r2 = r1 - xs[i - 1] + xs[i - 2];
    if (r2 < min2) min2 = r2;
    if (r2 > max2) max2 = r2;
  }
  let best = Number.POSITIVE_INFINITY;
  let bestOrder = 0;
  let bestFor = true;
  let bestMin = 0;
  let bestWidth = 0;
  const head1 = m >= 1 ? signedCost(xs[0]) : 0;
  const head2 = m >= 2 ? head1 + signedCost(xs[1] - xs[0]) : 0;
  for (let order = 0; order <= 2 && order <= m; order++) {
    const min = order === 0 ? min0 : order === 1 ? min1 : min2;
    const max = order === 0 ? max0 : order === 1 ? max1 : max2;
    const width = m > order ? bitLength(max - min) : 0;
    const bits = (order === 0 ? 0 : order === 1 ? head1 : head2) + (m > order ? signedCost(min) + 6 + width * (m - order) : 0);
    if (bits < best) {
      best = bits;
      bestOrder = order;
      bestMin = m > order ? min : 0;
      bestWidth = width;
    }
  }
  // pass 2, only when bit-packing needs more than a bit a point: variable-length codes, which win
  // when a few outliers widen the frame (they cost at least 1 bit a point)
  if (bestWidth > 1) {
    let var0 = 0;
    let var1 = head1;
    let var2 = head2;
    for (let i = 0; i < m; i++) {
      const r0 = xs[i];
      var0 += varCost(r0);
      if (i === 0) continue;
      const r1 = r0 - xs[i - 1];
      var1 += varCost(r1);
      if (i === 1) continue;
      var2 += varCost(r1 - xs[i - 1] + xs[i - 2]);
    }
    for (let order = 0; order <= 2 && order <= m; order++) {
      const bits = order === 0 ? var0 : order === 1 ? var1 : var2;
      if (bits < best) {
        best = bits;
        bestOrder = order;
        bestFor = false;
      }
    }
  }
  s.write(bestOrder, 2);
  s.writeBit(bestFor);
  if (bestOrder >= 1) writeSigned(s, xs[0]);
  if (bestOrder === 2 && m >= 2) writeSigned(s, xs[1] - xs[0]);
  if (m <= bestOrder) return;
  if (bestFor) {
    writeSigned(s, bestMin);
    s.write(bestWidth, 6);
    if (bestWidth > 0) for (let i = bestOrder; i < m; i++) s.writeNumber(residual(xs, i, bestOrder) - bestMin, bestWidth);
  } else {
    for (let i = bestOrder; i < m; i++) writeVar(s, residual(xs, i, bestOrder));
  }
}

function readIntColumn(s: BitStream, out: Float64Array, m: number): void {
  const order = s.read(2);
  const isFor = s.readBit() === 1;
  let prev = 0;
  let delta = 0;
  let i = 0;
  if (order >= 1 && m > 0) out[i++] = prev = readSigned(s);
  if (order === 2 && m >= 2) {
    delta = readSigned(s);
    out[i++] = prev = prev + delta;
  }
  if (m <= order) return;
  let min = 0;
  let width = 0;
  if (isFor) {
    min = readSigned(s);
    width = s.read(6);
  }
  for (; i < m; i++) {
    const r = isFor ? s.readNumber(width) + min : readVar(s);
    if (order === 0) out[i] = r;
    else if (order === 1) out[i] = prev = prev + r;
    else {
      delta += r;
      out[i] = prev = prev + delta;
    }
  }
}

/**
 * Gorilla XOR column over 64-bit patterns given as (lo, hi) 32-bit pairs: the first value raw, then
 * `0` for "same as before", `10` + the meaningful bits when they fit the previous window, `11` + 6
 * bits of leading zeros + 6 bits of (length - 1) + the meaningful bits otherwise.
 */
function writeXorColumn(s: BitStream, words: Uint32Array, start: number, m: number): void {
  if (m === 0) return;
  let pLo = words[start * 2];
  let pHi = words[start * 2 + 1];
  s.write(pHi, 32);
  s.write(pLo, 32);
  let pLead = -1;
  let pTrail = 0;
  for (let i = 1; i < m; i++) {
    const lo = words[(start + i) * 2];
    const hi = words[(start + i) * 2 + 1];
    const xLo = (lo ^ pLo) >>> 0;
    const xHi = (hi ^ pHi) >>> 0;
    pLo = lo;
    pHi = hi;
    if (xLo === 0 && xHi === 0) {
      s.write(0, 1);
      continue;
    }
    const lead = xHi !== 0 ? Math.clz32(xHi) : 32 + Math.clz32(xLo);
    const trail = xLo !== 0 ? 31 - Math.clz32(xLo & -xLo) : 32 + 31 - Math.clz32(xHi & -xHi);
    let useLead: number;
    let useTrail: number;
    if (pLead >= 0 && lead >= pLead && trail >= pTrail) {
      s.write(0b10, 2);
      useLead = pLead;
      useTrail = pTrail;
    } else {
      s.write(0b11, 2);
      s.write(lead, 6);
      s.write(64 - lead - trail - 1, 6);
      pLead = useLead = lead;
      pTrail = useTrail = trail;
    }
    writeShifted(s, xHi, xLo, useTrail, 64 - useLead - useTrail);
  }
}

/** Bits writeXorColumn would write for the same values, without writing them. */
function xorColumnCost(words: Uint32Array, start: number, m: number): number {
  if (m === 0) return 0;
  let bits = 64;
  let pLo = words[start * 2];
  let pHi = words[start * 2 + 1];
  let pLead = -1;
  let pTrail = 0;
  for (let i = 1; i < m; i++) {
    const lo = words[(start + i) * 2];
    const hi = words[(start + i) * 2 + 1];
    const xLo = (lo ^ pLo) >>> 0;
    const xHi = (hi ^ pHi) >>> 0;
    pLo = lo;
    pHi = hi;
    if (xLo === 0 && xHi === 0) {
      bits += 1;
      continue;
    }
    const lead = xHi !== 0 ? Math.clz32(xHi) : 32 + Math.clz32(xLo);
    const trail = xLo !== 0 ? 31 - Math.clz32(xLo & -xLo) : 32 + 31 - Math.clz32(xHi & -xHi);
    if (pLead >= 0 && lead >= pLead && trail >= pTrail) bits += 2 + 64 - pLead - pTrail;
    else {
      bits += 14 + 64 - lead - trail;
      pLead = lead;
      pTrail = trail;
    }
  }
  return bits;
}

/** Writes bits [trail, trail + len) of the 64-bit (hi, lo), most significant first. */
function writeShifted(s: BitStream, hi: number, lo: number, trail: number, len: number): void {
  let sLo: number;
  let sHi: number;
  if (trail === 0) {
    sLo = lo;
    sHi = hi;
  } else if (trail < 32) {
    sLo = ((lo >>> trail) | (hi << (32 - trail))) >>> 0;
    sHi = hi >>> trail;
  } else {
    sLo = hi >>> (trail - 32);
    sHi = 0;
  }
  if (len > 32) {
    s.write(sHi, len - 32);
    s.write(sLo, 32);
  } else s.write(sLo, len);
}

function readXorColumn(s: BitStream, words: Uint32Array, m: number): void {
  if (m === 0) return;
  let hi = s.read(32);
  let lo = s.read(32);
  words[0] = lo;
  words[1] = hi;
  let lead = 0;
  let trail = 0;
  for (let i = 1; i < m; i++) {
    if (s.readBit() === 1) {
      if (s.readBit() === 1) {
        lead = s.read(6);
        trail = 64 - lead - (s.read(6) + 1);
      }
      const len = 64 - lead - trail;
      let sHi = 0;
      let sLo: number;
      if (len > 32) {
        sHi = s.read(len - 32);
        sLo = s.read(32);
      } else sLo = s.read(len);
      let xLo: number;
      let xHi: number;
      if (trail === 0) {
        xLo = sLo;
        xHi = sHi;
      } else if (trail < 32) {
        xLo = (sLo << trail) >>> 0;
        xHi = ((sHi << trail) | (sLo >>> (32 - trail))) >>> 0;
      } else {
        xLo = 0;
        xHi = (sLo << (trail - 32)) >>> 0;
      }
      lo = (lo ^ xLo) >>> 0;
      hi = (hi ^ xHi) >>> 0;
    }
    words[i * 2] = lo;
    words[i * 2 + 1] = hi;
  }
}

function wordsOf(a: Float64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

function readHeaderF64(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[i] = bytes[at + i];
  return f64[0];
}

/** Byte length of the chunk starting at `offset`. */
export function chunkByteLength(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
}

/** Number of points in the chunk starting at `offset`. */
export function chunkPointCount(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 3] | (bytes[offset + 4] << 8);
}

/** Timestamp of the first point of the chunk starting at `offset`. */
export function chunkFirstTimestamp(bytes: Uint8Array, offset: number): number {
  return readHeaderF64(bytes, offset + 5);
}

/**
 * Encodes chunks into a reusable scratch buffer. `encode*` returns a view of that buffer: copy it
 * before the next call.
 */
export class ChunkEncoder {
  private readonly scratch = new Uint8Array(CHUNK_HEADER_BYTES + 64 + MAX_CHUNK_POINTS * 64);
  private readonly stream = new BitStream(this.scratch);
  private readonly ints = new Float64Array(MAX_CHUNK_POINTS);
  private readonly ints2 = new Float64Array(MAX_CHUNK_POINTS);
  private readonly ints3 = new Float64Array(MAX_CHUNK_POINTS);
  private readonly scales = new Uint8Array(MAX_CHUNK_POINTS);
  private readonly exceptions = new Uint16Array(MAX_CHUNK_POINTS);
  private readonly corrections = new Float64Array(MAX_CHUNK_POINTS);
  private readonly histogram = new Uint16Array(MAX_SCALE + 2);

  /**
   * Points `start .. start + count` of `timestamps`/`values`, bit-exact. `scaleHint`: the decimal
   * scale these values probably have (when re-encoding chunks whose scales are known); each value
   * is tried at it first, which saves the search.
   */
  encodeSamples(timestamps: Float64Array, values: Float64Array, start: number, count: number, scaleHint = -1): Uint8Array {
    if (!(count >= 1 && count <= MAX_CHUNK_POINTS)) throw new RangeError(`a chunk holds 1..${MAX_CHUNK_POINTS} points (got ${count})`);
    const s = this.stream.reset(this.scratch, CHUNK_HEADER_BYTES * 8);
    this.writeTimestamps(s, timestamps, start, count);
    const valuesAt = s.position;
    const decimalBits = this.writeDecimalValues(s, values, start, count, scaleHint);
    // XOR is tried only when the decimal form is poor (it rarely wins below ~20 bits a point).
    // Its cost is counted first, so the decimal form, already written, is written only once.
    if (decimalBits < 0 || (decimalBits > 20 * count && 1 + xorColumnCost(wordsOf(values), start, count) <= decimalBits)) {
      s.position = valuesAt;
      s.write(1, 1);
      writeXorColumn(s, wordsOf(values), start, count);
    }
    return this.finish(s, count, timestamps[start]);
  }

  /**
   * A band chunk for the same points: `band` holds (expected, lower, upper) per point from index
   * `start * 3`, NaN expected = no band at that point.
   */
  encodeBand(firstTimestamp: number, band: Float32Array, start: number, count: number): Uint8Array {
    if (!(count >= 1 && count <= MAX_CHUNK_POINTS)) throw new RangeError(`a chunk holds 1..${MAX_CHUNK_POINTS} points (got ${count})`);
    const s = this.stream.reset(this.scratch, CHUNK_HEADER_BYTES * 8);
    let present = 0;
    let finite = true;
    let width = 0;
    let magnitude = 0;
    for (let i = 0; i < count; i++) {
      const b = (start + i) * 3;
      if (Number.isNaN(band[b])) continue;
      present++;
      const e = band[b];
      const lo = band[b + 1];
      const up = band[b + 2];
      if (!Number.isFinite(e) || !Number.isFinite(lo) || !Number.isFinite(up)) finite = false;
      if (up - lo > width) width = up - lo;
      magnitude = Math.max(magnitude, Math.abs(e), Math.abs(lo), Math.abs(up));
    }
    s.writeBit(present === count);
    if (present !== count) for (let i = 0; i < count; i++) s.writeBit(!Number.isNaN(band[(start + i) * 3]));
    s.writeBit(!finite);
    if (!finite) {
      for (let i = 0; i < count; i++) {
        const b = (start + i) * 3;
        if (Number.isNaN(band[b])) continue;
        for (let k = 0; k < 3; k++) {
          f32[0] = band[b + k];
          s.write(f32Bits[0], 32);
        }
      }
      return this.finish(s, count, firstTimestamp);
    }
    // step 2^shift: ~1/1024 of the band width, never so fine that the integers pass 2^47
    let shift = width > 0 ? Math.floor(Math.log2(width)) - 10 : magnitude > 0 ? Math.floor(Math.log2(magnitude)) - 20 : 0;
    if (magnitude > 0) shift = Math.max(shift, Math.floor(Math.log2(magnitude)) - 46);
    shift = Math.max(-1000, Math.min(1000, shift));
    s.write(shift + 1024, 11);
    const inv = 2 ** -shift;
    const qe = this.ints;
    const ql = this.ints2;
    const qu = this.ints3;
    let k = 0;
    for (let i = 0; i < count; i++) {
      const b = (start + i) * 3;
      if (Number.isNaN(band[b])) continue;
      const e = Math.round(band[b] * inv);
      qe[k] = e;
      ql[k] = e - Math.round(band[b + 1] * inv);
      qu[k] = Math.round(band[b + 2] * inv) - e;
      k++;
    }
    writeIntColumn(s, qe, k);
    writeIntColumn(s, ql, k);
    writeIntColumn(s, qu, k);
    return this.finish(s, count, firstTimestamp);
  }

  private finish(s: BitStream, count: number, firstTimestamp: number): Uint8Array {
    const length = s.byteLength;
    const out = this.scratch;
    out[0] = length & 0xff;
    out[1] = (length >>> 8) & 0xff;
    out[2] = (length >>> 16) & 0xff;
    out[3] = count & 0xff;
    out[4] = count >>> 8;
    f64[0] = firstTimestamp;
    for (let i = 0; i < 8; i++) out[5 + i] = f64Bytes[i];
    return out.subarray(0, length);
  }

  private writeTimestamps(s: BitStream, ts: Float64Array, start: number, count: number): void {
    let integral = true;
    for (let i = 0; i < count; i++) {
      const t = ts[start + i];
      if (!Number.isInteger(t) || Math.abs(t) >= INT_LIMIT) {
        integral = false;
        break;
      }
    }
    s.writeBit(!integral);
    if (!integral) return writeXorColumn(s, wordsOf(ts), start, count);
    const xs = this.ints;
    for (let i = 0; i < count; i++) xs[i] = ts[start + i];
    writeIntColumn(s, xs, count);
  }

  /**
   * Values as integers at one decimal scale plus bit-exact exceptions. Returns the bits written,
   * or -1 (nothing written) when most values have no short decimal form.
   */
  private writeDecimalValues(s: BitStream, vs: Float64Array, start: number, count: number, scaleHint: number): number {
    const scales = this.scales;
    const histogram = this.histogram.fill(0);
    for (let i = 0; i < count; i++) {
      const v = vs[start + i];
      let e: number;
      if (scaleHint >= 0 && fitsScale(v, scaleHint)) e = scaleHint;
      else e = firstScale(v);
      if (e <= MAX_SCALE && v === 0 && 1 / v < 0) e = MAX_SCALE + 1; // -0: keep its sign as an exception
      scales[i] = e;
      // most values have no short decimal form: the answer is known, the rest need not be tried
      if (++histogram[e] * 2 > count && e === MAX_SCALE + 1) return -1;
    }
    // The smallest scale that leaves at most 1/8 of the points as exceptions.
    let scale = 0;
    let covered = histogram[0];
    while (scale < MAX_SCALE && covered < count - (count >>> 3)) covered += histogram[++scale];
    if (covered * 2 < count) return -1;
    const from = s.position;
    s.write(0, 1);
    s.write(scale, 4);
    const xs = this.ints;
    const exceptions = this.exceptions;
    const corrections = this.corrections;
    let nExceptions = 0;
    let corrected = false;
    let prev = 0;
    const p = POW10[scale];
    for (let i = 0; i < count; i++) {
      const v = vs[start + i];
      let n = scales[i] <= scale ? Math.round(v * p) + 0 : Number.NaN;
      let ulps = 0;
      if (Math.abs(n) < INT_LIMIT && n / p !== v) {
        ulps = ulpDistance(v, n / p);
        if (!(Math.abs(ulps) <= MAX_ULPS)) n = Number.NaN;
      }
      if (!(Math.abs(n) < INT_LIMIT)) {
        exceptions[nExceptions++] = i;
        n = prev; // keeps the residuals of the integer column small
        ulps = 0;
      }
      if (ulps !== 0) corrected = true;
      corrections[i] = ulps;
      xs[i] = prev = n;
    }
    const indexBits = bitLength(count - 1);
    s.write(nExceptions, 11);
    if (nExceptions > 0) {
      const words = wordsOf(vs);
      for (let k = 0; k < nExceptions; k++) {
        const i = exceptions[k];
        s.write(i, indexBits);
        s.write(words[(start + i) * 2 + 1], 32);
        s.write(words[(start + i) * 2], 32);
      }
    }
    writeIntColumn(s, xs, count);
    s.writeBit(corrected);
    if (corrected) writeIntColumn(s, corrections, count);
    return s.position - from;
  }
}

/**
 * Decodes chunks. `timestamps`/`values` of the decoder are reused scratch arrays of
 * MAX_CHUNK_POINTS entries, valid until the next call.
 */
export class ChunkDecoder {
  readonly timestamps = new Float64Array(MAX_CHUNK_POINTS);
  readonly values = new Float64Array(MAX_CHUNK_POINTS);
  /** (expected, lower, upper) per point after decodeBand; NaN where the point has no band. */
  readonly band = new Float64Array(MAX_CHUNK_POINTS * 3);
  /** Decimal scale of the values of the last sample chunk decoded, -1 when they were XOR-coded. */
  lastScale = -1;
  private readonly stream = new BitStream(new Uint8Array(0));
  private readonly ints = new Float64Array(MAX_CHUNK_POINTS);
  private readonly ints2 = new Float64Array(MAX_CHUNK_POINTS);
  private readonly ints3 = new Float64Array(MAX_CHUNK_POINTS);
  private readonly present = new Uint8Array(MAX_CHUNK_POINTS);

  /** Decodes the sample chunk at `offset` into `timestamps`/`values`; returns its point count. */
  decodeSamples(bytes: Uint8Array, offset: number): number {
    const count = chunkPointCount(bytes, offset);
    const s = this.stream.reset(bytes, (offset + CHUNK_HEADER_BYTES) * 8);
    if (s.readBit() === 1) readXorColumn(s, wordsOf(this.timestamps), count);
    else readIntColumn(s, this.timestamps, count);
    if (s.readBit() === 1) {
      readXorColumn(s, wordsOf(this.values), count);
      this.lastScale = -1;
      return count;
    }
    const scale = s.read(4);
    this.lastScale = scale;
    const p = POW10[scale];
    const nExceptions = s.read(11);
    const indexBits = bitLength(count - 1);
    // exceptions come before the integers in the stream: park them in the upper half of `ints2`
    const exIndex = this.ints2;
    const exWords = wordsOf(this.ints3);
    for (let k = 0; k < nExceptions; k++) {
      exIndex[k] = s.read(indexBits);
      exWords[k * 2 + 1] = s.read(32);
      exWords[k * 2] = s.read(32);
    }
    const xs = this.ints;
    readIntColumn(s, xs, count);
    const values = this.values;
    for (let i = 0; i < count; i++) values[i] = xs[i] / p;
    if (s.readBit() === 1) {
      // corrections reuse `ints`, whose integers are consumed above
      readIntColumn(s, xs, count);
      for (let i = 0; i < count; i++) if (xs[i] !== 0) values[i] = addUlps(values[i], xs[i]);
    }
    if (nExceptions > 0) {
      const words = wordsOf(values);
      for (let k = 0; k < nExceptions; k++) {
        const i = exIndex[k];
        words[i * 2] = exWords[k * 2];
        words[i * 2 + 1] = exWords[k * 2 + 1];
      }
    }
    return count;
  }

  /** Decodes the band chunk at `offset` into `band`; returns its point count. */
  decodeBand(bytes: Uint8Array, offset: number): number {
    const count = chunkPointCount(bytes, offset);
    const s = this.stream.reset(bytes, (offset + CHUNK_HEADER_BYTES) * 8);
    const present = this.present;
    const all = s.readBit() === 1;
    let k = 0;
    for (let i = 0; i < count; i++) {
      present[i] = all ? 1 : s.readBit();
      k += present[i];
    }
    const band = this.band;
    if (s.readBit() === 1) {
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < 3; j++) {
          if (present[i]) {
            f32Bits[0] = s.read(32);
            band[i * 3 + j] = f32[0];
          } else band[i * 3 + j] = Number.NaN;
        }
      }
      return count;
    }
    const step = 2 ** (s.read(11) - 1024);
    readIntColumn(s, this.ints, k);
    readIntColumn(s, this.ints2, k);
    readIntColumn(s, this.ints3, k);
    let j = 0;
    for (let i = 0; i < count; i++) {
      if (!present[i]) {
        band[i * 3] = band[i * 3 + 1] = band[i * 3 + 2] = Number.NaN;
        continue;
      }
      const e = this.ints[j];
      band[i * 3] = e * step;
      band[i * 3 + 1] = (e - this.ints2[j]) * step;
      band[i * 3 + 2] = (e + this.ints3[j]) * step;
      j++;
    }
    return count;
  }
}
