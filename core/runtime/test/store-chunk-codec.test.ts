import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitStream } from '../src/store/bit-stream.js';
import { ChunkDecoder, ChunkEncoder, chunkByteLength, chunkFirstTimestamp, chunkPointCount } from '../src/store/chunk-codec.js';

const encoder = new ChunkEncoder();
const decoder = new ChunkDecoder();

/** Bit patterns, so NaN payloads and -0 are compared exactly. */
function bitsOf(a: ArrayLike<number>): string[] {
  const f = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) f[i] = a[i];
  return Array.from(new BigUint64Array(f.buffer), (b) => b.toString(16));
}

function roundTrip(ts: Float64Array, vs: Float64Array): { ts: Float64Array; vs: Float64Array; bytes: number } {
  const chunk = encoder.encodeSamples(ts, vs, 0, ts.length).slice();
  // decode from an offset inside a bigger array, as the store does
  const log = new Uint8Array(chunk.length + 7);
  log.set(chunk, 5);
  expect(chunkByteLength(log, 5)).toBe(chunk.length);
  expect(chunkPointCount(log, 5)).toBe(ts.length);
  expect(Object.is(chunkFirstTimestamp(log, 5), ts[0])).toBe(true);
  const count = decoder.decodeSamples(log, 5);
  return { ts: decoder.timestamps.slice(0, count), vs: decoder.values.slice(0, count), bytes: chunk.length };
}

/** Values exactly as given, bit for bit (NaN payloads through a Uint32 view). */
function float64s(values: readonly number[], nanPayloads: readonly number[] = []): Float64Array {
  const f = new Float64Array(values);
  const words = new Uint32Array(f.buffer);
  nanPayloads.forEach((payload, k) => {
    if (k >= values.length) return;
    words[k * 2 + 1] = 0x7ff00000 | (payload & 0xfffff) | 0x80000;
    words[k * 2] = payload >>> 0;
  });
  return f;
}

const anyDouble = fc.double({ noNaN: false, noDefaultInfinity: false });
const decimal = fc.tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 6 })).map(([n, e]) => n / 10 ** e);
/** A decimal a few units in the last place off, as floating-point arithmetic leaves them (1.7619999999999998). */
const nearDecimal = fc.tuple(decimal, fc.integer({ min: -6, max: 6 })).map(([v, ulps]) => {
  const f = new Float64Array([v]);
  const w = new BigInt64Array(f.buffer);
  w[0] += BigInt(ulps);
  return f[0];
});

function timestamps(): fc.Arbitrary<number[]> {
  return fc.oneof(
    // regular, jittered, irregular, far apart
    fc.tuple(fc.integer({ min: 0, max: 2_000_000_000_000 }), fc.constantFrom(1000, 10_000), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 20 })).map(([t0, step, n, jitter]) =>
      Array.from({ length: n }, (_, i) => t0 + i * step + (i % 3 === 1 ? jitter : 0)),
    ),
    fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { minLength: 1, maxLength: 200 }).map((gaps) => {
      let t = -(2 ** 45);
      return gaps.map((g) => (t += g));
    }),
    fc.array(fc.double({ min: 0.001, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 100 }).map((gaps) => {
      let t = 1_700_000_000_000.25;
      return gaps.map((g) => (t += g));
    }),
  );
}

describe('BitStream', () => {
  it('reads back what was written, at every width and alignment', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 53 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 200 }), (fields) => {
        const values = fields.map(([n, f]) => Math.floor(f * 2 ** n) % 2 ** n || 0);
        const s = new BitStream(new Uint8Array(2000));
        fields.forEach(([n], i) => s.writeNumber(values[i], n));
        const r = new BitStream(new Uint8Array(0)).reset(s.bytes);
        expect(fields.map(([n]) => r.readNumber(n))).toEqual(values);
        expect(r.position).toBe(s.position);
      }),
    );
  });
});

describe('sample chunks', () => {
  it('round-trip any doubles bit-exactly: NaN payloads, -0, infinities, huge and tiny values', () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { minLength: 1, maxLength: 300 }), fc.array(fc.integer(), { maxLength: 5 }), (values, payloads) => {
        const ts = Float64Array.from(values, (_, i) => 1_700_000_000_000 + i * 10_000);
        const vs = float64s(values, payloads);
        const back = roundTrip(ts, vs);
        expect(bitsOf(back.vs)).toEqual(bitsOf(vs));
        expect(Array.from(back.ts)).toEqual(Array.from(ts));
      }),
    );
  });

  it('round-trip decimal values mixed with near-decimals and values that have no short decimal form', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 8, arbitrary: decimal }, { weight: 3, arbitrary: nearDecimal }, { weight: 1, arbitrary: anyDouble }, { weight: 1, arbitrary: fc.constant(-0) }), { minLength: 1, maxLength: 1024 }), (values) => {
        const ts = Float64Array.from(values, (_, i) => i * 1000);
        const vs = float64s(values);
        expect(bitsOf(roundTrip(ts, vs).vs)).toEqual(bitsOf(vs));
      }),
    );
  });

  it('round-trip regular, jittered, irregular, fractional and far-apart timestamps', () => {
    fc.assert(
      fc.property(timestamps(), (times) => {
        const ts = new Float64Array(times);
        const vs = Float64Array.from(times, (_, i) => (i * 7) % 13);
        const back = roundTrip(ts, vs);
        expect(bitsOf(back.ts)).toEqual(bitsOf(ts));
        expect(Array.from(back.vs)).toEqual(Array.from(vs));
      }),
    );
  });

  it('round-trip counters, equal values and 1024-point chunks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1024 }), fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 8 }), (n, start, steps) => {
        let c = start;
        const counter = Array.from({ length: n }, (_, i) => (c += steps[i % steps.length]));
        const ts = Float64Array.from(counter, (_, i) => 1_700_000_000_000 + i * 1000);
        expect(bitsOf(roundTrip(ts, float64s(counter)).vs)).toEqual(bitsOf(counter));
        const flat = new Float64Array(n).fill(start);
        expect(bitsOf(roundTrip(ts, flat).vs)).toEqual(bitsOf(flat));
      }),
    );
  });

  it('costs well under 2 bytes a point on regular series with few significant digits, counters and constants', () => {
    const n = 120;
    const ts = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 10_000);
    const gauge = Float64Array.from({ length: n }, (_, i) => Math.round((50 + 10 * Math.sin(i / 7) + ((i * 7919) % 17) / 4) * 10) / 10);
    const counter = Float64Array.from({ length: n }, (_, i) => 1e9 + i * 4096 + ((i * 31) % 7));
    const constant = new Float64Array(n).fill(42.5);
    for (const vs of [gauge, counter, constant]) expect(roundTrip(ts, vs).bytes / n).toBeLessThan(2);
    expect(roundTrip(ts, constant).bytes).toBeLessThan(40);
  });
});

describe('band chunks', () => {
  it('keep the band within 1/1000 of its width (20 significant bits when it has none), and points without a band stay without', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e5, noNaN: true }), fc.double({ min: 0, max: 1e5, noNaN: true })), { nil: undefined }), { minLength: 1, maxLength: 300 }), (points) => {
        const band = new Float32Array(points.length * 3).fill(Number.NaN);
        points.forEach((p, i) => {
          if (!p) return;
          band[i * 3] = p[0];
          band[i * 3 + 1] = p[0] - p[1];
          band[i * 3 + 2] = p[0] + p[2];
        });
        const chunk = encoder.encodeBand(123, band, 0, points.length).slice();
        expect(decoder.decodeBand(chunk, 0)).toBe(points.length);
        let width = 0;
        let magnitude = 0;
        for (let i = 0; i < points.length * 3; i++) if (!Number.isNaN(band[i])) magnitude = Math.max(magnitude, Math.abs(band[i]));
        for (let i = 0; i < points.length; i++) if (points[i]) width = Math.max(width, band[i * 3 + 2] - band[i * 3 + 1]);
        // 1/1024 of the width; a zero-width band keeps ~20 significant bits
        const tolerance = Math.max(width / 1000, magnitude * 2 ** -19);
        for (let i = 0; i < points.length * 3; i++) {
          if (Number.isNaN(band[i])) expect(decoder.band[i]).toBeNaN();
          else expect(Math.abs(decoder.band[i] - band[i])).toBeLessThanOrEqual(tolerance);
        }
      }),
    );
  });
});
