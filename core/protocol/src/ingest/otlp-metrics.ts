/**
 * OTLP metrics -> Sextant series and samples.
 *
 * The request (`opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest`) is decoded
 * by code generated from our own .proto of the OTLP messages we accept
 * (proto/sextant/otlp/v1/metrics.proto, written from the specification's field numbers; no
 * upstream .proto is copied): no installed npm package ships a decoder for OTLP *requests*
 * (@opentelemetry/otlp-transformer only encodes them, and is what the tests use to produce real
 * requests).
 *
 * Conversion rules (one Sextant series per metric + resource + point attributes):
 * - Gauge -> `gauge`.
 * - Sum, monotonic, cumulative -> `counter` (the raw total; consumers handle resets, as for every
 *   Sextant counter). Sum, monotonic, delta -> `rate`: value / interval in seconds, unit `<unit>/s`.
 *   Non-monotonic sums (up-down counters) -> `gauge`.
 * - Histogram and exponential histogram -> `<name>.count` and `<name>.sum` (counter when
 *   cumulative, rate when delta), `<name>.min` and `<name>.max` gauges when the point carries them
 *   (for cumulative points they span the point's whole start..time interval, as the sender
 *   reports them), and `<name>.p50`, `.p90`, `.p99` gauges estimated by linear interpolation inside
 *   the buckets. For cumulative histograms the quantiles describe the interval since the previous
 *   export of the same series (bucket deltas), not the whole lifetime. Exponential buckets are
 *   expanded to their bounds (base 2^(2^-scale)); the zero bucket is a bucket at exactly 0, so a
 *   quantile that falls in it is 0; the estimate is clamped to min/max when present.
 * - Summary (always cumulative) -> `<name>.count` and `<name>.sum` counters and one gauge per
 *   reported quantile (`<name>.p95`; quantile 0 is `.p0`, the minimum; 1 is `.p100`, the maximum).
 * - Resource attributes become the series' resource unchanged (arrays and maps as JSON text,
 *   bytes as base64); point attributes become its attributes.
 * - Points flagged "no recorded value", with non-finite times, or whose series would pass the
 *   per-source series limit are counted in `rejectedPoints`, never stored.
 */
import { estimateQuantile, HISTOGRAM_QUANTILES } from '@sextant/plugin-kit';
import type { AttributeValue, Attributes, MetricKind, MetricType, SampleBatch, SeriesDescriptor } from '@sextant/plugin-api';
import {
  AggregationTemporality,
  DataPointFlags,
  ExportMetricsServiceRequest,
  ExportMetricsServiceResponse,
  type AnyValue,
  type ExponentialHistogramDataPoint,
  type ExponentialHistogramDataPoint_Buckets,
  type HistogramDataPoint,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  type ResourceMetrics,
  type SummaryDataPoint,
} from '../gen/sextant/otlp/v1/metrics.js';
import type { SeriesDefinition } from './ingest-codec.js';
import { WireFormatError } from './protobuf-wire.js';


const TIME_UNITS: ReadonlySet<string> = new Set(['s', 'ms', 'us', 'ns', 'min', 'h']);

const AGGREGATION_TEMPORALITY_DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
const AGGREGATION_TEMPORALITY_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;
const FLAG_NO_RECORDED_VALUE = DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK;

export interface OtlpTranslation {
  /** Series seen for the first time in this request, with their source-local ids. */
  readonly newSeries: SeriesDefinition[];
  /** Samples with source-local series ids; valid until the next translate(). */
  readonly batch: SampleBatch;
  readonly rejectedPoints: number;
  /** Why points were rejected (first few reasons), for the partial-success message. */
  readonly rejectReasons: string[];
}

/** Decoded histogram-like point, in a shape shared by explicit and exponential histograms. */
interface BucketPoint {
  lowers: number[];
  uppers: number[];
  counts: number[];
}

interface ScopeContext {
  readonly resource: Attributes;
  readonly resourceKey: string;
}

/**
 * Translates OTLP requests of one source (one sending peer). Keeps per-source state: the series
 * table (bounded by `maxSeries`) and the previous bucket counts of cumulative histograms.
 */
export class OtlpMetricsTranslator {
  private readonly ids = new Map<string, number>();
  private readonly previousBuckets = new Map<number, BucketPoint>();
  private nextLocalId = 0;
  private seriesCol = new Uint32Array(256);
  private timestampsCol = new Float64Array(256);
  private valuesCol = new Float64Array(256);
  private length = 0;
  private newSeries: SeriesDefinition[] = [];
  private rejected = 0;
  private reasons: string[] = [];

  constructor(private readonly maxSeries = 100_000) {}

  get seriesCount(): number {
    return this.ids.size;
  }

  /** Throws WireFormatError when the request is not valid protobuf. */
  translate(bytes: Uint8Array): OtlpTranslation {
    this.length = 0;
    this.newSeries = [];
    this.rejected = 0;
    this.reasons = [];
    let request: ExportMetricsServiceRequest;
    try {
      request = ExportMetricsServiceRequest.decode(bytes);
    } catch (error) {
      throw new WireFormatError(`not an OTLP ExportMetricsServiceRequest: ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const rm of request.resourceMetrics) this.resourceMetrics(rm);
    return {
      newSeries: this.newSeries,
      batch: { length: this.length, series: this.seriesCol, timestamps: this.timestampsCol, values: this.valuesCol },
      rejectedPoints: this.rejected,
      rejectReasons: this.reasons,
    };
  }

  private reject(count: number, reason: string): void {
    this.rejected += count;
    if (this.reasons.length < 5 && !this.reasons.includes(reason)) this.reasons.push(reason);
  }

  private resourceMetrics(rm: ResourceMetrics): void {
    const resource = attributesOf(rm.resource?.attributes ?? []);
    const ctx: ScopeContext = { resource, resourceKey: stableKey(resource) };
    for (const scope of rm.scopeMetrics) for (const metric of scope.metrics) this.metric(metric, ctx);
  }

  private metric(m: Metric, ctx: ScopeContext): void {
    if (!m.gauge && !m.sum && !m.histogram && !m.exponentialHistogram && !m.summary) return;
    if (!m.name) {
      this.reject(1, 'metric without a name');
      return;
    }
    const meta = { name: m.name, description: m.description, unit: m.unit, ctx };
    if (m.gauge) for (const p of m.gauge.dataPoints) this.numberPoint(p, meta, 'gauge');
    else if (m.sum) {
      const treatment: NumberTreatment = !m.sum.isMonotonic ? 'gauge' : m.sum.aggregationTemporality === AGGREGATION_TEMPORALITY_DELTA ? 'rate' : 'counter';
      for (const p of m.sum.dataPoints) this.numberPoint(p, meta, treatment);
    } else if (m.histogram) {
      for (const p of m.histogram.dataPoints) {
        // n bounds make n + 1 buckets; no counts at all is allowed (count and sum only)
        if (p.bucketCounts.length > 0 && p.bucketCounts.length !== p.explicitBounds.length + 1) {
          this.reject(1, `${meta.name}: ${p.bucketCounts.length} bucket counts for ${p.explicitBounds.length} bounds`);
          continue;
        }
        this.histogramPoint(explicitHistogramPoint(p), meta, m.histogram.aggregationTemporality);
      }
    } else if (m.exponentialHistogram) {
      for (const p of m.exponentialHistogram.dataPoints) this.histogramPoint(exponentialHistogramPoint(p), meta, m.exponentialHistogram.aggregationTemporality);
    } else if (m.summary) {
      for (const p of m.summary.dataPoints) this.summaryPoint(p, meta);
    }
  }

  private numberPoint(p: NumberDataPoint, meta: MetricMeta, treatment: NumberTreatment): void {
    if (p.flags & FLAG_NO_RECORDED_VALUE) return;
    const attrs = attributesOf(p.attributes);
    const value = p.asDouble ?? (p.asInt !== undefined ? Number(p.asInt) : Number.NaN);
    const timestamp = nanosToMillis(p.timeUnixNano);
    if (!(timestamp > 0)) {
      this.reject(1, `${meta.name}: point without a time`);
      return;
    }
    if (treatment === 'rate') {
      const seconds = Number(p.timeUnixNano - p.startTimeUnixNano) / 1e9;
      if (!(seconds > 0)) {
        this.reject(1, `${meta.name}: delta point with an empty interval`);
        return;
      }
      const id = this.seriesId(meta.name, rateUnit(meta.unit), 'rate', meta, attrs);
      if (id >= 0) this.push(id, timestamp, value / seconds);
      return;
    }
    const id = this.seriesId(meta.name, meta.unit, treatment, meta, attrs);
    if (id >= 0) this.push(id, timestamp, value);
  }

  private histogramPoint(point: HistogramPoint, meta: MetricMeta, temporality: number): void {
    if (point.flags & FLAG_NO_RECORDED_VALUE) return;
    const timestamp = nanosToMillis(point.timeNs);
    if (!(timestamp > 0)) {
      this.reject(1, `${meta.name}: point without a time`);
      return;
    }
    const delta = temporality === AGGREGATION_TEMPORALITY_DELTA;
    const seconds = Number(point.timeNs - point.startNs) / 1e9;
    if (delta && !(seconds > 0)) {
      this.reject(1, `${meta.name}: delta point with an empty interval`);
      return;
    }
    const totalType: MetricType = delta ? 'rate' : 'counter';
    const countId = this.seriesId(`${meta.name}.count`, delta ? '{count}/s' : '{count}', totalType, meta, point.attrs);
    if (countId < 0) return;
    this.push(countId, timestamp, delta ? point.count / seconds : point.count);
    if (point.sum !== undefined) {
      const sumId = this.seriesId(`${meta.name}.sum`, delta ? rateUnit(meta.unit) : meta.unit, totalType, meta, point.attrs);
      if (sumId >= 0) this.push(sumId, timestamp, delta ? point.sum / seconds : point.sum);
    }
    // Quantiles over this interval: for cumulative points, the bucket increase since the last one.
    let counts = point.buckets.counts;
    if (temporality === AGGREGATION_TEMPORALITY_CUMULATIVE) {
      const previous = this.previousBuckets.get(countId);
      const increase = previous ? bucketIncrease(previous, point.buckets) : undefined;
      if (increase) counts = increase; // else the first point, or a reset: use the new totals
      this.previousBuckets.set(countId, { lowers: point.buckets.lowers.slice(), uppers: point.buckets.uppers.slice(), counts: point.buckets.counts.slice() });
    }
    const kind: MetricKind | undefined = TIME_UNITS.has(meta.unit) ? 'latency' : undefined;
    for (const [suffix, value] of [['min', point.min], ['max', point.max]] as const) {
      if (value === undefined || !Number.isFinite(value)) continue;
      const id = this.seriesId(`${meta.name}.${suffix}`, meta.unit, 'gauge', meta, point.attrs, kind);
      if (id >= 0) this.push(id, timestamp, value);
    }
    for (const q of HISTOGRAM_QUANTILES) {
      const estimate = estimateQuantile(point.buckets.lowers, point.buckets.uppers, counts, q, point.min, point.max);
      if (Number.isNaN(estimate)) continue;
      const id = this.seriesId(`${meta.name}.${quantileSuffix(q)}`, meta.unit, 'gauge', meta, point.attrs, kind);
      if (id >= 0) this.push(id, timestamp, estimate);
    }
  }

  /** proto3 leaves out zeros: an absent quantile or value is 0 (the minimum, or a value of 0). */
  private summaryPoint(p: SummaryDataPoint, meta: MetricMeta): void {
    if (p.flags & FLAG_NO_RECORDED_VALUE) return;
    const timestamp = nanosToMillis(p.timeUnixNano);
    if (!(timestamp > 0)) {
      this.reject(1, `${meta.name}: point without a time`);
      return;
    }
    const attrs = attributesOf(p.attributes);
    const countId = this.seriesId(`${meta.name}.count`, '{count}', 'counter', meta, attrs);
    if (countId >= 0) this.push(countId, timestamp, Number(p.count));
    const sumId = this.seriesId(`${meta.name}.sum`, meta.unit, 'counter', meta, attrs);
    if (sumId >= 0) this.push(sumId, timestamp, p.sum);
    for (const { quantile, value } of p.quantileValues) {
      const id = this.seriesId(`${meta.name}.${quantileSuffix(quantile)}`, meta.unit, 'gauge', meta, attrs);
      if (id >= 0) this.push(id, timestamp, value);
    }
  }

  /** Source-local id of a series, interning it on first sight; -1 when over the series limit. */
  private seriesId(metric: string, unit: string, type: MetricType, meta: MetricMeta, attrs: Attributes, kind?: MetricKind): number {
    const key = `${metric}\u0000${type}\u0000${meta.ctx.resourceKey}\u0000${stableKey(attrs)}`;
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    if (this.ids.size >= this.maxSeries) {
      this.reject(1, `series limit of ${this.maxSeries} per source reached`);
      return -1;
    }
    const id = this.nextLocalId++;
    this.ids.set(key, id);
    const descriptor: SeriesDescriptor = {
      metric,
      unit,
      type,
      ...(kind ? { kind } : {}),
      ...(meta.description ? { description: meta.description } : {}),
      resource: meta.ctx.resource,
      attributes: { ...attrs },
    };
    this.newSeries.push({ localId: id, descriptor });
    return id;
  }

  private push(id: number, timestamp: number, value: number): void {
    if (this.length === this.seriesCol.length) {
      const size = this.length * 2;
      const s = new Uint32Array(size);
      s.set(this.seriesCol);
      const t = new Float64Array(size);
      t.set(this.timestampsCol);
      const v = new Float64Array(size);
      v.set(this.valuesCol);
      this.seriesCol = s;
      this.timestampsCol = t;
      this.valuesCol = v;
    }
    this.seriesCol[this.length] = id;
    this.timestampsCol[this.length] = timestamp;
    this.valuesCol[this.length] = value;
    this.length++;
  }
}

type NumberTreatment = 'gauge' | 'counter' | 'rate';

interface MetricMeta {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly ctx: ScopeContext;
}

interface HistogramPoint {
  attrs: Record<string, AttributeValue>;
  startNs: bigint;
  timeNs: bigint;
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  flags: number;
  buckets: BucketPoint;
}

/** Nanoseconds since the epoch (64-bit) -> milliseconds, exact to the microsecond. */
function nanosToMillis(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

function explicitHistogramPoint(p: HistogramDataPoint): HistogramPoint {
  const point: HistogramPoint = {
    attrs: attributesOf(p.attributes),
    startNs: p.startTimeUnixNano,
    timeNs: p.timeUnixNano,
    count: Number(p.count),
    sum: p.sum,
    min: p.min,
    max: p.max,
    flags: p.flags,
    buckets: { lowers: [], uppers: [], counts: [] },
  };
  const bounds = p.explicitBounds;
  // bucket i covers (bounds[i-1], bounds[i]]; the first starts at -Infinity, the last ends at +Infinity.
  if (p.bucketCounts.length === bounds.length + 1) {
    for (let i = 0; i < p.bucketCounts.length; i++) {
      point.buckets.lowers.push(i === 0 ? Number.NEGATIVE_INFINITY : bounds[i - 1]!);
      point.buckets.uppers.push(i === bounds.length ? Number.POSITIVE_INFINITY : bounds[i]!);
      point.buckets.counts.push(Number(p.bucketCounts[i]!));
    }
  }
  return point;
}

function exponentialHistogramPoint(p: ExponentialHistogramDataPoint): HistogramPoint {
  const point: HistogramPoint = {
    attrs: attributesOf(p.attributes),
    startNs: p.startTimeUnixNano,
    timeNs: p.timeUnixNano,
    count: Number(p.count),
    sum: p.sum,
    min: p.min,
    max: p.max,
    flags: p.flags,
    buckets: { lowers: [], uppers: [], counts: [] },
  };
  const none: ExponentialHistogramDataPoint_Buckets = { offset: 0, bucketCounts: [] };
  const positive = p.positive ?? none;
  const negative = p.negative ?? none;
  const zeroCount = Number(p.zeroCount);
  // bucket index i covers (base^i, base^(i+1)] with base = 2^(2^-scale); negatives mirror it.
  const base = 2 ** (2 ** -p.scale);
  const b = point.buckets;
  for (let k = negative.bucketCounts.length - 1; k >= 0; k--) {
    const i = negative.offset + k;
    b.lowers.push(-(base ** (i + 1)));
    b.uppers.push(-(base ** i));
    b.counts.push(Number(negative.bucketCounts[k]!));
  }
  if (zeroCount > 0) {
    b.lowers.push(0);
    b.uppers.push(0);
    b.counts.push(zeroCount);
  }
  for (let k = 0; k < positive.bucketCounts.length; k++) {
    const i = positive.offset + k;
    b.lowers.push(base ** i);
    b.uppers.push(base ** (i + 1));
    b.counts.push(Number(positive.bucketCounts[k]!));
  }
  return point;
}

/** a <= b, allowing for the rounding of bucket bounds computed at different exponential scales. */
function atMost(a: number, b: number): boolean {
  return a <= b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Per-bucket increase from `previous` to `current` (both cumulative, buckets ascending), in the
 * buckets of `current`; undefined after a reset (a count went down) or when a previous bucket fits
 * in no current bucket. Buckets are matched by their bounds, not their position: an exponential
 * histogram's offset moves and its scale drops (2^k old buckets merge into one) as new values
 * widen its range, so the same index can mean another range from one export to the next.
 */
function bucketIncrease(previous: BucketPoint, current: BucketPoint): number[] | undefined {
  const increase = current.counts.slice();
  let j = 0;
  for (let k = 0; k < previous.counts.length; k++) {
    const count = previous.counts[k]!;
    if (count === 0) continue;
    const lower = previous.lowers[k]!;
    const upper = previous.uppers[k]!;
    while (j < current.uppers.length && !atMost(upper, current.uppers[j]!)) j++;
    if (j === current.uppers.length || !atMost(current.lowers[j]!, lower)) return undefined;
    // the zero bucket [0, 0] only matches the zero bucket, never a positive one starting near 0
    if (lower === 0 && upper === 0 && !(current.lowers[j] === 0 && current.uppers[j] === 0)) return undefined;
    increase[j]! -= count;
    if (increase[j]! < 0) return undefined;
  }
  return increase;
}

/** `0.5` -> `p50`, `0.99` -> `p99`, `0.999` -> `p99_9`. */
export function quantileSuffix(q: number): string {
  const pct = Math.round(q * 100 * 1000) / 1000;
  return `p${String(pct).replace('.', '_')}`;
}

function rateUnit(unit: string): string {
  return unit && unit !== '1' ? `${unit}/s` : '1/s';
}

function stableKey(attrs: Attributes): string {
  const keys = Object.keys(attrs).sort();
  let out = '';
  for (const k of keys) out += `${k}\u0001${String(attrs[k])}\u0002`;
  return out;
}

/** OTLP attributes -> Sextant attributes; arrays and maps become JSON text, bytes base64. */
function attributesOf(list: readonly KeyValue[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list) {
    if (!kv.key || !kv.value) continue;
    const json = anyValueAsJson(kv.value);
    if (json === undefined || json === null) continue;
    out[kv.key] = typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean' ? json : JSON.stringify(json);
  }
  return out;
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function anyValueAsJson(v: AnyValue): JsonValue | undefined {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return v.arrayValue.values.map((x) => anyValueAsJson(x) ?? null);
  if (v.kvlistValue !== undefined) {
    const obj: { [key: string]: JsonValue } = {};
    for (const kv of v.kvlistValue.values) obj[kv.key] = kv.value ? (anyValueAsJson(kv.value) ?? null) : null;
    return obj;
  }
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue).toString('base64');
  return undefined;
}

/**
 * ExportMetricsServiceResponse: empty on full success, else `partial_success` (field 1) with
 * `rejected_data_points` (1) and `error_message` (2).
 */
export function encodeOtlpExportResponse(rejectedPoints: number, errorMessage: string): Buffer {
  if (rejectedPoints <= 0 && !errorMessage) return Buffer.alloc(0);
  const bytes = ExportMetricsServiceResponse.encode({ partialSuccess: { rejectedDataPoints: BigInt(Math.max(0, Math.floor(rejectedPoints))), errorMessage } }).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
