/**
 * The `nats` collector: reads the NATS server's HTTP monitoring endpoints each interval — /varz
 * (server), /connz (the most backed-up connection) and, when JetStream is on, /jsz with stream and
 * consumer details — and writes {@link NATS_METRICS}.
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable monitoring port: status `error` (`SEXTANT_ERR_CONNECTION_FAILED`) with a hint,
 *   `connection_errors_total`; the next round tries again.
 * - a reply that is not JSON or not NATS monitoring data, an HTTP error, a timeout: `error` with
 *   `SEXTANT_ERR_PARSE_FAILED` / `COLLECT_FAILED`, `replies_rejected_total`.
 * - /connz or /jsz failing while /varz works: `degraded`, the rest of the round still counts.
 * - a restart (`start` changed): counter baselines dropped, a `nats.restart` event.
 * - values that are not finite non-negative numbers: dropped and counted (`values_rejected_total`).
 * - more streams + consumers than `maxJetstreamSeries`: the rest counted in `series_limited_total`.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import {
  createCollectorFactory,
  ErrorCode,
  formatError,
  isSextantError,
  SextantError,
  type Attributes,
  type Collector,
  type CollectorContext,
  type HealthState,
  type SelfCounter,
} from '@sextant/plugin-api';
import { MetricWriter, StatusChangeReporter } from '@sextant/integration-kit';
import { natsConfigDefaults, natsConfigSchema, type NatsConfig } from './config.js';
import { NATS_METRICS, type NatsMetricSpec } from './metrics.js';

const M = NATS_METRICS;

/** /jsz with every stream and consumer can be large on big accounts; /varz is ~3 KiB. */
export const MAX_REPLY_BYTES = 32 * 1024 * 1024;

type Json = Record<string, unknown>;

/** GETs a monitoring endpoint and parses its JSON; every failure is a coded SextantError. */
export function getMonitoringJson(base: string, path: string, timeoutMs: number): Promise<Json> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  const where = `${url.protocol}//${url.host}${url.pathname}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: SextantError | undefined, value?: Json) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value!);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', agent: false, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(new SextantError(ErrorCode.COLLECT_FAILED, `${where} answered HTTP ${res.statusCode}`, { hint: 'url must be the NATS monitoring port (nats-server -m 8222 / http_port), not a proxy or another service' }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          req.destroy();
          finish(new SextantError(ErrorCode.PARSE_FAILED, `${where} sent more than ${MAX_REPLY_BYTES} bytes`, { hint: 'turn jetstream off or lower the number of streams reported' }));
        } else chunks.push(chunk);
      });
      res.on('end', () => {
        let value: unknown;
        try {
          value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          finish(new SextantError(ErrorCode.PARSE_FAILED, `${where} did not answer JSON`, { hint: 'url must be the NATS monitoring port (nats-server -m 8222), e.g. http://host:8222' }));
          return;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) finish(new SextantError(ErrorCode.PARSE_FAILED, `${where} answered JSON that is not an object`, { hint: 'is this a NATS monitoring port?' }));
        else finish(undefined, value as Json);
      });
      res.on('error', (error) => finish(new SextantError(ErrorCode.CONNECTION_FAILED, `${where}: ${error.message}`)));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(new SextantError(ErrorCode.COLLECT_FAILED, `${where} did not answer within ${timeoutMs} ms`, { hint: 'the server is overloaded or this is not its monitoring port; raise timeout if it is just far away' }));
    }, timeoutMs);
    req.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      finish(new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach the NATS monitoring port at ${url.host} (${code ?? error.message})`, {
        hint: `is nats-server running with monitoring on (-m ${url.port || 8222} or http_port) at ${url.host}?`,
        cause: error,
      }));
    });
    req.end();
  });
}

interface SelfCounters {
  readonly connectionErrors: SelfCounter;
  readonly repliesRejected: SelfCounter;
  readonly valuesRejected: SelfCounter;
  readonly restarts: SelfCounter;
}

export class NatsCollector implements Collector {
  private readonly url: URL;
  private readonly where: string;
  private readonly resource: Attributes;
  private readonly counters: SelfCounters;
  private readonly writer: MetricWriter;
  private started: string | undefined;
  private readonly status: StatusChangeReporter;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<NatsConfig>) {
    this.url = new URL(ctx.config.url);
    this.where = this.url.host;
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'nats',
      'server.address': this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      'server.port': Number(this.url.port || (this.url.protocol === 'https:' ? 443 : 80)),
      ...ctx.config.resource,
    };
    const m = ctx.metrics;
    this.counters = {
      connectionErrors: m.counter('connection_errors_total', 'Rounds that could not reach the monitoring port'),
      repliesRejected: m.counter('replies_rejected_total', 'Monitoring replies refused: not JSON, not NATS data, HTTP errors, timeouts'),
      valuesRejected: m.counter('values_rejected_total', 'Values dropped because they were not finite non-negative numbers'),
      restarts: m.counter('server_restarts_total', 'NATS server restarts noticed (start time changed)'),
    };
    this.writer = new MetricWriter(ctx, {
      resource: this.resource,
      seriesLimited: m.counter('series_limited_total', 'Streams and consumers beyond maxJetstreamSeries, and series refused by the runtime limit'),
      limits: [{ applies: (_spec, attributes) => 'nats.stream' in attributes, max: ctx.config.maxJetstreamSeries }],
    });
    this.status = new StatusChangeReporter(ctx, `NATS monitoring at ${this.where} is readable again`);
  }

  start(): void {
    if (this.stopped) return;
    this.ctx.status.set('starting', `reading NATS monitoring at ${this.where}`);
  }

  async collect(): Promise<void> {
    if (this.stopped) return;
    const { url, timeout } = this.ctx.config;
    let varz: Json;
    try {
      varz = await getMonitoringJson(url, 'varz', timeout);
      if (typeof varz.server_id !== 'string' || !('connections' in varz)) {
        throw new SextantError(ErrorCode.PARSE_FAILED, `${this.where}/varz is JSON but not NATS server data (no server_id/connections)`, { hint: 'url must be the NATS monitoring port, e.g. http://host:8222' });
      }
    } catch (error) {
      const classified = isSextantError(error) ? error : new SextantError(ErrorCode.COLLECT_FAILED, String(error));
      if (classified.code === ErrorCode.CONNECTION_FAILED) this.counters.connectionErrors.add(1);
      else this.counters.repliesRejected.add(1);
      this.status.report('error', classified);
      return;
    }
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    this.processVarz(varz, now);

    let degraded: SextantError | undefined;
    try {
      this.processConnz(await getMonitoringJson(url, 'connz?sort=pending&limit=1', timeout), now);
    } catch (error) {
      this.counters.repliesRejected.add(1);
      degraded = isSextantError(error) ? error : new SextantError(ErrorCode.COLLECT_FAILED, String(error));
    }
    if (this.ctx.config.jetstream && varz.jetstream && typeof varz.jetstream === 'object' && (varz.jetstream as Json).config) {
      try {
        this.processJsz(await getMonitoringJson(url, 'jsz?accounts=true&streams=true&consumers=true&config=true', timeout), now);
      } catch (error) {
        this.counters.repliesRejected.add(1);
        degraded ??= isSextantError(error) ? error : new SextantError(ErrorCode.COLLECT_FAILED, String(error));
      }
    }
    if (this.stopped) return;
    if (degraded) this.status.report('degraded', degraded);
    else this.status.report('ok');
  }

  /** Writes the /varz metrics of one round read at `now` (ms). Public for tests and tools. */
  processVarz(varz: Json, now: number): void {
    const start = typeof varz.start === 'string' ? varz.start : undefined;
    if (start !== undefined && this.started !== undefined && start !== this.started) this.noticeRestart(now);
    if (start !== undefined) this.started = start;
    const startMs = start ? Date.parse(start) : Number.NaN;
    const nowMs = typeof varz.now === 'string' ? Date.parse(varz.now) : Number.NaN;
    if (Number.isFinite(startMs) && Number.isFinite(nowMs) && nowMs >= startMs) this.writer.gauge(M.uptime, {}, (nowMs - startMs) / 1000, now);
    const connections = this.gauge(M.connections, {}, varz.connections, now);
    const max = this.gauge(M.connectionsMax, {}, varz.max_connections, now);
    if (connections !== undefined && max !== undefined && max > 0) this.writer.gauge(M.connectionsUtilization, {}, connections / max, now);
    this.counter(M.connectionsTotal, {}, varz.total_connections, now);
    this.counter(M.messages, { direction: 'in' }, varz.in_msgs, now);
    this.counter(M.messages, { direction: 'out' }, varz.out_msgs, now);
    this.counter(M.bytes, { direction: 'in' }, varz.in_bytes, now);
    this.counter(M.bytes, { direction: 'out' }, varz.out_bytes, now);
    this.counter(M.slowConsumers, {}, varz.slow_consumers, now);
    this.gauge(M.subscriptions, {}, varz.subscriptions, now);
    this.gauge(M.memory, {}, varz.mem, now);
    const cpu = this.accepted(varz.cpu);
    if (cpu !== undefined) this.writer.gauge(M.cpu, {}, cpu / 100, now);
    this.gauge(M.routes, {}, varz.routes, now);
    this.gauge(M.leafnodes, {}, varz.leafnodes, now);
  }

  processConnz(connz: Json, now: number): void {
    if (!Array.isArray(connz.connections)) {
      throw new SextantError(ErrorCode.PARSE_FAILED, `${this.where}/connz has no connections list`, { hint: 'is this a NATS monitoring port?' });
    }
    const top = (connz.connections as Json[])[0];
    this.gauge(M.pendingMax, {}, top ? top.pending_bytes : 0, now);
  }

  processJsz(jsz: Json, now: number): void {
    const config = (jsz.config ?? {}) as Json;
    this.gauge(M.jsMemory, {}, jsz.memory, now);
    this.gauge(M.jsStorage, {}, jsz.storage, now);
    this.gauge(M.jsMemoryLimit, {}, config.max_memory, now);
    this.gauge(M.jsStorageLimit, {}, config.max_storage, now);
    this.counter(M.jsApiErrors, {}, (jsz.api as Json | undefined)?.errors, now);
    const accounts = Array.isArray(jsz.account_details) ? (jsz.account_details as Json[]) : [];
    for (const account of accounts) {
      const streams = Array.isArray(account.stream_detail) ? (account.stream_detail as Json[]) : [];
      for (const stream of streams) {
        const name = typeof stream.name === 'string' ? stream.name.slice(0, 128) : undefined;
        if (!name) {
          this.counters.valuesRejected.add(1);
          continue;
        }
        const s = { 'nats.stream': name };
        const state = (stream.state ?? {}) as Json;
        this.gauge(M.streamMessages, s, state.messages, now);
        this.gauge(M.streamBytes, s, state.bytes, now);
        this.gauge(M.streamConsumers, s, state.consumer_count, now);
        const consumers = Array.isArray(stream.consumer_detail) ? (stream.consumer_detail as Json[]) : [];
        for (const consumer of consumers) {
          const consumerName = typeof consumer.name === 'string' ? consumer.name.slice(0, 128) : undefined;
          if (!consumerName) {
            this.counters.valuesRejected.add(1);
            continue;
          }
          const c = { ...s, 'nats.consumer': consumerName };
          this.gauge(M.consumerPending, c, consumer.num_pending, now);
          this.gauge(M.consumerAckPending, c, consumer.num_ack_pending, now);
          this.gauge(M.consumerRedelivered, c, consumer.num_redelivered, now);
          this.gauge(M.consumerWaiting, c, consumer.num_waiting, now);
        }
      }
    }
  }

  private noticeRestart(now: number): void {
    this.counters.restarts.add(1);
    this.writer.forgetRates();
    this.ctx.sink.event({
      type: 'nats.restart',
      timestamp: now,
      title: `nats-server at ${this.where} restarted`,
      resource: this.resource,
      attributes: {},
      severity: 'warning',
      source: 'nats',
    });
  }

  private accepted(raw: unknown): number | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return raw;
    this.counters.valuesRejected.add(1);
    return undefined;
  }

  private gauge(spec: NatsMetricSpec, attributes: Readonly<Record<string, string>>, raw: unknown, now: number): number | undefined {
    const value = this.accepted(raw);
    if (value !== undefined) this.writer.gauge(spec, attributes, value, now);
    return value;
  }

  private counter(spec: NatsMetricSpec, attributes: Readonly<Record<string, string>>, raw: unknown, now: number): void {
    const value = this.accepted(raw);
    if (value === undefined) return;
    this.writer.rate(spec, attributes, value, now);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}

export const natsCollectorFactory = createCollectorFactory<NatsConfig>({
  type: 'nats',
  stability: 'alpha',
  description: 'NATS server metrics from the monitoring endpoints: connections, messages, slow consumers, pending bytes, JetStream usage, stream depth and consumer lag.',
  configSchema: natsConfigSchema,
  defaults: natsConfigDefaults,
  configJsonSchema: z.toJSONSchema(natsConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new NatsCollector(ctx),
});
