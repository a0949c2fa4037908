/**
 * The `rabbitmq` collector: reads the management HTTP API each interval — /api/overview (totals
 * and message rates), /api/nodes (memory, disk, file descriptors, alarms) and /api/queues (depth,
 * consumers and message rates per queue, the largest `maxQueues`) — and writes
 * {@link RABBITMQ_METRICS}.
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable management port: status `error` (`SEXTANT_ERR_CONNECTION_FAILED`),
 *   `connection_errors_total`; the next round tries again.
 * - 401 (wrong credentials) or a user without the monitoring tag: `error` with
 *   `SEXTANT_ERR_AUTH_FAILED` and the fix.
 * - not JSON, not RabbitMQ data, other HTTP errors, timeouts: `error` (`PARSE_FAILED` /
 *   `COLLECT_FAILED`), `replies_rejected_total`; /api/nodes or /api/queues failing alone: `degraded`.
 * - values that are not finite non-negative numbers: dropped and counted (`values_rejected_total`).
 * - counters going back (node restart, stats reset): `CounterRate` reads it as a reset, no rate.
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
import { rabbitmqConfigDefaults, rabbitmqConfigSchema, type RabbitmqConfig } from './config.js';
import { RABBITMQ_METRICS, type RabbitmqMetricSpec } from './metrics.js';

const M = RABBITMQ_METRICS;
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

export interface ManagementRequest {
  readonly base: string;
  readonly username: string;
  readonly password: string;
  readonly timeoutMs: number;
  readonly rejectUnauthorized: boolean;
}

/** GETs one management API path and parses its JSON; every failure is a coded SextantError. */
export function getManagementJson(options: ManagementRequest, path: string): Promise<unknown> {
  const url = new URL(path, options.base.endsWith('/') ? options.base : `${options.base}/`);
  const where = `${url.protocol}//${url.host}${url.pathname}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: SextantError | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    const req = send(url, { method: 'GET', agent: false, rejectUnauthorized: options.rejectUnauthorized, headers: { accept: 'application/json', authorization } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 401 || status === 403) {
        res.resume();
        finish(new SextantError(ErrorCode.AUTH_FAILED, `the RabbitMQ management API at ${url.host} refused user "${options.username}" (HTTP ${status})`, {
          hint: `check username/password; the user needs the monitoring tag: rabbitmqctl set_user_tags ${options.username} monitoring`,
        }));
        return;
      }
      if (status !== 200) {
        res.resume();
        finish(new SextantError(ErrorCode.COLLECT_FAILED, `${where} answered HTTP ${status}`, { hint: 'url must be the management plugin (rabbitmq-plugins enable rabbitmq_management), port 15672' }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          req.destroy();
          finish(new SextantError(ErrorCode.PARSE_FAILED, `${where} sent more than ${MAX_REPLY_BYTES} bytes`, { hint: 'lower maxQueues' }));
        } else chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          finish(new SextantError(ErrorCode.PARSE_FAILED, `${where} did not answer JSON`, { hint: 'url must be the RabbitMQ management plugin, e.g. http://host:15672' }));
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(new SextantError(ErrorCode.COLLECT_FAILED, `${where} did not answer within ${options.timeoutMs} ms`, { hint: 'the broker is overloaded (large /api/queues?) or this is not its management port; raise timeout or lower maxQueues' }));
    }, options.timeoutMs);
    req.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      finish(new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach the RabbitMQ management API at ${url.host} (${code ?? error.message})`, {
        hint: `is RabbitMQ running with the management plugin (rabbitmq-plugins enable rabbitmq_management) listening on ${url.host}?`,
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
  readonly seriesLimited: SelfCounter;
}

const QUEUE_COLUMNS = 'name,vhost,messages_ready,messages_unacknowledged,consumers,message_stats.publish,message_stats.deliver_get,message_stats.ack';

export class RabbitmqCollector implements Collector {
  private readonly where: string;
  private readonly resource: Attributes;
  private readonly counters: SelfCounters;
  private readonly writer: MetricWriter;
  private readonly status: StatusChangeReporter;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<RabbitmqConfig>) {
    const url = new URL(ctx.config.url);
    this.where = url.host;
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'rabbitmq',
      'server.address': url.hostname.replace(/^\[(.*)\]$/, '$1'),
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      ...ctx.config.resource,
    };
    const m = ctx.metrics;
    this.counters = {
      connectionErrors: m.counter('connection_errors_total', 'Rounds that could not reach the management API'),
      repliesRejected: m.counter('replies_rejected_total', 'Management API replies refused: not JSON, not RabbitMQ data, HTTP errors, timeouts'),
      valuesRejected: m.counter('values_rejected_total', 'Values dropped because they were not finite non-negative numbers'),
      seriesLimited: m.counter('series_limited_total', 'Queues beyond maxQueues, and series refused by the runtime limit'),
    };
    this.writer = new MetricWriter(ctx, { resource: this.resource, seriesLimited: this.counters.seriesLimited });
    this.status = new StatusChangeReporter(ctx, `RabbitMQ management API at ${this.where} is readable again`);
  }

  start(): void {
    if (this.stopped) return;
    this.ctx.status.set('starting', `reading the RabbitMQ management API at ${this.where}`);
  }

  private get request(): ManagementRequest {
    const c = this.ctx.config;
    return { base: c.url, username: c.username, password: c.password, timeoutMs: c.timeout, rejectUnauthorized: c.rejectUnauthorized };
  }

  async collect(): Promise<void> {
    if (this.stopped) return;
    let overview: Json;
    try {
      const reply = await getManagementJson(this.request, 'api/overview');
      if (typeof reply !== 'object' || reply === null || !('object_totals' in reply)) {
        throw new SextantError(ErrorCode.PARSE_FAILED, `${this.where}/api/overview is not RabbitMQ data (no object_totals)`, { hint: 'url must be the RabbitMQ management plugin, e.g. http://host:15672' });
      }
      overview = reply as Json;
    } catch (error) {
      const classified = isSextantError(error) ? error : new SextantError(ErrorCode.COLLECT_FAILED, String(error));
      if (classified.code === ErrorCode.CONNECTION_FAILED) this.counters.connectionErrors.add(1);
      else if (classified.code !== ErrorCode.AUTH_FAILED) this.counters.repliesRejected.add(1);
      this.status.report('error', classified);
      return;
    }
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    this.processOverview(overview, now);
    let degraded: SextantError | undefined;
    for (const [path, use] of [
      ['api/nodes', (reply: unknown) => this.processNodes(reply, now)],
      [`api/queues?sort=messages&sort_reverse=true&columns=${QUEUE_COLUMNS}`, (reply: unknown) => this.processQueues(reply, now)],
    ] as const) {
      if (path.startsWith('api/queues') && this.ctx.config.maxQueues === 0) continue;
      try {
        use(await getManagementJson(this.request, path));
      } catch (error) {
        this.counters.repliesRejected.add(1);
        degraded ??= isSextantError(error) ? error : new SextantError(ErrorCode.COLLECT_FAILED, String(error));
      }
    }
    if (this.stopped) return;
    if (degraded) this.status.report('degraded', degraded);
    else this.status.report('ok');
  }

  /** Writes the /api/overview metrics of one round read at `now` (ms). Public for tests and tools. */
  processOverview(overview: Json, now: number): void {
    const totals = (overview.object_totals ?? {}) as Json;
    this.gauge(M.connections, {}, totals.connections, now);
    this.gauge(M.channels, {}, totals.channels, now);
    this.gauge(M.queues, {}, totals.queues, now);
    this.gauge(M.consumersTotal, {}, totals.consumers, now);
    const queued = (overview.queue_totals ?? {}) as Json;
    this.gauge(M.messagesTotal, { state: 'ready' }, queued.messages_ready, now);
    this.gauge(M.messagesTotal, { state: 'unacknowledged' }, queued.messages_unacknowledged, now);
    // message_stats is absent until the first message moved; counters start at 0 then
    const stats = (overview.message_stats ?? {}) as Json;
    this.counter(M.published, {}, stats.publish ?? 0, now);
    this.counter(M.delivered, {}, stats.deliver_get ?? 0, now);
    this.counter(M.acknowledged, {}, stats.ack ?? 0, now);
    this.counter(M.redelivered, {}, stats.redeliver ?? 0, now);
    const dropped = this.accepted(stats.drop_unroutable ?? 0);
    const returned = this.accepted(stats.return_unroutable ?? 0);
    if (dropped !== undefined && returned !== undefined) this.counter(M.unroutable, {}, dropped + returned, now);
  }

  processNodes(reply: unknown, now: number): void {
    if (!Array.isArray(reply)) throw new SextantError(ErrorCode.PARSE_FAILED, `${this.where}/api/nodes is not a list`);
    for (const node of reply as Json[]) {
      if (typeof node?.name !== 'string') {
        this.counters.valuesRejected.add(1);
        continue;
      }
      const n = { 'rabbitmq.node.name': node.name.slice(0, 128) };
      this.writer.gauge(M.nodeRunning, n, node.running === true ? 1 : 0, now);
      if (node.running !== true) continue;
      this.gauge(M.memUsed, n, node.mem_used, now);
      this.gauge(M.memLimit, n, node.mem_limit, now);
      if (typeof node.mem_alarm === 'boolean') this.writer.gauge(M.memAlarm, n, node.mem_alarm ? 1 : 0, now);
      this.gauge(M.diskFree, n, node.disk_free, now);
      this.gauge(M.diskFreeLimit, n, node.disk_free_limit, now);
      if (typeof node.disk_free_alarm === 'boolean') this.writer.gauge(M.diskAlarm, n, node.disk_free_alarm ? 1 : 0, now);
      this.gauge(M.fdUsed, n, node.fd_used, now);
      this.gauge(M.fdTotal, n, node.fd_total, now);
      this.gauge(M.socketsUsed, n, node.sockets_used, now);
      this.gauge(M.procUsed, n, node.proc_used, now);
      this.gauge(M.procTotal, n, node.proc_total, now);
    }
  }

  processQueues(reply: unknown, now: number): void {
    if (!Array.isArray(reply)) throw new SextantError(ErrorCode.PARSE_FAILED, `${this.where}/api/queues is not a list`);
    const { maxQueues } = this.ctx.config;
    if (reply.length > maxQueues) this.counters.seriesLimited.add(reply.length - maxQueues);
    for (const queue of (reply as Json[]).slice(0, maxQueues)) {
      if (typeof queue?.name !== 'string' || typeof queue.vhost !== 'string') {
        this.counters.valuesRejected.add(1);
        continue;
      }
      const q = { 'rabbitmq.vhost.name': queue.vhost.slice(0, 128), 'rabbitmq.queue.name': queue.name.slice(0, 255) };
      this.gauge(M.queueMessages, { ...q, state: 'ready' }, queue.messages_ready, now);
      this.gauge(M.queueMessages, { ...q, state: 'unacknowledged' }, queue.messages_unacknowledged, now);
      this.gauge(M.queueConsumers, q, queue.consumers, now);
      const stats = (queue.message_stats ?? {}) as Json;
      this.counter(M.queuePublished, q, stats.publish ?? 0, now);
      this.counter(M.queueDelivered, q, stats.deliver_get ?? 0, now);
      this.counter(M.queueAcknowledged, q, stats.ack ?? 0, now);
    }
  }

  private accepted(raw: unknown): number | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return raw;
    this.counters.valuesRejected.add(1);
    return undefined;
  }

  private gauge(spec: RabbitmqMetricSpec, attributes: Readonly<Record<string, string>>, raw: unknown, now: number): void {
    const value = this.accepted(raw);
    if (value !== undefined) this.writer.gauge(spec, attributes, value, now);
  }

  private counter(spec: RabbitmqMetricSpec, attributes: Readonly<Record<string, string>>, raw: unknown, now: number): void {
    const value = this.accepted(raw);
    if (value === undefined) return;
    this.writer.rate(spec, attributes, value, now);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}

export const rabbitmqCollectorFactory = createCollectorFactory<RabbitmqConfig>({
  type: 'rabbitmq',
  stability: 'alpha',
  description: 'RabbitMQ metrics from the management API: queue depth and consumers, publish/deliver/ack rates, unroutable messages, node memory, disk and alarms.',
  configSchema: rabbitmqConfigSchema,
  defaults: rabbitmqConfigDefaults,
  configJsonSchema: z.toJSONSchema(rabbitmqConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new RabbitmqCollector(ctx),
});
