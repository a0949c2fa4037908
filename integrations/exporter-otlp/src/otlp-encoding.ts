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

interface PendingMetric {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly shape: OtlpMetricShape;
  /** Start time (ns) of a cumulative sum: when Sextant first saw the series. */
  readonly startNano: bigint;
  /** Encoded data points (NumberDataPoint bytes, without their field tag). */
  readonly points: Uint8Array[];
}

interface PendingResource {
  readonly resource: Uint8Array;
  readonly metrics: Map<string, PendingMetric>;
}

/**
 * Collects data points grouped by resource and metric, then writes one
 * `ExportMetricsServiceRequest`. Resource blocks and point attribute blocks are encoded once by
 * the caller ({@link encodeResource}, {@link encodeKeyValues} with field 7) and reused.
 *
 * Fields: ExportMetricsServiceRequest.resource_metrics 1; ResourceMetrics.resource 1,
 * scope_metrics 2; ScopeMetrics.scope 1, metrics 2; Metric.name 1, description 2, unit 3, gauge 5,
 * sum 7; Gauge/Sum.data_points 1; Sum.aggregation_temporality 2 (CUMULATIVE = 2), is_monotonic 3;
 * NumberDataPoint.start_time_unix_nano 2, time_unix_nano 3, as_double 4, attributes 7.
 */
export class OtlpMetricsEncoder {
  private readonly resources = new Map<string, PendingResource>();
  /** Data points added since the last finish(). */
  points = 0;

  constructor(private readonly scope: OtlpScope) {}

  /**
   * Adds one point. `resourceKey`/`metricKey` identify the groups (equal keys must carry equal
   * resource bytes / name, unit and shape); `attributes` is an encoded KeyValue block with field 7.
   */
  add(resourceKey: string, resource: Uint8Array, metricKey: string, metric: Omit<PendingMetric, 'points'>, attributes: Uint8Array, timestampMs: number, value: number): void {
    let r = this.resources.get(resourceKey);
    if (!r) this.resources.set(resourceKey, (r = { resource, metrics: new Map() }));
    let m = r.metrics.get(metricKey);
    if (!m) r.metrics.set(metricKey, (m = { ...metric, points: [] }));
    const w = new BinaryWriter();
    if (m.shape === 'cumulative-sum') w.tag(2, WireType.Bit64).fixed64(m.startNano);
    w.tag(3, WireType.Bit64).fixed64(toUnixNano(timestampMs)).tag(4, WireType.Bit64).double(value).raw(attributes);
    m.points.push(w.finish());
    this.points++;
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
        for (const p of m.points) w.tag(1, WireType.LengthDelimited).bytes(p);
        if (m.shape === 'cumulative-sum') w.tag(2, WireType.Varint).int32(2).tag(3, WireType.Varint).bool(true);
        w.join().join();
      }
      w.join().join();
    }
    this.resources.clear();
    this.points = 0;
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
