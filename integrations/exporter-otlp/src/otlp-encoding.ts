/**
 * Encodes the OTLP protobuf messages this package sends: `ExportMetricsServiceRequest` (gauges and
 * monotonic cumulative sums of doubles) and `ExportLogsServiceRequest`, and reads the
 * `partial_success` of their responses.
 *
 * Written with @bufbuild/protobuf's BinaryWriter from the field numbers of the published OTLP
 * protocol (opentelemetry-proto, `collector/{metrics,logs}/v1`, `metrics/v1`, `logs/v1`,
 * `common/v1`, `resource/v1`); no generated code. Only the fields listed below are written.
 *
 * Invariants: timestamps are milliseconds since the epoch in, nanoseconds (fixed64) out; negative
 * or non-finite timestamps are sent as 0; values are sent as they are (OTLP doubles carry NaN and
 * Inf, callers decide what to leave out).
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { Attributes } from '@sextant/plugin-api';

/** Instrumentation scope every record carries: who produced it. */
export interface OtlpScope {
  readonly name: string;
  readonly version: string;
}

/** Milliseconds to OTLP nanoseconds. */
export function toUnixNano(ms: number): bigint {
  return Number.isFinite(ms) && ms > 0 ? BigInt(Math.round(ms)) * 1_000_000n : 0n;
}

/** AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4. */
function writeAnyValue(w: BinaryWriter, value: string | number | boolean): void {
  if (typeof value === 'string') w.tag(1, WireType.LengthDelimited).string(value);
  else if (typeof value === 'boolean') w.tag(2, WireType.Varint).bool(value);
  else if (Number.isSafeInteger(value)) w.tag(3, WireType.Varint).int64(value);
  else w.tag(4, WireType.Bit64).double(value);
}

/**
 * A repeated `KeyValue` field (`key` 1, `value` 2) with field number `field`, keys in sorted order
 * so equal attribute sets encode to equal bytes.
 */
export function encodeKeyValues(field: number, attributes: Attributes): Uint8Array {
  const w = new BinaryWriter();
  for (const key of Object.keys(attributes).sort()) {
    w.tag(field, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key).tag(2, WireType.LengthDelimited).fork();
    writeAnyValue(w, attributes[key]!);
    w.join().join();
  }
  return w.finish();
}

/** `Resource { attributes = 1 }` as the bytes of a length-delimited field 1 (ResourceMetrics/ResourceLogs.resource). */
export function encodeResource(resource: Attributes): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).bytes(encodeKeyValues(1, resource));
  return w.finish();
}

function writeScope(w: BinaryWriter, scope: OtlpScope): void {
  // ScopeMetrics/ScopeLogs.scope = 1: InstrumentationScope { name = 1, version = 2 }
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(scope.name).tag(2, WireType.LengthDelimited).string(scope.version).join();
}

/** How a metric is sent: Gauge (Metric.gauge = 5) or a monotonic cumulative Sum (Metric.sum = 7). */
export type OtlpMetricShape = 'gauge' | 'cumulative-sum';

/** One metric of the request being built; its data points are kept as encoded bytes. */
export interface PendingMetric {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly shape: OtlpMetricShape;
  /** Start time (ns) of a cumulative sum: when Sextant first saw the series. */
  readonly startNano: bigint;
  /** `data_points` fields (tag, length, NumberDataPoint), back to back. */
  buf: Uint8Array;
  view: DataView;
  used: number;
}

export type PendingMetricMeta = Pick<PendingMetric, 'name' | 'unit' | 'description' | 'shape' | 'startNano'>;

interface PendingResource {
  readonly resource: Uint8Array;
  readonly metrics: Map<string, PendingMetric>;
}

/**
 * A resource encoded once and shared by every series that has it; the encoder groups by this
 * object's identity (callers intern one per distinct resource).
 */
export interface EncodedResource {
  readonly bytes: Uint8Array;
}

/** Bytes of `n` as a protobuf varint (0 <= n < 2^28). */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

/**
 * Collects data points grouped by resource and metric, then writes one
 * `ExportMetricsServiceRequest`. Resource blocks and point attribute blocks are encoded once by
 * the caller ({@link encodeResource}, {@link encodeKeyValues} with field 7) and reused.
 *
 * Hot path: the caller looks a metric up once per series and request ({@link metric}, valid while
 * {@link generation} is unchanged) and then appends points with {@link addPoint}, which writes the
 * fixed-size part of a NumberDataPoint directly into the metric's byte buffer.
 *
 * Fields: ExportMetricsServiceRequest.resource_metrics 1; ResourceMetrics.resource 1,
 * scope_metrics 2; ScopeMetrics.scope 1, metrics 2; Metric.name 1, description 2, unit 3, gauge 5,
 * sum 7; Gauge/Sum.data_points 1; Sum.aggregation_temporality 2 (CUMULATIVE = 2), is_monotonic 3;
 * NumberDataPoint.start_time_unix_nano 2, time_unix_nano 3, as_double 4, attributes 7.
 */
export class OtlpMetricsEncoder {
  private readonly resources = new Map<EncodedResource, PendingResource>();
  /** Data points added since the last finish(). */
  points = 0;
  /** Changes at every finish(): metrics looked up before are no longer part of the request. */
  generation = 0;
  private lastMs = NaN;
  private lastNano = 0n;

  constructor(private readonly scope: OtlpScope) {}

  /** The metric `metricKey` of `resource` in the current request (equal keys must carry equal meta). */
  metric(resource: EncodedResource, metricKey: string, meta: PendingMetricMeta): PendingMetric {
    let r = this.resources.get(resource);
    if (!r) this.resources.set(resource, (r = { resource: resource.bytes, metrics: new Map() }));
    let m = r.metrics.get(metricKey);
    if (!m) {
      const buf = new Uint8Array(256);
      r.metrics.set(metricKey, (m = { name: meta.name, unit: meta.unit, description: meta.description, shape: meta.shape, startNano: meta.startNano, buf, view: new DataView(buf.buffer), used: 0 }));
    }
    return m;
  }

  /** Appends one point to `m` (from {@link metric} of the current generation); `attributes` is a KeyValue block with field 7. */
  addPoint(m: PendingMetric, attributes: Uint8Array, timestampMs: number, value: number): void {
    if (timestampMs !== this.lastMs) {
      this.lastMs = timestampMs;
      this.lastNano = toUnixNano(timestampMs);
    }
    const sum = m.shape === 'cumulative-sum';
    const size = (sum ? 9 : 0) + 9 + 9 + attributes.byteLength;
    const need = m.used + 1 + varintSize(size) + size;
    if (need > m.buf.byteLength) {
      const grown = new Uint8Array(Math.max(need, m.buf.byteLength * 2));
      grown.set(m.buf.subarray(0, m.used));
      m.buf = grown;
      m.view = new DataView(grown.buffer);
    }
    const b = m.buf;
    const view = m.view;
    let at = m.used;
    b[at++] = 0x0a; // data_points (1, length-delimited)
    for (let n = size; ; ) {
      if (n < 0x80) {
        b[at++] = n;
        break;
      }
      b[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    if (sum) {
      b[at++] = 0x11; // start_time_unix_nano (2, fixed64)
      view.setBigUint64(at, m.startNano, true);
      at += 8;
    }
    b[at++] = 0x19; // time_unix_nano (3, fixed64)
    view.setBigUint64(at, this.lastNano, true);
    at += 8;
    b[at++] = 0x21; // as_double (4, 64-bit)
    view.setFloat64(at, value, true);
    at += 8;
    b.set(attributes, at);
    m.used = at + attributes.byteLength;
    this.points++;
  }

  /** One-off form of {@link metric} + {@link addPoint}. */
  add(resource: EncodedResource, metricKey: string, meta: PendingMetricMeta, attributes: Uint8Array, timestampMs: number, value: number): void {
    this.addPoint(this.metric(resource, metricKey, meta), attributes, timestampMs, value);
  }

  /** The request bytes; resets the encoder. */
  finish(): Uint8Array {
    const w = new BinaryWriter();
    for (const r of this.resources.values()) {
      w.tag(1, WireType.LengthDelimited).fork().raw(r.resource);
      w.tag(2, WireType.LengthDelimited).fork();
      writeScope(w, this.scope);
      for (const m of r.metrics.values()) {
        w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(m.name);
        if (m.description) w.tag(2, WireType.LengthDelimited).string(m.description);
        if (m.unit) w.tag(3, WireType.LengthDelimited).string(m.unit);
        w.tag(m.shape === 'gauge' ? 5 : 7, WireType.LengthDelimited).fork();
        w.raw(m.buf.subarray(0, m.used));
        if (m.shape === 'cumulative-sum') w.tag(2, WireType.Varint).int32(2).tag(3, WireType.Varint).bool(true);
        w.join().join();
      }
      w.join().join();
    }
    this.resources.clear();
    this.points = 0;
    this.generation++;
    return w.finish();
  }
}

/** OTLP SeverityNumber values used here (logs data model). */
export const SEVERITY_NUMBER = { INFO: 9, WARN: 13, ERROR: 17 } as const;

/** One log record to send. */
export interface OtlpLogRecord {
  readonly resource: Attributes;
  readonly timeMs: number;
  readonly observedTimeMs: number;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: string;
  readonly eventName: string;
  readonly attributes: Attributes;
}

/**
 * One `ExportLogsServiceRequest`, records grouped by equal resources.
 *
 * Fields: ExportLogsServiceRequest.resource_logs 1; ResourceLogs.resource 1, scope_logs 2;
 * ScopeLogs.scope 1, log_records 2; LogRecord.time_unix_nano 1, severity_number 2,
 * severity_text 3, body 5 (AnyValue), attributes 6, observed_time_unix_nano 11, event_name 12.
 */
export function encodeLogsRequest(records: readonly OtlpLogRecord[], scope: OtlpScope): Uint8Array {
  const groups = new Map<string, { resource: Attributes; records: OtlpLogRecord[] }>();
  for (const r of records) {
    const key = JSON.stringify(Object.entries(r.resource).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { resource: r.resource, records: [] }));
    g.records.push(r);
  }
  const w = new BinaryWriter();
  for (const g of groups.values()) {
    w.tag(1, WireType.LengthDelimited).fork().raw(encodeResource(g.resource));
    w.tag(2, WireType.LengthDelimited).fork();
    writeScope(w, scope);
    for (const r of g.records) {
      w.tag(2, WireType.LengthDelimited).fork();
      w.tag(1, WireType.Bit64).fixed64(toUnixNano(r.timeMs));
      w.tag(2, WireType.Varint).int32(r.severityNumber);
      w.tag(3, WireType.LengthDelimited).string(r.severityText);
      w.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(r.body).join();
      w.raw(encodeKeyValues(6, r.attributes));
      w.tag(11, WireType.Bit64).fixed64(toUnixNano(r.observedTimeMs));
      w.tag(12, WireType.LengthDelimited).string(r.eventName);
      w.join();
    }
    w.join().join();
  }
  return w.finish();
}

/**
 * `partial_success` (field 1) of an ExportMetricsServiceResponse / ExportLogsServiceResponse:
 * rejected points/records (field 1, int64) and the receiver's message (field 2). Undefined when
 * absent or unreadable (a receiver that answers with something else is not an error).
 */
export function decodePartialSuccess(body: Uint8Array): { rejected: number; message: string } | undefined {
  try {
    const r = new BinaryReader(body);
    while (r.pos < r.len) {
      const [field, wire] = r.tag();
      if (field !== 1 || wire !== WireType.LengthDelimited) {
        r.skip(wire);
        continue;
      }
      const inner = new BinaryReader(r.bytes());
      let rejected = 0;
      let message = '';
      while (inner.pos < inner.len) {
        const [f, t] = inner.tag();
        if (f === 1 && t === WireType.Varint) rejected = Number(inner.int64());
        else if (f === 2 && t === WireType.LengthDelimited) message = inner.string();
        else inner.skip(t);
      }
      return { rejected, message };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
