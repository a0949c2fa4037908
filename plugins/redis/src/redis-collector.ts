/**
 * The `redis` collector: one connection per instance, one round per interval.
 *
 * A round runs `INFO all`, then (when enabled) `SLOWLOG LEN` + `SLOWLOG GET n` and
 * `LATENCY LATEST`, and writes every value of {@link REDIS_METRICS} that the server reported.
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable / refused / wrong password / TLS failure: status `error` with a coded message and
 *   a hint; node-redis keeps reconnecting in the background with capped exponential backoff, and
 *   the first good round sets status `ok` again.
 * - a server restart (new `run_id`, or uptime going back): every counter baseline is dropped, so
 *   the first round after it emits no rate instead of a negative or inflated one; a
 *   `redis.restart` event is emitted.
 * - malformed INFO lines, non-finite or negative values: dropped and counted
 *   (`info_lines_rejected_total`, `values_rejected_total`), the rest of the round still counts.
 * - SLOWLOG / LATENCY refused (renamed command, ACL): counted and switched off until restart.
 */
import { isIP } from 'node:net';
import { createClient } from 'redis';
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
import { CounterRate } from '@sextant/plugin-kit';
import { MetricWriter, StatusChangeReporter } from '@sextant/integration-kit';
import { endpointOf, loadPem, redisConfigDefaults, redisConfigSchema, type RedisConfig, type RedisEndpoint } from './config.js';
import { RedisInfoParser, strictNumber, subfield, type RedisInfo } from './info-parser.js';
import { FIELD_METRICS, REDIS_METRICS } from './metrics.js';
import { classifyRedisError } from './redis-errors.js';
import { SlowlogTracker } from './slowlog-tracker.js';

/** CLIENT SETNAME of the collector's connection; its own slowlog entries are skipped. */
export const COLLECTOR_CLIENT_NAME = 'sextant-collector';

/** Upper bound of databases / replicas / latency events turned into series per instance. */
const MAX_DYNAMIC_SERIES = 256;

/** Reconnect backoff: 100 ms doubling, capped at min(interval, 30 s). */
export function reconnectDelayMs(retries: number, intervalMs: number): number {
  const cap = Math.max(500, Math.min(30_000, intervalMs));
  return Math.min(cap, 100 * 2 ** Math.min(retries, 16));
}

function createMonitoringClient(options: Parameters<typeof createClient>[0] & { RESP: 2 }) {
  return createClient(options);
}
type RedisClient = ReturnType<typeof createMonitoringClient>;

interface SelfCounters {
  readonly infoLinesRejected: SelfCounter;
  readonly valuesRejected: SelfCounter;
  readonly connectionErrors: SelfCounter;
  readonly commandErrors: SelfCounter;
  readonly seriesLimited: SelfCounter;
  readonly restarts: SelfCounter;
  readonly slowlogEvents: SelfCounter;
  readonly slowlogMissed: SelfCounter;
}

export class RedisCollector implements Collector {
  private readonly endpoint: RedisEndpoint;
  private readonly where: string;
  private readonly resource: Attributes;
  private readonly client: RedisClient;
  private readonly parser = new RedisInfoParser();
  private readonly slowlog: SlowlogTracker;
  private readonly counters: SelfCounters;

  private readonly writer: MetricWriter;
  private hitsRate = new CounterRate();
  private missesRate = new CounterRate();

  private runId: string | undefined;
  private lastUptime = Number.NaN;
  private slowlogEnabled: boolean;
  private latencyEnabled: boolean;
  private lastConnectError: unknown;
  private everReady = false;
  private readonly status: StatusChangeReporter;
  private started = false;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<RedisConfig>) {
    const config = ctx.config;
    this.endpoint = endpointOf(config.url);
    this.where = `${this.endpoint.host}:${this.endpoint.port}`;
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'redis',
      'server.address': this.endpoint.host,
      'server.port': this.endpoint.port,
      'db.system': 'redis',
      ...config.resource,
    };
    this.slowlogEnabled = config.slowlog.enabled;
    this.latencyEnabled = config.latency.enabled;
    this.slowlog = new SlowlogTracker(this.resource, this.where, COLLECTOR_CLIENT_NAME);
    const m = ctx.metrics;
    this.counters = {
      infoLinesRejected: m.counter('info_lines_rejected_total', 'INFO reply lines that were not key:value, # Section or blank'),
      valuesRejected: m.counter('values_rejected_total', 'INFO values dropped because they were not finite numbers or out of range'),
      connectionErrors: m.counter('connection_errors_total', 'Failed connection attempts and rounds without a connection'),
      commandErrors: m.counter('command_errors_total', 'Redis commands that failed or timed out'),
      seriesLimited: m.counter('series_limited_total', 'Series not created because a limit was reached'),
      restarts: m.counter('server_restarts_total', 'Redis server restarts noticed (run_id changed or uptime went back)'),
      slowlogEvents: m.counter('slowlog_events_total', 'Slowlog entries emitted as events'),
      slowlogMissed: m.counter('slowlog_missed_total', 'Slowlog entries that rotated out before they could be read; raise slowlog.maxEntries'),
    };
    this.writer = new MetricWriter(ctx, {
      resource: this.resource,
      seriesLimited: this.counters.seriesLimited,
      // series with attributes (db, replica, event, role, state) are capped; the fixed ones are not
      limits: [{ applies: (spec) => spec.attributes !== undefined, max: MAX_DYNAMIC_SERIES }],
    });
    this.status = new StatusChangeReporter(ctx, `redis at ${this.where} is healthy again`);
    this.client = this.createRedisClient(config);
  }

  private createRedisClient(config: RedisConfig): RedisClient {
    const url = new URL(config.url);
    const username = config.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = config.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    const common = {
      host: this.endpoint.host,
      port: this.endpoint.port,
      connectTimeout: config.timeout,
      reconnectStrategy: (retries: number, cause: Error) => {
        this.onConnectError(cause);
        return reconnectDelayMs(retries, this.ctx.intervalMs);
      },
    };
    const socket = this.endpoint.tls
      ? {
          ...common,
          tls: true as const,
          // SNI takes host names only (RFC 6066)
          ...(isIP(this.endpoint.host) === 0 ? { servername: this.endpoint.host } : {}),
          rejectUnauthorized: config.tls.rejectUnauthorized,
          ca: loadPem(config.tls.ca, 'ca'),
          cert: loadPem(config.tls.cert, 'cert'),
          key: loadPem(config.tls.key, 'key'),
        }
      : { ...common, tls: false as const };
    const client = createMonitoringClient({
      socket,
      username,
      password,
      name: COLLECTOR_CLIENT_NAME,
      // RESP2 works with every Redis since 2.x; INFO/SLOWLOG replies are plain strings and arrays.
      RESP: 2,
      maintNotifications: 'disabled',
      // a round must fail fast while disconnected, not queue INFO calls for later
      disableOfflineQueue: true,
      commandOptions: { timeout: config.timeout },
    });
    // node-redis emits 'error' on every failed (re)connect; without a listener the process would crash
    client.on('error', (error: unknown) => this.onConnectError(error));
    client.on('ready', () => {
      this.everReady = true;
      this.lastConnectError = undefined;
      this.ctx.logger.info(`connected to redis at ${this.where}`);
    });
    return client;
  }

  private onConnectError(error: unknown): void {
    if (this.stopped) return;
    const first = this.lastConnectError === undefined;
    this.lastConnectError = error;
    if (first) this.ctx.logger.warn(`redis at ${this.where}: ${formatError(classifyRedisError(error, this.endpoint))}`);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.ctx.status.set('starting', `connecting to redis at ${this.where}`);
    // connect() retries on its own (reconnectStrategy); it only rejects when the client is closed
    this.client.connect().catch((error: unknown) => {
      if (!this.stopped) this.onConnectError(error);
    });
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    if (!this.started) this.start();
    if (!this.client.isReady) {
      if (!this.everReady && this.lastConnectError === undefined) await this.waitForFirstOutcome(signal);
      if (!this.client.isReady) {
        this.counters.connectionErrors.add(1);
        const error = this.lastConnectError ?? new SextantError(ErrorCode.CONNECTION_FAILED, `not connected to redis at ${this.where} yet`, { hint: `is redis-server running on ${this.where}? check url` });
        this.status.report('error', isSextantError(error) ? error : classifyRedisError(error, this.endpoint));
        return;
      }
    }
    const now = this.ctx.clock.now();
    let infoText: unknown;
    try {
      infoText = await this.client.sendCommand(['INFO', 'all'], { abortSignal: signal });
    } catch (error) {
      this.counters.commandErrors.add(1);
      this.status.report('error', classifyRedisError(error, this.endpoint));
      return;
    }
    const info = this.parser.parse(typeof infoText === 'string' ? infoText : String(infoText ?? ''));
    if (info.rejectedLines > 0) this.counters.infoLinesRejected.add(info.rejectedLines);
    if (info.fields.size === 0) {
      this.status.report(
        'degraded',
        new SextantError(ErrorCode.PARSE_FAILED, `the INFO reply from ${this.where} had no key:value lines (${info.rejectedLines} unreadable)`, {
          hint: 'is this a Redis server (or a proxy that does not pass INFO through)? check url',
        }),
      );
      return;
    }
    this.processInfo(info, now);
    let degraded: SextantError | undefined;
    if (this.slowlogEnabled) degraded = (await this.collectSlowlog(info, now, signal)) ?? degraded;
    if (this.latencyEnabled) degraded = (await this.collectLatency(now, signal)) ?? degraded;
    if (degraded) this.status.report('degraded', degraded);
    else this.status.report('ok');
  }

  private waitForFirstOutcome(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        cancel();
        this.client.off('ready', done);
        this.client.off('error', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      // a little longer than the connect timeout, so a timed-out attempt reports its own error
      const cancel = this.ctx.clock.setTimeout(done, this.ctx.config.timeout + 1000);
      this.client.on('ready', done);
      this.client.on('error', done);
      signal.addEventListener('abort', done);
    });
  }

  /**
   * Writes every INFO-derived metric of one round read at `now` (ms). Public for the benchmark and
   * for tools that obtain INFO another way; `collect()` is the normal entry point.
   */
  processInfo(info: RedisInfo, now: number): void {
    this.noticeRestart(info, now);
    this.writeFieldMetrics(info, now);
    this.writeComputedMetrics(info, now);
  }

  private noticeRestart(info: RedisInfo, now: number): void {
    const runId = info.fields.get('run_id');
    const uptime = strictNumber(info.fields.get('uptime_in_seconds'));
    const restarted = (this.runId !== undefined && runId !== undefined && runId !== this.runId) || (Number.isFinite(uptime) && uptime < this.lastUptime);
    if (runId !== undefined) this.runId = runId;
    if (Number.isFinite(uptime)) this.lastUptime = uptime;
    if (!restarted) return;
    this.counters.restarts.add(1);
    this.writer.forgetRates();
    this.hitsRate = new CounterRate();
    this.missesRate = new CounterRate();
    this.ctx.sink.event({
      type: 'redis.restart',
      timestamp: now,
      title: `redis on ${this.where} restarted (up ${Number.isFinite(uptime) ? uptime : '?'} s)`,
      resource: this.resource,
      attributes: { 'redis.uptime': Number.isFinite(uptime) ? uptime : -1 },
      severity: 'warning',
      source: 'redis',
    });
  }

  /** A value fit to store: finite and, unless `allowNegative`, >= 0. Counts what it drops. */
  private accept(value: number, allowNegative = false): boolean {
    if (Number.isFinite(value) && (allowNegative || value >= 0)) return true;
    this.counters.valuesRejected.add(1);
    return false;
  }

  private writeFieldMetrics(info: RedisInfo, now: number): void {
    const fields = info.fields;
    for (const spec of FIELD_METRICS) {
      const raw = fields.get(spec.field!);
      if (raw === undefined) continue;
      if (spec.read === 'status') {
        this.writer.gauge(spec, {}, raw === spec.okValue ? 1 : 0, now);
        continue;
      }
      const n = strictNumber(raw);
      if (!this.accept(n)) continue;
      if (spec.read === 'rate') this.writer.rate(spec, {}, n, now);
      else this.writer.gauge(spec, {}, n, now);
    }
  }

  private writeComputedMetrics(info: RedisInfo, now: number): void {
    const fields = info.fields;
    const M = REDIS_METRICS;

    const hits = strictNumber(fields.get('keyspace_hits'));
    const misses = strictNumber(fields.get('keyspace_misses'));
    if (Number.isFinite(hits) && Number.isFinite(misses) && hits >= 0 && misses >= 0) {
      const dh = this.hitsRate.delta(hits, now);
      const dm = this.missesRate.delta(misses, now);
      if (dh !== undefined && dm !== undefined && dh + dm > 0) this.writer.gauge(M.keyspaceHitRatio, {}, dh / (dh + dm), now);
    }

    const lastSave = strictNumber(fields.get('rdb_last_save_time'));
    if (Number.isFinite(lastSave) && lastSave > 0) {
      const serverMicros = strictNumber(fields.get('server_time_usec'));
      const serverNow = Number.isFinite(serverMicros) ? serverMicros / 1e6 : now / 1000;
      this.writer.gauge(M.rdbLastSaveAge, {}, Math.max(0, serverNow - lastSave), now);
    }

    for (const [state, field] of [['sys', 'used_cpu_sys'], ['user', 'used_cpu_user']] as const) {
      const raw = fields.get(field);
      if (raw === undefined) continue;
      const seconds = strictNumber(raw);
      if (!this.accept(seconds)) continue;
      this.writer.rate(M.cpuTime, { state }, seconds, now);
    }

    const role = fields.get('role');
    if (role === 'master' || role === 'slave') {
      const isPrimary = role === 'master';
      this.writer.gauge(M.role, { role: 'primary' }, isPrimary ? 1 : 0, now);
      this.writer.gauge(M.role, { role: 'replica' }, isPrimary ? 0 : 1, now);
    }

    const primaryOffset = strictNumber(fields.get('master_repl_offset'));
    const replicas = strictNumber(fields.get('connected_slaves'));
    if (Number.isFinite(replicas)) {
      for (let i = 0; i < Math.min(replicas, MAX_DYNAMIC_SERIES); i++) {
        const line = fields.get(`slave${i}`);
        if (line === undefined) continue;
        const offset = strictNumber(subfield(line, 'offset'));
        if (!this.accept(offset) || !Number.isFinite(primaryOffset)) continue;
        const ip = subfield(line, 'ip') ?? '?';
        const port = subfield(line, 'port') ?? '?';
        this.writer.gauge(M.replicationLag, { replica: ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}` }, Math.max(0, primaryOffset - offset), now);
      }
    }

    for (const [key, line] of fields) {
      // keyspace lines: db<N>:keys=..,expires=..,avg_ttl=..
      if (key.length < 3 || key.charCodeAt(0) !== 100 || key.charCodeAt(1) !== 98 || !/^db\d{1,5}$/.test(key)) continue;
      const db = key.slice(2);
      const keys = strictNumber(subfield(line, 'keys'));
      const expires = strictNumber(subfield(line, 'expires'));
      const avgTtl = strictNumber(subfield(line, 'avg_ttl'));
      if (this.accept(keys)) this.writer.gauge(M.dbKeys, { db }, keys, now);
      if (this.accept(expires)) this.writer.gauge(M.dbExpires, { db }, expires, now);
      if (this.accept(avgTtl)) this.writer.gauge(M.dbAvgTtl, { db }, avgTtl, now);
    }
  }

  private async collectSlowlog(info: RedisInfo, now: number, signal: AbortSignal): Promise<SextantError | undefined> {
    const { maxEntries } = this.ctx.config.slowlog;
    try {
      const length = await this.client.sendCommand(['SLOWLOG', 'LEN'], { abortSignal: signal });
      const n = Number(length);
      if (this.accept(n)) this.writer.gauge(REDIS_METRICS.slowlogLength, {}, n, now);
      const reply = await this.client.sendCommand(['SLOWLOG', 'GET', String(maxEntries)], { abortSignal: signal });
      const outcome = this.slowlog.update(reply, info.fields.get('run_id'), maxEntries);
      for (const event of outcome.events) this.ctx.sink.event(event);
      if (outcome.events.length > 0) this.counters.slowlogEvents.add(outcome.events.length);
      if (outcome.missed > 0) this.counters.slowlogMissed.add(outcome.missed);
      if (outcome.malformed > 0) this.counters.valuesRejected.add(outcome.malformed);
      return undefined;
    } catch (error) {
      return this.optionalCommandFailed('SLOWLOG', error, 'slowlog');
    }
  }

  private async collectLatency(now: number, signal: AbortSignal): Promise<SextantError | undefined> {
    try {
      const reply = await this.client.sendCommand(['LATENCY', 'LATEST'], { abortSignal: signal });
      if (!Array.isArray(reply)) return undefined;
      for (const entry of reply) {
        // [event, unixSeconds, latestMs, maxMs]
        if (!Array.isArray(entry) || typeof entry[0] !== 'string') {
          this.counters.valuesRejected.add(1);
          continue;
        }
        const latest = Number(entry[2]);
        if (this.accept(latest)) this.writer.gauge(REDIS_METRICS.latencyLatest, { event: entry[0].slice(0, 64) }, latest, now);
      }
      return undefined;
    } catch (error) {
      return this.optionalCommandFailed('LATENCY LATEST', error, 'latency');
    }
  }

  /**
   * SLOWLOG and LATENCY are extras: when the server refuses them (ACL, renamed command) they are
   * switched off for this instance with one degraded status; a timeout or disconnect is retried.
   */
  private optionalCommandFailed(command: string, error: unknown, key: 'slowlog' | 'latency'): SextantError {
    this.counters.commandErrors.add(1);
    const text = error instanceof Error ? error.message : String(error);
    const refused = /^(ERR unknown|NOPERM|ERR.*disabled)/i.test(text);
    if (refused) {
      if (key === 'slowlog') this.slowlogEnabled = false;
      else this.latencyEnabled = false;
      return new SextantError(ErrorCode.COLLECT_FAILED, `redis at ${this.where} refused ${command} (${text.slice(0, 200)}); ${key} collection is off for this instance`, {
        hint: /^NOPERM/i.test(text) ? `grant the ACL user ${command.toLowerCase().replace(' ', '|')}, or set ${key}.enabled: false` : `set ${key}.enabled: false to silence this`,
      });
    }
    return classifyRedisError(error, this.endpoint);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      // destroy(), not quit(): shutdown must not wait on a server that may be gone
      if (this.client.isOpen) this.client.destroy();
    } catch {
      // already closed
    }
  }
}

export const redisCollectorFactory = createCollectorFactory<RedisConfig>({
  type: 'redis',
  stability: 'beta',
  description: 'Redis server metrics from INFO (memory, clients, keyspace hit ratio, persistence, replication), slowlog events and LATENCY LATEST.',
  configSchema: redisConfigSchema,
  defaults: redisConfigDefaults,
  // input shape (durations as "5s" or ms), for docs and out-of-process Describe
  configJsonSchema: z.toJSONSchema(redisConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new RedisCollector(ctx),
});
