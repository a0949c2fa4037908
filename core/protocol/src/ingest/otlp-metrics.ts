/**
 * OTLP metrics -> Sextant series and samples.
 *
 * The request (`opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest`) is decoded
 * straight from the protobuf wire format with the field numbers of the OTLP specification: no
 * installed npm package ships a decoder for OTLP *requests* (@opentelemetry/otlp-transformer only
 * encodes them, and is what the tests use to produce real requests). No .proto file is copied.
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
import type { AttributeValue, Attributes, MetricKind, MetricType, SampleBatch, SeriesDescriptor } from '@sextant/plugin-api';
import type { SeriesDefinition } from './ingest-codec.js';
import { ProtoReader, ProtoWriter, WireType } from './protobuf-wire.js';

/** Quantiles estimated from histogram buckets. */
export const HISTOGRAM_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];

const TIME_UNITS: ReadonlySet<string> = new Set(['s', 'ms', 'us', 'ns', 'min', 'h']);

const AGGREGATION_TEMPORALITY_DELTA = 1;
const AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
const FLAG_NO_RECORDED_VALUE = 1;

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
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const tag = r.tag();
      if (tag === ((1 << 3) | WireType.LEN)) this.resourceMetrics(r.sub());
      else r.skip(tag & 7);
    }
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

  private resourceMetrics(r: ProtoReader): void {
    let resource: Attributes = {};
    const scopes: ProtoReader[] = [];
    while (!r.done) {
      const tag = r.tag();
      if (tag === ((1 << 3) | WireType.LEN)) {
        const res = r.sub();
        const attrs: Record<string, AttributeValue> = {};
        while (!res.done) {
          const t = res.tag();
          if (t === ((1 << 3) | WireType.LEN)) readKeyValue(res.sub(), attrs);
          else res.skip(t & 7);
        }
        resource = attrs;
      } else if (tag === ((2 << 3) | WireType.LEN)) scopes.push(r.sub());
      else r.skip(tag & 7);
    }
    // The resource may come after the scopes on the wire: read it first, then the scopes.
    const ctx: ScopeContext = { resource, resourceKey: stableKey(resource) };
    for (const scope of scopes) {
      while (!scope.done) {
        const tag = scope.tag();
        if (tag === ((2 << 3) | WireType.LEN)) this.metric(scope.sub(), ctx);
        else scope.skip(tag & 7);
      }
    }
  }

  private metric(r: ProtoReader, ctx: ScopeContext): void {
    let name = '';
    let description = '';
    let unit = '';
    let data: ProtoReader | undefined;
    let dataField = 0;
    while (!r.done) {
      const tag = r.tag();
      const field = tag >>> 3;
      if (tag === ((1 << 3) | WireType.LEN)) name = r.string();
      else if (tag === ((2 << 3) | WireType.LEN)) description = r.string();
      else if (tag === ((3 << 3) | WireType.LEN)) unit = r.string();
      else if ((field === 5 || field === 7 || field === 9 || field === 10 || field === 11) && (tag & 7) === WireType.LEN) {
        data = r.sub();
        dataField = field;
      } else r.skip(tag & 7);
    }
    if (!data) return;
    if (!name) {
      this.reject(1, 'metric without a name');
      return;
    }
    const meta = { name, description, unit, ctx };
    if (dataField === 5) this.numberData(data, meta, 'gauge');
    else if (dataField === 7) this.sumData(data, meta);
    else if (dataField === 9 || dataField === 10) this.histogramData(data, meta, dataField === 10);
    else this.summaryData(data, meta);
  }

  private sumData(r: ProtoReader, meta: MetricMeta): void {
    let temporality = 0;
    let monotonic = false;
    const points: ProtoReader[] = [];
    while (!r.done) {
      const tag = r.tag();
      if (tag === ((1 << 3) | WireType.LEN)) points.push(r.sub());
      else if (tag === ((2 << 3) | WireType.VARINT)) temporality = r.varint32();
      else if (tag === ((3 << 3) | WireType.VARINT)) monotonic = r.bool();
      else r.skip(tag & 7);
    }
    const treatment: NumberTreatment = !monotonic ? 'gauge' : temporality === AGGREGATION_TEMPORALITY_DELTA ? 'rate' : 'counter';
    for (const p of points) this.numberPoint(p, meta, treatment);
  }

  private numberData(r: ProtoReader, meta: MetricMeta, treatment: NumberTreatment): void {
    while (!r.done) {
      const tag = r.tag();
      if (tag === ((1 << 3) | WireType.LEN)) this.numberPoint(r.sub(), meta, treatment);
      else r.skip(tag & 7);
    }
  }

  private numberPoint(r: ProtoReader, meta: MetricMeta, treatment: NumberTreatment): void {
    const attrs: Record<string, AttributeValue> = {};
    let startNs = 0;
    let timeNs = 0;
    let value = Number.NaN;
    let flags = 0;
    while (!r.done) {
      const tag = r.tag();
      switch (tag) {
        case (7 << 3) | WireType.LEN:
          readKeyValue(r.sub(), attrs);
          break;
        case (2 << 3) | WireType.I64:
          startNs = r.fixed64();
          break;
        case (3 << 3) | WireType.I64:
          timeNs = r.fixed64();
          break;
        case (4 << 3) | WireType.I64:
          value = r.double();
          break;
        case (6 << 3) | WireType.I64:
          value = r.sfixed64();
          break;
        case (8 << 3) | WireType.VARINT:
          flags = r.varint32();
          break;
        default:
          r.skip(tag & 7);
      }
    }
    if (flags & FLAG_NO_RECORDED_VALUE) return;
    const timestamp = timeNs / 1e6;
    if (!(timestamp > 0)) {
      this.reject(1, `${meta.name}: point without a time`);
      return;
    }
    if (treatment === 'rate') {
      const seconds = (timeNs - startNs) / 1e9;
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

  private histogramData(r: ProtoReader, meta: MetricMeta, exponential: boolean): void {
    let temporality = 0;
    const points: ProtoReader[] = [];
    while (!r.done) {
      const tag = r.tag();
      if (tag === ((1 << 3) | WireType.LEN)) points.push(r.sub());
      else if (tag === ((2 << 3) | WireType.VARINT)) temporality = r.varint32();
      else r.skip(tag & 7);
    }
    for (const p of points) {
      const point = exponential ? readExponentialHistogramPoint(p) : readHistogramPoint(p);
      this.histogramPoint(point, meta, temporality);
    }
  }

  private histogramPoint(point: HistogramPoint, meta: MetricMeta, temporality: number): void {
    if (point.flags & FLAG_NO_RECORDED_VALUE) return;
    const timestamp = point.timeNs / 1e6;
    if (!(timestamp > 0)) {
      this.reject(1, `${meta.name}: point without a time`);
      return;
    }
    const delta = temporality === AGGREGATION_TEMPORALITY_DELTA;
    const seconds = (point.timeNs - point.startNs) / 1e9;
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

  private summaryData(r: ProtoReader, meta: MetricMeta): void {
    while (!r.done) {
      const tag = r.tag();
      if (tag !== ((1 << 3) | WireType.LEN)) {
        r.skip(tag & 7);
        continue;
      }
      const p = r.sub();
      const attrs: Record<string, AttributeValue> = {};
      let timeNs = 0;
      let count = 0;
      let sum = 0;
      let flags = 0;
      const quantiles: Array<[number, number]> = [];
      while (!p.done) {
        const t = p.tag();
        if (t === ((7 << 3) | WireType.LEN)) readKeyValue(p.sub(), attrs);
        else if (t === ((3 << 3) | WireType.I64)) timeNs = p.fixed64();
        else if (t === ((4 << 3) | WireType.I64)) count = p.fixed64();
        else if (t === ((5 << 3) | WireType.I64)) sum = p.double();
        else if (t === ((8 << 3) | WireType.VARINT)) flags = p.varint32();
        else if (t === ((6 << 3) | WireType.LEN)) {
          const qv = p.sub();
          // proto3 leaves out zeros: an absent quantile or value is 0 (the minimum, or a value of 0).
          let q = 0;
          let v = 0;
          while (!qv.done) {
            const tt = qv.tag();
            if (tt === ((1 << 3) | WireType.I64)) q = qv.double();
            else if (tt === ((2 << 3) | WireType.I64)) v = qv.double();
            else qv.skip(tt & 7);
          }
          quantiles.push([q, v]);
        } else p.skip(t & 7);
      }
      if (flags & FLAG_NO_RECORDED_VALUE) continue;
      const timestamp = timeNs / 1e6;
      if (!(timestamp > 0)) {
        this.reject(1, `${meta.name}: point without a time`);
        continue;
      }
      const countId = this.seriesId(`${meta.name}.count`, '{count}', 'counter', meta, attrs);
      if (countId >= 0) this.push(countId, timestamp, count);
      const sumId = this.seriesId(`${meta.name}.sum`, meta.unit, 'counter', meta, attrs);
      if (sumId >= 0) this.push(sumId, timestamp, sum);
      for (const [q, v] of quantiles) {
        const id = this.seriesId(`${meta.name}.${quantileSuffix(q)}`, meta.unit, 'gauge', meta, attrs);
        if (id >= 0) this.push(id, timestamp, v);
      }
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
  startNs: number;
  timeNs: number;
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  flags: number;
  buckets: BucketPoint;
}

function readHistogramPoint(r: ProtoReader): HistogramPoint {
  const point: HistogramPoint = { attrs: {}, startNs: 0, timeNs: 0, count: 0, sum: undefined, min: undefined, max: undefined, flags: 0, buckets: { lowers: [], uppers: [], counts: [] } };
  const bucketCounts: number[] = [];
  const bounds: number[] = [];
  while (!r.done) {
    const tag = r.tag();
    switch (tag) {
      case (9 << 3) | WireType.LEN:
        readKeyValue(r.sub(), point.attrs);
        break;
      case (2 << 3) | WireType.I64:
        point.startNs = r.fixed64();
        break;
      case (3 << 3) | WireType.I64:
        point.timeNs = r.fixed64();
        break;
      case (4 << 3) | WireType.I64:
        point.count = r.fixed64();
        break;
      case (5 << 3) | WireType.I64:
        point.sum = r.double();
        break;
      case (6 << 3) | WireType.LEN: {
        const p = r.sub();
        while (!p.done) bucketCounts.push(p.fixed64());
        break;
      }
      case (6 << 3) | WireType.I64:
        bucketCounts.push(r.fixed64());
        break;
      case (7 << 3) | WireType.LEN: {
        const p = r.sub();
        while (!p.done) bounds.push(p.double());
        break;
      }
      case (7 << 3) | WireType.I64:
        bounds.push(r.double());
        break;
      case (10 << 3) | WireType.VARINT:
        point.flags = r.varint32();
        break;
      case (11 << 3) | WireType.I64:
        point.min = r.double();
        break;
      case (12 << 3) | WireType.I64:
        point.max = r.double();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  // bucket i covers (bounds[i-1], bounds[i]]; the first starts at -Infinity, the last ends at +Infinity.
  if (bucketCounts.length === bounds.length + 1) {
    for (let i = 0; i < bucketCounts.length; i++) {
      point.buckets.lowers.push(i === 0 ? Number.NEGATIVE_INFINITY : bounds[i - 1]!);
      point.buckets.uppers.push(i === bounds.length ? Number.POSITIVE_INFINITY : bounds[i]!);
      point.buckets.counts.push(bucketCounts[i]!);
    }
  }
  return point;
}

function readExponentialHistogramPoint(r: ProtoReader): HistogramPoint {
  const point: HistogramPoint = { attrs: {}, startNs: 0, timeNs: 0, count: 0, sum: undefined, min: undefined, max: undefined, flags: 0, buckets: { lowers: [], uppers: [], counts: [] } };
  let scale = 0;
  let zeroCount = 0;
  let positive: { offset: number; counts: number[] } = { offset: 0, counts: [] };
  let negative: { offset: number; counts: number[] } = { offset: 0, counts: [] };
  while (!r.done) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | WireType.LEN:
        readKeyValue(r.sub(), point.attrs);
        break;
      case (2 << 3) | WireType.I64:
        point.startNs = r.fixed64();
        break;
      case (3 << 3) | WireType.I64:
        point.timeNs = r.fixed64();
        break;
      case (4 << 3) | WireType.I64:
        point.count = r.fixed64();
        break;
      case (5 << 3) | WireType.I64:
        point.sum = r.double();
        break;
      case (6 << 3) | WireType.VARINT:
        scale = r.sint();
        break;
      case (7 << 3) | WireType.I64:
        zeroCount = r.fixed64();
        break;
      case (8 << 3) | WireType.LEN:
        positive = readExponentialBuckets(r.sub());
        break;
      case (9 << 3) | WireType.LEN:
        negative = readExponentialBuckets(r.sub());
        break;
      case (10 << 3) | WireType.VARINT:
        point.flags = r.varint32();
        break;
      case (12 << 3) | WireType.I64:
        point.min = r.double();
        break;
      case (13 << 3) | WireType.I64:
        point.max = r.double();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  // bucket index i covers (base^i, base^(i+1)] with base = 2^(2^-scale); negatives mirror it.
  const base = 2 ** (2 ** -scale);
  const b = point.buckets;
  for (let k = negative.counts.length - 1; k >= 0; k--) {
    const i = negative.offset + k;
    b.lowers.push(-(base ** (i + 1)));
    b.uppers.push(-(base ** i));
    b.counts.push(negative.counts[k]!);
  }
  if (zeroCount > 0) {
    b.lowers.push(0);
    b.uppers.push(0);
    b.counts.push(zeroCount);
  }
  for (let k = 0; k < positive.counts.length; k++) {
    const i = positive.offset + k;
    b.lowers.push(base ** i);
    b.uppers.push(base ** (i + 1));
    b.counts.push(positive.counts[k]!);
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

function readExponentialBuckets(r: ProtoReader): { offset: number; counts: number[] } {
  let offset = 0;
  const counts: number[] = [];
  while (!r.done) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WireType.VARINT)) offset = r.sint();
    else if (tag === ((2 << 3) | WireType.LEN)) {
      const p = r.sub();
      while (!p.done) counts.push(p.varint64());
    } else if (tag === ((2 << 3) | WireType.VARINT)) counts.push(r.varint64());
    else r.skip(tag & 7);
  }
  return { offset, counts };
}

/**
 * Estimates quantile `q` (0..1) of values spread over buckets `(lowers[i], uppers[i]]` holding
 * `counts[i]` values each, by linear interpolation inside the bucket where the rank falls.
 * Infinite bucket edges are replaced by the observed `min`/`max` when known, else by the finite
 * edge. Returns NaN when the buckets hold no values.
 */
export function estimateQuantile(lowers: readonly number[], uppers: readonly number[], counts: readonly number[], q: number, min?: number, max?: number): number {
  let total = 0;
  for (const c of counts) total += c;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c <= 0) continue;
    if (seen + c >= rank) {
      let lo = lowers[i]!;
      let hi = uppers[i]!;
      if (!Number.isFinite(lo)) lo = min !== undefined && Number.isFinite(min) ? Math.min(min, hi) : hi;
      if (!Number.isFinite(hi)) hi = max !== undefined && Number.isFinite(max) ? Math.max(max, lo) : lo;
      if (min !== undefined && Number.isFinite(min) && lo < min && min <= hi) lo = min;
      if (max !== undefined && Number.isFinite(max) && hi > max && max >= lo) hi = max;
      return lo + ((hi - lo) * (rank - seen)) / c;
    }
    seen += c;
  }
  return Number.isFinite(uppers[uppers.length - 1]!) ? uppers[uppers.length - 1]! : (max ?? Number.NaN);
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

function readKeyValue(r: ProtoReader, into: Record<string, AttributeValue>): void {
  let key = '';
  let value: AttributeValue | undefined;
  while (!r.done) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WireType.LEN)) key = r.string();
    else if (tag === ((2 << 3) | WireType.LEN)) value = readAnyValue(r.sub());
    else r.skip(tag & 7);
  }
  if (key && value !== undefined) into[key] = value;
}

/** AnyValue -> an attribute value; arrays and maps become JSON text, bytes base64. */
function readAnyValue(r: ProtoReader): AttributeValue | undefined {
  const json = readAnyValueAsJson(r);
  if (json === undefined || json === null) return undefined;
  if (typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean') return json;
  return JSON.stringify(json);
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function readAnyValueAsJson(r: ProtoReader): JsonValue | undefined {
  let value: JsonValue | undefined;
  while (!r.done) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | WireType.LEN:
        value = r.string();
        break;
      case (2 << 3) | WireType.VARINT:
        value = r.bool();
        break;
      case (3 << 3) | WireType.VARINT:
        value = r.int64();
        break;
      case (4 << 3) | WireType.I64:
        value = r.double();
        break;
      case (5 << 3) | WireType.LEN: {
        const arr: JsonValue[] = [];
        const a = r.sub();
        while (!a.done) {
          const t = a.tag();
          if (t === ((1 << 3) | WireType.LEN)) arr.push(readAnyValueAsJson(a.sub()) ?? null);
          else a.skip(t & 7);
        }
        value = arr;
        break;
      }
      case (6 << 3) | WireType.LEN: {
        const obj: { [key: string]: JsonValue } = {};
        const m = r.sub();
        while (!m.done) {
          const t = m.tag();
          if (t === ((1 << 3) | WireType.LEN)) {
            const kv = m.sub();
            let k = '';
            let v: JsonValue = null;
            while (!kv.done) {
              const tt = kv.tag();
              if (tt === ((1 << 3) | WireType.LEN)) k = kv.string();
              else if (tt === ((2 << 3) | WireType.LEN)) v = readAnyValueAsJson(kv.sub()) ?? null;
              else kv.skip(tt & 7);
            }
            obj[k] = v;
          } else m.skip(t & 7);
        }
        value = obj;
        break;
      }
      case (7 << 3) | WireType.LEN: {
        const [start, end] = r.lengthDelimited();
        value = Buffer.from(r.buf.subarray(start, end)).toString('base64');
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return value;
}

/**
 * ExportMetricsServiceResponse: empty on full success, else `partial_success` (field 1) with
 * `rejected_data_points` (1) and `error_message` (2).
 */
export function encodeOtlpExportResponse(rejectedPoints: number, errorMessage: string): Buffer {
  if (rejectedPoints <= 0 && !errorMessage) return Buffer.alloc(0);
  const w = new ProtoWriter(64 + errorMessage.length * 3);
  w.tag(1, WireType.LEN);
  const at = w.fork();
  if (rejectedPoints > 0) {
    w.tag(1, WireType.VARINT);
    w.varint(rejectedPoints);
  }
  if (errorMessage) {
    w.tag(2, WireType.LEN);
    w.string(errorMessage);
  }
  w.join(at);
  return w.finish();
}
