/** The wire encodings: columnar samples and JSON fields, including malformed and non-finite input. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SampleColumnsWriter, readSampleColumns } from '../src/sample-columns.js';
import { descriptorFromWire, descriptorToWire } from '../src/series-wire.js';
import { fromWireJson, toWireJson } from '../src/wire-json.js';
import { SampleColumns } from '../src/gen/sextant/plugin/v1/plugin.js';

describe('sample columns', () => {
  it('round-trip any samples through protobuf bytes, NaN and Infinity included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2 ** 32 - 1), fc.double(), fc.double()), { maxLength: 700 }), (samples) => {
        const writer = new SampleColumnsWriter();
        for (const [s, t, v] of samples) writer.push(s, t, v);
        const decoded = readSampleColumns(SampleColumns.decode(SampleColumns.encode(writer.take()).finish()))!;
        expect(decoded.length).toBe(samples.length);
        expect(Array.from(decoded.series.subarray(0, decoded.length))).toEqual(samples.map((x) => x[0]));
        expect(Array.from(decoded.timestamps.subarray(0, decoded.length))).toEqual(samples.map((x) => x[1]));
        expect(Array.from(decoded.values.subarray(0, decoded.length))).toEqual(samples.map((x) => x[2]));
        expect(writer.length).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('reads unaligned buffers correctly', () => {
    const writer = new SampleColumnsWriter();
    writer.push(7, 1.5, -2.25);
    const cols = writer.take();
    const shift = (b: Buffer) => Buffer.from(Buffer.concat([Buffer.alloc(3), b]).subarray(3));
    const odd = { count: 1, series: shift(cols.series), timestamps: Buffer.concat([Buffer.alloc(1), cols.timestamps]).subarray(1), values: shift(cols.values) };
    const decoded = readSampleColumns(odd)!;
    expect([decoded.series[0], decoded.timestamps[0], decoded.values[0]]).toEqual([7, 1.5, -2.25]);
  });

  it('refuses columns whose byte lengths do not match the count, instead of reading past them', () => {
    const writer = new SampleColumnsWriter();
    writer.push(1, 2, 3);
    const cols = writer.take();
    expect(readSampleColumns({ ...cols, count: 2 })).toBeUndefined();
    expect(readSampleColumns({ ...cols, values: cols.values.subarray(0, 5) })).toBeUndefined();
    expect(readSampleColumns({ ...cols, count: 2 ** 31 })).toBeUndefined();
  });
});

describe('JSON fields', () => {
  it('keep NaN and infinities, which plain JSON turns into null', () => {
    const anomaly = { expected: Number.NaN, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY, value: 3, nested: [Number.NaN] };
    const back = fromWireJson<typeof anomaly>(toWireJson(anomaly));
    expect(back.expected).toBeNaN();
    expect(back.lower).toBe(Number.NEGATIVE_INFINITY);
    expect(back.upper).toBe(Number.POSITIVE_INFINITY);
    expect(back.nested[0]).toBeNaN();
    expect(back.value).toBe(3);
  });

  it('throw on malformed JSON (callers count it) and read "" as undefined', () => {
    expect(() => fromWireJson('{"a":')).toThrow(SyntaxError);
    expect(fromWireJson('')).toBeUndefined();
  });

  it('carry series descriptors with typed attributes', () => {
    const d = { metric: 'm', unit: 'By', type: 'gauge' as const, kind: 'memory' as const, resource: { 'container.id': 'abc', pid: 7 }, attributes: { up: true, state: 'used' } };
    expect(descriptorFromWire(descriptorToWire(d))).toEqual(d);
    expect(descriptorFromWire(undefined)).toBeUndefined();
  });
});
