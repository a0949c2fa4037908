import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MutableBatch, SampleStore } from '../src/index.js';

const T0 = 1_700_000_000_000;

function batchOf(points: readonly (readonly [number, number, number])[]): MutableBatch {
  const b = new MutableBatch(points.length);
  for (const [id, t, v] of points) b.push(id, t, v);
  return b;
}

function appendAll(store: SampleStore, points: readonly (readonly [number, number, number])[], drops = new Uint32Array(4)): Uint32Array {
  store.append(batchOf(points), drops);
  return drops;
}

describe('SampleStore (compressed chunks)', () => {
  it('returns every point in order across sealed chunks and the head, bit-exact', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 30_000 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { minLength: 1, maxLength: 400 }), fc.integer({ min: 2, max: 50 }), (steps, chunkPoints) => {
        const store = new SampleStore(10_000, 16, { chunkPoints });
        let t = T0;
        const points = steps.map(([dt, v]) => [3, (t += dt), v] as const);
        // in several batches, as the pipeline hands them over
        for (let i = 0; i < points.length; i += 37) appendAll(store, points.slice(i, i + 37));
        const read = store.read(3);
        expect(read.map((p) => p.timestamp)).toEqual(points.map((p) => p[1]));
        expect(read.map((p) => Object.is(p.value, 0) ? 0 : p.value)).toEqual(points.map((p) => Object.is(p[2], 0) ? 0 : p[2]));
        expect(read.map((p) => Object.is(p.value, -0))).toEqual(points.map((p) => Object.is(p[2], -0)));
        expect(store.latest(3)).toEqual({ timestamp: points.at(-1)![1], value: points.at(-1)![2] });
      }),
      { numRuns: 60 },
    );
  });

  it('answers a time range with the points inside it, oldest first', () => {
    const store = new SampleStore(10_000, 16, { chunkPoints: 16 });
    appendAll(store, Array.from({ length: 200 }, (_, i) => [0, T0 + i * 10_000, i] as const));
    const range = store.read(0, T0 + 50 * 10_000, T0 + 120 * 10_000);
    expect(range.map((p) => p.value)).toEqual(Array.from({ length: 71 }, (_, i) => 50 + i));
    expect(store.read(0, T0 + 195 * 10_000).map((p) => p.value)).toEqual([195, 196, 197, 198, 199]);
    expect(store.read(0, 0, T0 - 1)).toEqual([]);
    expect(store.read(99)).toEqual([]);
    expect(store.latest(99)).toBeUndefined();
  });

  it('refuses and counts non-finite, duplicate, out-of-order and far-future samples', () => {
    const store = new SampleStore(100, 16, { chunkPoints: 4 });
    const drops = new Uint32Array(4);
    const accepted = new MutableBatch(16);
    store.append(
      batchOf([
        [1, T0, 1],
        [1, T0 + 1000, 2],
        [1, T0 + 1000, 9], // duplicate
        [1, T0 + 500, 9], // out of order
        [1, T0 + 2000, Number.NaN],
        [1, T0 + 2000, Number.POSITIVE_INFINITY],
        [1, T0 + 9_999_999, 9], // beyond maxTimestamp
        [1, T0 + 2000, 3],
      ]),
      drops,
      accepted,
      T0 + 60_000,
    );
    expect(Array.from(drops)).toEqual([2, 1, 1, 1]);
    expect(Array.from(accepted.values.subarray(0, accepted.length))).toEqual([1, 2, 3]);
    expect(store.read(1).map((p) => p.value)).toEqual([1, 2, 3]);
    expect(store.lastTimestamp(1)).toBe(T0 + 2000);
    expect(store.lastTimestamp(5000)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('keeps the newest store.points points and drops older chunks whole', () => {
    const store = new SampleStore(100, 16, { chunkPoints: 32 });
    appendAll(store, Array.from({ length: 1000 }, (_, i) => [2, T0 + i * 1000, i] as const));
    expect(store.read(2).map((p) => p.value)).toEqual(Array.from({ length: 100 }, (_, i) => 900 + i));
    // whole chunks, checked when a chunk is sealed: never fewer than 100 points, fewer than 100 + two chunks
    expect(store.storedPoints(2)).toBeGreaterThanOrEqual(100);
    expect(store.storedPoints(2)).toBeLessThan(100 + 2 * 32);
  });

  it('drops chunks older than the retention time behind the newest sample', () => {
    const store = new SampleStore(1_000_000, 16, { chunkPoints: 60, retentionMs: 3_600_000 });
    appendAll(store, Array.from({ length: 6 * 360 }, (_, i) => [0, T0 + i * 10_000, i % 7] as const)); // 6 h at 10 s
    const points = store.read(0);
    expect(points.at(-1)!.timestamp).toBe(T0 + (6 * 360 - 1) * 10_000);
    // one hour plus less than one chunk (10 min) is kept
    expect(points.length).toBeGreaterThanOrEqual(360);
    expect(points.length).toBeLessThanOrEqual(360 + 60);
  });

  it('holds 24 h at 10 s of realistic series in <= 2 bytes a sample', () => {
    const store = new SampleStore(8640, 16);
    const rows: [number, number, number][] = [];
    let counter = 1e6;
    for (let i = 0; i < 8640; i++) {
      const t = T0 + i * 10_000;
      rows.push([0, t, Math.round((40 + 15 * Math.sin(i / 500) + ((i * 7919) % 23) / 3) * 10) / 10]); // noisy gauge, 0.1 resolution
      rows.push([1, t, (counter += 250 + ((i * 31) % 11))]); // counter
      rows.push([2, t, 1]); // constant
    }
    appendAll(store, rows);
    for (const id of [0, 1, 2]) {
      expect(store.read(id)).toHaveLength(8640);
      expect(store.sealedBytes(id) / store.sealedPoints(id)).toBeLessThanOrEqual(2);
    }
  });

  it('keeps the band only for series that get one, next to their points', () => {
    const store = new SampleStore(10_000, 16, { chunkPoints: 8, bandRetentionMs: 100_000 });
    for (let i = 0; i < 40; i++) {
      appendAll(store, [
        [0, T0 + i * 10_000, i],
        [1, T0 + i * 10_000, i],
      ]);
      store.setBand(0, i + 0.5, i - 1, i + 2);
    }
    const banded = store.read(0);
    const plain = store.read(1);
    expect(plain.every((p) => p.expected === undefined)).toBe(true);
    // the newest 100 s keep the band (within 1/1000 of its width in sealed chunks), older points lose it
    const recent = banded.filter((p) => p.timestamp > T0 + 39 * 10_000 - 100_000);
    expect(recent.length).toBeGreaterThan(8);
    for (const p of recent) {
      expect(p.expected).toBeCloseTo(p.value + 0.5, 2);
      expect(p.lower).toBeCloseTo(p.value - 1, 2);
      expect(p.upper).toBeCloseTo(p.value + 2, 2);
    }
    expect(banded[0].expected).toBeUndefined();
    expect(banded.map((p) => p.value)).toEqual(plain.map((p) => p.value));
  });

  it('merges small chunks into big ones without losing a point or a band', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 4, 8), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 50, max: 2000 }), (per, n, points) => {
        const store = new SampleStore(points, 16, { headPoints: 8, chunkPoints: 8 * per, bandRetentionMs: 400_000 });
        const plain = new SampleStore(points, 16, { headPoints: 8, chunkPoints: 8 });
        for (let i = 0; i < n; i++) {
          const row = [[5, T0 + i * 1000, Math.round(Math.sin(i) * 1000) / 100]] as const;
          appendAll(store, row);
          appendAll(plain, row);
          if (i % 3 !== 0) store.setBand(5, i, i - 1, i + 1);
        }
        const merged = store.read(5);
        expect(merged.map((p) => [p.timestamp, p.value])).toEqual(plain.read(5).map((p) => [p.timestamp, p.value]));
        expect(merged).toHaveLength(Math.min(n, points));
        const newest = T0 + (n - 1) * 1000;
        for (const p of merged) {
          const i = (p.timestamp - T0) / 1000;
          if (i % 3 === 0) expect(p.expected).toBeUndefined();
          else if (p.timestamp > newest - 400_000 + 8 * per * 1000) expect([p.expected, p.lower, p.upper]).toEqual([i, i - 1, i + 1]);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('grows page by page: room for 100k series costs the heads, not a doubled array', () => {
    const store = new SampleStore(8640, 0);
    store.ensureSeries(1);
    const onePage = store.bytes;
    store.ensureSeries(100_000);
    expect(store.bytes).toBe(onePage * Math.ceil(100_000 / 1024));
  });
});
