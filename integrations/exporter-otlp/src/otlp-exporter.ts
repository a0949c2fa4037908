/**
 * The `otlp` exporter: OTLP/HTTP protobuf of selected series plus Sextant's own signals per series
 * as OTLP metrics (POST `<endpoint>/v1/metrics`), and anomalies as OTLP log records (POST
 * `<endpoint>/v1/logs`). Names and attributes are documented in the README ("Mapping").
 *
 * Flow: the runtime hands over accepted batches and anomalies (off the ingest path); they are
 * encoded into requests of at most `maxPointsPerRequest` points, compressed and put in a bounded
 * queue — on disk in the instance's data directory (or `queueDir`), so an outage of the receiver,
 * even across a restart of Sextant, loses nothing within `queueMaxBytes`; in memory without a data
 * directory — the same `DiskPayloadQueue`/`MemoryPayloadQueue` as the remote-write exporter
 * (@sextant/integration-kit). One sender loop posts the oldest queued request until the receiver
 * takes it.
 * 2xx: done (a partial_success is counted as rejected points). 5xx, 429 and network errors:
 * retried with doubling, jittered, capped backoff (Retry-After honoured, capped by backoff.max).
 * Other 4xx: the receiver refuses the data itself, so it is dropped, counted and reported, never
 * retried. When the queue would exceed `queueMaxBytes`, the oldest requests are dropped and counted.
 */
import { backoffDelayMs } from '@sextant/plugin-kit';
import {
  ErrorCode,
  SextantError,
  createExporterFactory,
  type Anomaly,
  type Attributes,
  type ErrorCodeValue,
  type ExpectationColumns,
  type Exporter,
  type ExporterContext,
  type SampleBatch,
  type SelfCounter,
  type SelfGauge,
  type SeriesDescriptor,
  type Severity,
} from '@sextant/plugin-api';
import { join } from 'node:path';
import { DiskPayloadQueue, MemoryPayloadQueue, StatusChangeReporter, type PayloadQueue } from '@sextant/integration-kit';
import picomatch from 'picomatch';
import { z } from 'zod';
import { createTransport, otlpExporterConfigDefaults, otlpExporterConfigSchema, prepareBody, type OtlpExporterConfig } from './config.js';
import { SEVERITY_NUMBER, OtlpMetricsEncoder, encodeKeyValues, encodeLogsRequest, encodeResource, toUnixNano, type OtlpLogRecord, type OtlpScope, type EncodedResource, type PendingMetric, type PendingMetricMeta } from './otlp-encoding.js';
import type { OtlpTransport } from './otlp-http-transport.js';

/** Names of the signal metrics, as documented in the README. */
export const OTLP_SIGNAL_METRICS = {
  expected: 'sextant.expected',
  lower: 'sextant.band.lower',
  upper: 'sextant.band.upper',
  state: 'sextant.learning_state',
  anomalyScore: 'sextant.anomaly.score',
} as const;

/** Point attribute naming the original metric on signal metrics. */
export const OTLP_METRIC_ATTRIBUTE = 'sextant.metric';

/** `event_name` of anomaly log records. */
export const ANOMALY_EVENT_NAME = 'sextant.anomaly';

export const SCOPE: OtlpScope = { name: '@sextant/exporter-otlp', version: '0.1.0' };

/** Sextant severity -> OTLP SeverityNumber and severity_text. */
export const SEVERITY: Readonly<Record<Severity, readonly [number, string]>> = {
  info: [SEVERITY_NUMBER.INFO, 'INFO'],
  warning: [SEVERITY_NUMBER.WARN, 'WARN'],
  critical: [SEVERITY_NUMBER.ERROR, 'ERROR'],
};

/** Per series: whether it is selected, and its encoded blocks (built on first use). */
interface SeriesEntry {
  readonly selected: boolean;
  readonly descriptor?: SeriesDescriptor;
  readonly resource?: EncodedResource;
  /** Encoder keys of the slots (metric name, unit, shape), built once. */
  readonly slotKeys?: string[];
  readonly attributes?: Uint8Array;
  readonly signalAttributes?: Uint8Array;
  readonly startMs?: number;
  /** The metrics this series writes to in the encoder's current request: samples, then the four signals. */
  slots?: { generation: number; metrics: (PendingMetric | undefined)[] };
}

type Signal = 'metrics' | 'logs';

/**
 * A queued request is its body behind one byte naming the signal (0 metrics, 1 logs), so the disk
 * queue stores plain bytes and a restarted exporter still knows where each request goes.
 */
function frame(signal: Signal, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = signal === 'metrics' ? 0 : 1;
  out.set(body, 1);
  return out;
}

/** Largest segment file of the on-disk queue; a quarter of the bound when that is smaller. */
const MAX_SEGMENT_BYTES = 8 << 20;

type NameTest = (name: string) => boolean;
function compile(pattern: string): NameTest {
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    const re = new RegExp(pattern.slice(1, -1));
    return (n) => re.test(n);
  }
  return picomatch(pattern, { dot: true });
}

export class OtlpExporter implements Exporter {
  private readonly keep: NameTest[];
  private readonly drop: NameTest[];
  private readonly series: (SeriesEntry | undefined)[] = [];
  /** One encoded resource per distinct resource (by sorted attributes), shared by its series. */
  private readonly resources = new Map<string, EncodedResource>();
  private readonly encoder = new OtlpMetricsEncoder(SCOPE);
  private readonly queue: PayloadQueue;
  private readonly transport: OtlpTransport;
  private readonly counters: {
    queuedPoints: SelfCounter;
    queuedLogs: SelfCounter;
    sentRequests: SelfCounter;
    sentBytes: SelfCounter;
    failed: SelfCounter;
    rejected: SelfCounter;
    rejectedItems: SelfCounter;
    queueDropped: SelfCounter;
    queueBytes: SelfGauge;
  };
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly status: StatusChangeReporter;

  constructor(private readonly ctx: ExporterContext<OtlpExporterConfig>) {
    this.status = new StatusChangeReporter(ctx, `${ctx.instanceId}: the OTLP receiver accepts requests again`, { logProblems: true });
    const c = ctx.config;
    this.keep = c.keep.map(compile);
    this.drop = c.drop.map(compile);
    this.transport = createTransport(c);
    const m = ctx.metrics;
    this.counters = {
      queuedPoints: m.counter('otlp_points_queued_total', 'Metric data points (samples and signals) encoded and queued'),
      queuedLogs: m.counter('otlp_log_records_queued_total', 'Log records (anomalies) encoded and queued'),
      sentRequests: m.counter('otlp_requests_sent_total', 'Requests the receiver accepted (signal: metrics, logs)'),
      sentBytes: m.counter('otlp_bytes_sent_total', 'Compressed request bytes the receiver accepted'),
      failed: m.counter('otlp_request_failures_total', 'Failed attempts that will be retried (reason: network, timeout, http_5xx, http_429)'),
      rejected: m.counter('otlp_requests_rejected_total', 'Requests the receiver refused with a final 4xx: dropped, not retried'),
      rejectedItems: m.counter('otlp_items_rejected_total', 'Points or log records an accepting receiver reported as rejected (partial_success)'),
      queueDropped: m.counter('otlp_queue_dropped_total', 'Queued requests dropped (reason: overflow when queueMaxBytes was reached, corrupt for a record torn by a crash)'),
      queueBytes: m.gauge('otlp_queue_bytes', 'Bytes waiting in the queue'),
    };
    const onDrop = (reason: 'overflow' | 'corrupt', requests: number, bytes: number) => {
      this.counters.queueDropped.add(requests, { reason });
      ctx.logger.warn(
        reason === 'overflow'
          ? `dropped ${requests} queued OTLP request(s) (${bytes} bytes): queueMaxBytes (${c.queueMaxBytes}) reached while the receiver is slow or away`
          : `dropped ${bytes} unreadable bytes of the OTLP queue (a record torn by a crash)`,
      );
    };
    const dir = c.queueDir ?? (ctx.dataDir ? join(ctx.dataDir, 'queue') : undefined);
    this.queue = dir
      ? new DiskPayloadQueue(dir, c.queueMaxBytes, Math.min(MAX_SEGMENT_BYTES, Math.floor(c.queueMaxBytes / 4)), onDrop)
      : new MemoryPayloadQueue(c.queueMaxBytes, onDrop);
    if (!dir) ctx.logger.warn('no data directory: the OTLP queue is in memory and is lost when Sextant stops; set dataDir or queueDir');
    this.counters.queueBytes.set(this.queue.bytes);
  }

  start(): void {
    this.loop = this.sendLoop();
  }

  exportSamples(batch: SampleBatch, expectations: ExpectationColumns | undefined): void {
    const c = this.ctx.config;
    const enc = this.encoder;
    for (let i = 0; i < batch.length; i++) {
      const id = batch.series[i]!;
      const e = this.entry(id);
      if (!e?.selected) continue;
      const d = e.descriptor!;
      const t = batch.timestamps[i]!;
      if (c.samples && Number.isFinite(batch.values[i]!)) {
        enc.addPoint(this.slot(e, 0, d.metric), e.attributes!, t, batch.values[i]!);
      }
      if (c.signals && expectations && expectations.state[i] !== 0) {
        if (Number.isFinite(expectations.expected[i]!)) enc.addPoint(this.slot(e, 1, OTLP_SIGNAL_METRICS.expected), e.signalAttributes!, t, expectations.expected[i]!);
        if (Number.isFinite(expectations.lower[i]!)) enc.addPoint(this.slot(e, 2, OTLP_SIGNAL_METRICS.lower), e.signalAttributes!, t, expectations.lower[i]!);
        if (Number.isFinite(expectations.upper[i]!)) enc.addPoint(this.slot(e, 3, OTLP_SIGNAL_METRICS.upper), e.signalAttributes!, t, expectations.upper[i]!);
        enc.addPoint(this.slot(e, 4, OTLP_SIGNAL_METRICS.state), e.signalAttributes!, t, expectations.state[i]!);
      }
      if (enc.points >= c.maxPointsPerRequest) this.enqueueMetrics();
    }
    this.enqueueMetrics();
  }

  exportAnomalies(anomalies: readonly Anomaly[]): void {
    if (!this.ctx.config.anomalies) return;
    const records: OtlpLogRecord[] = [];
    for (const a of anomalies) {
      const e = this.entry(a.seriesId);
      if (!e?.selected) continue;
      if (Number.isFinite(a.score)) {
        const name = OTLP_SIGNAL_METRICS.anomalyScore;
        const attrs = encodeKeyValues(7, { ...a.attributes, [OTLP_METRIC_ATTRIBUTE]: a.metric, 'sextant.detector': a.detector, 'sextant.anomaly.kind': a.kind });
        this.encoder.add(e.resource!, name, { name, unit: '1', description: '', shape: 'gauge', startNano: 0n }, attrs, a.timestamp, a.score);
      }
      records.push(this.anomalyRecord(a));
    }
    this.enqueueMetrics();
    for (let i = 0; i < records.length; i += this.ctx.config.maxPointsPerRequest) {
      const slice = records.slice(i, i + this.ctx.config.maxPointsPerRequest);
      this.enqueue('logs', prepareBody(this.ctx.config, encodeLogsRequest(slice, SCOPE)));
      this.counters.queuedLogs.add(slice.length);
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.transport.close();
    this.wake?.();
    await this.loop;
    this.queue.close();
  }

  /** Requests and bytes waiting to be sent. */
  get pending(): { requests: number; bytes: number } {
    return { requests: this.queue.length, bytes: this.queue.bytes };
  }

  /** The encoder's metric for slot `k` of a series (0: samples, 1-4: signals), looked up once per request. */
  private slot(e: SeriesEntry, k: number, name: string): PendingMetric {
    const enc = this.encoder;
    if (e.slots === undefined || e.slots.generation !== enc.generation) e.slots = { generation: enc.generation, metrics: [] };
    let m = e.slots.metrics[k];
    if (m === undefined) {
      const d = e.descriptor!;
      const meta: PendingMetricMeta =
        k === 0
          ? { name, unit: d.unit, description: d.description ?? '', shape: d.type === 'counter' ? 'cumulative-sum' : 'gauge', startNano: toUnixNano(e.startMs!) }
          : { name, unit: k === 4 ? '1' : d.unit, description: '', shape: 'gauge', startNano: 0n };
      // name, unit and shape identify a metric: series of one name with different units stay apart
      const key = (e.slotKeys![k] ??= `${name}\u0000${meta.unit}\u0000${meta.shape}`);
      m = e.slots.metrics[k] = enc.metric(e.resource!, key, meta);
    }
    return m;
  }

  private anomalyRecord(a: Anomaly): OtlpLogRecord {
    const [severityNumber, severityText] = SEVERITY[a.severity];
    const attributes: Record<string, string | number | boolean> = {
      ...a.attributes,
      'sextant.anomaly.id': a.id,
      [OTLP_METRIC_ATTRIBUTE]: a.metric,
      'sextant.detector': a.detector,
      'sextant.anomaly.kind': a.kind,
    };
    // non-finite numbers are left out: many log backends cannot store NaN/Inf attributes
    if (Number.isFinite(a.score)) attributes['sextant.anomaly.score'] = a.score;
    if (Number.isFinite(a.value)) attributes['sextant.anomaly.value'] = a.value;
    if (Number.isFinite(a.expected)) attributes['sextant.expected'] = a.expected;
    if (Number.isFinite(a.lower)) attributes['sextant.band.lower'] = a.lower;
    if (Number.isFinite(a.upper)) attributes['sextant.band.upper'] = a.upper;
    if (a.peerGroup) attributes['sextant.peer_group'] = a.peerGroup;
    return {
      resource: this.resourceOf(a.resource),
      timeMs: a.timestamp,
      observedTimeMs: this.ctx.clock.now(),
      severityNumber,
      severityText,
      body: a.message,
      eventName: ANOMALY_EVENT_NAME,
      attributes,
    };
  }

  private resourceOf(resource: Attributes): Attributes {
    return { ...this.ctx.config.resourceAttributes, ...resource };
  }

  private entry(id: number): SeriesEntry | undefined {
    let e = this.series[id];
    if (e === undefined) {
      const d = this.ctx.catalog.describe(id);
      if (!d) return undefined;
      const selected = (this.keep.length === 0 || this.keep.some((t) => t(d.metric))) && !this.drop.some((t) => t(d.metric));
      if (!selected) e = { selected };
      else {
        const resource = this.resourceOf(d.resource);
        const key = JSON.stringify(Object.entries(resource).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
        let interned = this.resources.get(key);
        if (!interned) this.resources.set(key, (interned = { bytes: encodeResource(resource) }));
        e = {
          selected,
          descriptor: d,
          resource: interned,
          slotKeys: [],
          attributes: encodeKeyValues(7, d.attributes),
          signalAttributes: encodeKeyValues(7, { ...d.attributes, [OTLP_METRIC_ATTRIBUTE]: d.metric }),
          startMs: this.ctx.clock.now(),
        };
      }
      this.series[id] = e;
    }
    return e;
  }

  private enqueueMetrics(): void {
    if (this.encoder.points === 0) return;
    const n = this.encoder.points;
    this.enqueue('metrics', prepareBody(this.ctx.config, this.encoder.finish()));
    this.counters.queuedPoints.add(n);
  }

  private enqueue(signal: Signal, body: Uint8Array): void {
    this.queue.push(frame(signal, body));
    this.counters.queueBytes.set(this.queue.bytes);
    this.wake?.();
  }

  private async sendLoop(): Promise<void> {
    const c = this.ctx.config;
    let attempt = 0; // failed tries of the payload at the head of the queue
    while (!this.stopped) {
      const queued = this.queue.peek();
      if (!queued) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const r = { signal: (queued[0] === 0 ? 'metrics' : 'logs') as Signal, body: queued.subarray(1) };
      const url = c.protocol === 'grpc' ? `${c.endpoint} (gRPC ${r.signal})` : `${c.endpoint.replace(/\/+$/, '')}/v1/${r.signal}`;
      const result = await this.transport.send(r.signal, r.body);
      if (this.stopped) break;
      if (result.ok) {
        this.queue.ack();
        this.counters.sentRequests.add(1, { signal: r.signal });
        this.counters.sentBytes.add(result.bytes);
        attempt = 0;
        if (result.rejected > 0) {
          this.counters.rejectedItems.add(result.rejected, { signal: r.signal });
          this.report('degraded', `${url} accepted a request but rejected ${result.rejected} of its ${r.signal === 'metrics' ? 'points' : 'log records'}: ${result.rejectedMessage || 'no reason given'}`, ErrorCode.VALUE_REJECTED);
        } else this.report('ok');
      } else if (!result.retryable) {
        this.queue.ack();
        this.counters.rejected.add(1, { signal: r.signal });
        this.report('degraded', `${url} refused a request (dropped, not retried): ${result.error}`, ErrorCode.VALUE_REJECTED);
      } else {
        this.counters.failed.add(1, { reason: result.reason });
        this.report('degraded', `${url}: ${result.error}; ${this.queue.bytes} bytes queued, retrying`, ErrorCode.CONNECTION_FAILED);
        attempt++;
        const wait = result.retryAfterMs ?? backoffDelayMs(attempt, { initialMs: c.backoff.initial, maxMs: c.backoff.max, jitter: 0.5 });
        await new Promise<void>((resolve) => {
          const cancel = this.ctx.clock.setTimeout(resolve, Math.min(wait, c.backoff.max));
          this.wake = () => {
            if (this.stopped) {
              cancel();
              resolve();
            }
          };
        });
        this.wake = undefined;
      }
      this.counters.queueBytes.set(this.queue.bytes);
    }
  }

  /** Status on change only (one warning per new problem), through the kit's reporter. */
  private report(state: 'ok' | 'degraded', message?: string, code?: string): void {
    this.status.report(state, message ? new SextantError((code ?? ErrorCode.CONNECTION_FAILED) as ErrorCodeValue, message) : undefined);
  }

}

export const otlpExporterFactory = createExporterFactory<OtlpExporterConfig>({
  type: 'otlp',
  stability: 'alpha',
  description: "OTLP (HTTP protobuf or gRPC) of selected series plus Sextant's expected value, band, learning state and anomaly score as metrics, and anomalies as log records.",
  configSchema: otlpExporterConfigSchema,
  defaults: otlpExporterConfigDefaults,
  configJsonSchema: z.toJSONSchema(otlpExporterConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new OtlpExporter(ctx),
});
