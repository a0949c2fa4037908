/**
 * OTLP/HTTP JSON -> the protobuf `ExportMetricsServiceRequest` bytes that
 * {@link OtlpMetricsTranslator} reads, so both encodings share one translator.
 *
 * Follows the OTLP/HTTP JSON mapping of the specification: lowerCamelCase field names (the
 * snake_case proto names are accepted too), 64-bit integers as decimal strings or numbers, enums
 * as integers (their names are accepted), `bytesValue` as base64. Field numbers are the OTLP
 * specification's; no .proto file is copied. Unknown fields are ignored, as protobuf does.
 * A value of the wrong type throws {@link OtlpJsonError} naming its path.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

export class OtlpJsonError extends Error {}

type Json = Record<string, unknown>;

function field(o: Json, camel: string): unknown {
  if (camel in o) return o[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return o[snake];
}

function obj(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OtlpJsonError(`${path} must be an object`);
  return v as Json;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpJsonError(`${path} must be an array`);
  return v;
}

/** A 64-bit integer as the decimal string BinaryWriter takes (exact beyond 2^53). */
function int64(v: unknown, path: string, signed = false): string {
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'string' && (signed ? /^-?\d+$/ : /^\d+$/).test(v)) return v;
  throw new OtlpJsonError(`${path} must be ${signed ? 'an' : 'a non-negative'} integer or a decimal string (got ${JSON.stringify(v)?.slice(0, 40)})`);
}

function double(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new OtlpJsonError(`${path} must be a number (got ${JSON.stringify(v)?.slice(0, 40)})`);
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new OtlpJsonError(`${path} must be a string`);
  return v;
}

const TEMPORALITY: Record<string, number> = { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 };

function enumValue(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && v in TEMPORALITY) return TEMPORALITY[v];
  throw new OtlpJsonError(`${path} must be an aggregation temporality (1 delta, 2 cumulative)`);
}

function anyValue(w: BinaryWriter, v: unknown, path: string): void {
  const o = obj(v, path);
  const s = field(o, 'stringValue');
  if (s !== undefined) return void w.tag(1, WireType.LengthDelimited).string(str(s, `${path}.stringValue`));
  const b = field(o, 'boolValue');
  if (b !== undefined) {
    if (typeof b !== 'boolean') throw new OtlpJsonError(`${path}.boolValue must be a boolean`);
    return void w.tag(2, WireType.Varint).bool(b);
  }
  const i = field(o, 'intValue');
  if (i !== undefined) return void w.tag(3, WireType.Varint).int64(int64(i, `${path}.intValue`, true));
  const d = field(o, 'doubleValue');
  if (d !== undefined) return void w.tag(4, WireType.Bit64).double(double(d, `${path}.doubleValue`));
  const a = field(o, 'arrayValue');
  if (a !== undefined) {
    w.tag(5, WireType.LengthDelimited).fork();
    list(obj(a, `${path}.arrayValue`).values, `${path}.arrayValue.values`).forEach((x, n) => {
      w.tag(1, WireType.LengthDelimited).fork();
      anyValue(w, x, `${path}.arrayValue.values[${n}]`);
      w.join();
    });
    return void w.join();
  }
  const kv = field(o, 'kvlistValue');
  if (kv !== undefined) {
    w.tag(6, WireType.LengthDelimited).fork();
    keyValues(w, 1, obj(kv, `${path}.kvlistValue`).values, `${path}.kvlistValue.values`);
    return void w.join();
  }
  const bytes = field(o, 'bytesValue');
  if (bytes !== undefined) return void w.tag(7, WireType.LengthDelimited).bytes(Buffer.from(str(bytes, `${path}.bytesValue`), 'base64'));
}

function keyValues(w: BinaryWriter, fieldNo: number, v: unknown, path: string): void {
  list(v, path).forEach((x, n) => {
    const kv = obj(x, `${path}[${n}]`);
    w.tag(fieldNo, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(str(kv.key, `${path}[${n}].key`));
    if (kv.value !== undefined && kv.value !== null) {
      w.tag(2, WireType.LengthDelimited).fork();
      anyValue(w, kv.value, `${path}[${n}].value`);
      w.join();
    }
    w.join();
  });
}

/** Writes the common point fields: attributes at `attrField`, start/time (fixed64 2, 3), flags. */
function pointHeader(w: BinaryWriter, p: Json, path: string, attrField: number, flagsField: number): void {
  keyValues(w, attrField, field(p, 'attributes'), `${path}.attributes`);
  const start = field(p, 'startTimeUnixNano');
  if (start !== undefined) w.tag(2, WireType.Bit64).fixed64(int64(start, `${path}.startTimeUnixNano`));
  const time = field(p, 'timeUnixNano');
  if (time !== undefined) w.tag(3, WireType.Bit64).fixed64(int64(time, `${path}.timeUnixNano`));
  const flags = field(p, 'flags');
  if (flags !== undefined) w.tag(flagsField, WireType.Varint).uint32(Number(int64(flags, `${path}.flags`)));
}

function numberPoint(w: BinaryWriter, p: Json, path: string): void {
  pointHeader(w, p, path, 7, 8);
  const d = field(p, 'asDouble');
  if (d !== undefined) w.tag(4, WireType.Bit64).double(double(d, `${path}.asDouble`));
  const i = field(p, 'asInt');
  if (i !== undefined) w.tag(6, WireType.Bit64).sfixed64(int64(i, `${path}.asInt`, true));
}

function countSum(w: BinaryWriter, p: Json, path: string): void {
  const count = field(p, 'count');
  if (count !== undefined) w.tag(4, WireType.Bit64).fixed64(int64(count, `${path}.count`));
  const sum = field(p, 'sum');
  if (sum !== undefined) w.tag(5, WireType.Bit64).double(double(sum, `${path}.sum`));
}

function histogramPoint(w: BinaryWriter, p: Json, path: string): void {
  pointHeader(w, p, path, 9, 10);
  countSum(w, p, path);
  const counts = list(field(p, 'bucketCounts'), `${path}.bucketCounts`);
  if (counts.length) {
    w.tag(6, WireType.LengthDelimited).fork();
    counts.forEach((c, n) => w.fixed64(int64(c, `${path}.bucketCounts[${n}]`)));
    w.join();
  }
  const bounds = list(field(p, 'explicitBounds'), `${path}.explicitBounds`);
  if (bounds.length) {
    w.tag(7, WireType.LengthDelimited).fork();
    bounds.forEach((b, n) => w.double(double(b, `${path}.explicitBounds[${n}]`)));
    w.join();
  }
  const min = field(p, 'min');
  if (min !== undefined) w.tag(11, WireType.Bit64).double(double(min, `${path}.min`));
  const max = field(p, 'max');
  if (max !== undefined) w.tag(12, WireType.Bit64).double(double(max, `${path}.max`));
}

function buckets(w: BinaryWriter, fieldNo: number, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const b = obj(v, path);
  w.tag(fieldNo, WireType.LengthDelimited).fork();
  const offset = field(b, 'offset');
  if (offset !== undefined) w.tag(1, WireType.Varint).sint32(Number(int64(offset, `${path}.offset`, true)));
  const counts = list(field(b, 'bucketCounts'), `${path}.bucketCounts`);
  if (counts.length) {
    w.tag(2, WireType.LengthDelimited).fork();
    counts.forEach((c, n) => w.uint64(int64(c, `${path}.bucketCounts[${n}]`)));
    w.join();
  }
  w.join();
}

function exponentialPoint(w: BinaryWriter, p: Json, path: string): void {
  pointHeader(w, p, path, 1, 10);
  countSum(w, p, path);
  const scale = field(p, 'scale');
  if (scale !== undefined) w.tag(6, WireType.Varint).sint32(Number(int64(scale, `${path}.scale`, true)));
  const zero = field(p, 'zeroCount');
  if (zero !== undefined) w.tag(7, WireType.Bit64).fixed64(int64(zero, `${path}.zeroCount`));
  buckets(w, 8, field(p, 'positive'), `${path}.positive`);
  buckets(w, 9, field(p, 'negative'), `${path}.negative`);
  const min = field(p, 'min');
  if (min !== undefined) w.tag(12, WireType.Bit64).double(double(min, `${path}.min`));
  const max = field(p, 'max');
  if (max !== undefined) w.tag(13, WireType.Bit64).double(double(max, `${path}.max`));
  const zt = field(p, 'zeroThreshold');
  if (zt !== undefined) w.tag(14, WireType.Bit64).double(double(zt, `${path}.zeroThreshold`));
}

function summaryPoint(w: BinaryWriter, p: Json, path: string): void {
  pointHeader(w, p, path, 7, 8);
  countSum(w, p, path);
  list(field(p, 'quantileValues'), `${path}.quantileValues`).forEach((q, n) => {
    const qv = obj(q, `${path}.quantileValues[${n}]`);
    w.tag(6, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Bit64).double(double(field(qv, 'quantile') ?? 0, `${path}.quantileValues[${n}].quantile`));
    w.tag(2, WireType.Bit64).double(double(field(qv, 'value') ?? 0, `${path}.quantileValues[${n}].value`));
    w.join();
  });
}

/** One data kind: its Metric field number, point writer and whether it has temporality/monotonic. */
const KINDS: readonly [string, number, (w: BinaryWriter, p: Json, path: string) => void][] = [
  ['gauge', 5, numberPoint],
  ['sum', 7, numberPoint],
  ['histogram', 9, histogramPoint],
  ['exponentialHistogram', 10, exponentialPoint],
  ['summary', 11, summaryPoint],
];

function metric(w: BinaryWriter, m: Json, path: string): void {
  w.tag(1, WireType.LengthDelimited).string(str(m.name ?? '', `${path}.name`));
  if (m.description !== undefined) w.tag(2, WireType.LengthDelimited).string(str(m.description, `${path}.description`));
  if (m.unit !== undefined) w.tag(3, WireType.LengthDelimited).string(str(m.unit, `${path}.unit`));
  for (const [name, fieldNo, point] of KINDS) {
    const data = field(m, name);
    if (data === undefined || data === null) continue;
    const d = obj(data, `${path}.${name}`);
    w.tag(fieldNo, WireType.LengthDelimited).fork();
    list(field(d, 'dataPoints'), `${path}.${name}.dataPoints`).forEach((p, n) => {
      w.tag(1, WireType.LengthDelimited).fork();
      point(w, obj(p, `${path}.${name}.dataPoints[${n}]`), `${path}.${name}.dataPoints[${n}]`);
      w.join();
    });
    const temporality = field(d, 'aggregationTemporality');
    if (temporality !== undefined && name !== 'gauge' && name !== 'summary') w.tag(2, WireType.Varint).int32(enumValue(temporality, `${path}.${name}.aggregationTemporality`));
    const monotonic = field(d, 'isMonotonic');
    if (name === 'sum' && monotonic !== undefined) w.tag(3, WireType.Varint).bool(monotonic === true);
    w.join();
  }
}

/** Encodes an OTLP/HTTP JSON ExportMetricsServiceRequest as protobuf. Throws OtlpJsonError. */
export function otlpJsonToProtobuf(request: unknown): Uint8Array {
  const root = obj(request, 'request');
  const w = new BinaryWriter();
  list(field(root, 'resourceMetrics'), 'resourceMetrics').forEach((rm, i) => {
    const at = `resourceMetrics[${i}]`;
    const r = obj(rm, at);
    w.tag(1, WireType.LengthDelimited).fork();
    const resource = field(r, 'resource');
    if (resource !== undefined && resource !== null) {
      w.tag(1, WireType.LengthDelimited).fork();
      keyValues(w, 1, obj(resource, `${at}.resource`).attributes, `${at}.resource.attributes`);
      w.join();
    }
    list(field(r, 'scopeMetrics'), `${at}.scopeMetrics`).forEach((sm, j) => {
      const sat = `${at}.scopeMetrics[${j}]`;
      w.tag(2, WireType.LengthDelimited).fork();
      list(obj(sm, sat).metrics, `${sat}.metrics`).forEach((m, k) => {
        w.tag(2, WireType.LengthDelimited).fork();
        metric(w, obj(m, `${sat}.metrics[${k}]`), `${sat}.metrics[${k}]`);
        w.join();
      });
      w.join();
    });
    w.join();
  });
  return w.finish();
}
