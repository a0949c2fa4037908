/**
 * The `memcached` collector: one persistent connection per instance, one `stats` per interval.
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable / refused / connection dropped: status `error` with a coded message and a hint,
 *   `connection_errors_total` counts the round; the next round connects again.
 * - something that is not memcached on the port (no `STAT` lines, an oversized reply, a reply
 *   that never ends): status `error` with `SEXTANT_ERR_PARSE_FAILED` or `COLLECT_FAILED`,
 *   `replies_rejected_total` counts it.
 * - a restart (`pid` changed or `uptime` went back): every counter baseline is dropped, so the first
 *   round after it emits no rate instead of a negative or inflated one; a `memcached.restart` event.
 * - malformed lines and values that are not finite non-negative numbers: dropped and counted
 *   (`lines_rejected_total`, `values_rejected_total`), the rest of the reply still counts.
 */
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
import { memcachedConfigDefaults, memcachedConfigSchema, parseEndpoint, type MemcachedConfig, type MemcachedEndpoint } from './config.js';
import { FIELD_METRICS, MEMCACHED_METRICS } from './metrics.js';
import { MemcachedStatsClient } from './stats-client.js';

const M = MEMCACHED_METRICS;

/** A stats value: decimal numbers only (memcached sends integers and `12.345678` CPU seconds). */
export function statValue(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
}

interface SelfCounters {
  readonly connectionErrors: SelfCounter;
  readonly repliesRejected: SelfCounter;
  readonly linesRejected: SelfCounter;
  readonly valuesRejected: SelfCounter;
  readonly restarts: SelfCounter;
}

export class MemcachedCollector implements Collector {
  private readonly endpoint: MemcachedEndpoint;
  private readonly where: string;
  private readonly resource: Attributes;
  private readonly client: MemcachedStatsClient;
  private readonly counters: SelfCounters;
  private readonly writer: MetricWriter;
  private getHits = new CounterRate();
  private getMisses = new CounterRate();
  private pid: string | undefined;
  private lastUptime = Number.NaN;
  private readonly status: StatusChangeReporter;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<MemcachedConfig>) {
    this.endpoint = parseEndpoint(ctx.config.endpoint)!;
    this.where = this.endpoint.host.includes(':') ? `[${this.endpoint.host}]:${this.endpoint.port}` : `${this.endpoint.host}:${this.endpoint.port}`;
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'memcached',
      'server.address': this.endpoint.host,
      'server.port': this.endpoint.port,
      ...ctx.config.resource,
    };
    this.client = new MemcachedStatsClient(this.endpoint, ctx.config.timeout);
    const m = ctx.metrics;
    this.counters = {
      connectionErrors: m.counter('connection_errors_total', 'Rounds that could not connect to memcached or lost the connection'),
      repliesRejected: m.counter('replies_rejected_total', 'stats replies that were not memcached stats (no STAT lines, oversized, error lines, timeouts)'),
      linesRejected: m.counter('lines_rejected_total', 'Lines of a stats reply that were not "STAT name value"'),
      valuesRejected: m.counter('values_rejected_total', 'Stats values dropped because they were not finite non-negative numbers'),
      restarts: m.counter('server_restarts_total', 'memcached restarts noticed (pid changed or uptime went back)'),
    };
    this.writer = new MetricWriter(ctx, {
      resource: this.resource,
      seriesLimited: m.counter('series_limited_total', 'Series not created because the runtime series limit was reached'),
    });
    this.status = new StatusChangeReporter(ctx, `memcached at ${this.where} is healthy again`);
  }

  start(): void {
    if (this.stopped) return;
    this.ctx.status.set('starting', `connecting to memcached at ${this.where}`);
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    let reply;
    try {
      reply = await this.client.stats(signal);
    } catch (error) {
      const classified = isSextantError(error) ? error : new SextantError(ErrorCode.COLLECT_FAILED, `memcached at ${this.where}: ${String(error)}`);
      if (classified.code === ErrorCode.CONNECTION_FAILED) this.counters.connectionErrors.add(1);
      else this.counters.repliesRejected.add(1);
      this.status.report('error', classified);
      return;
    }
    if (this.stopped) return;
    if (reply.rejectedLines > 0) this.counters.linesRejected.add(reply.rejectedLines);
    if (reply.stats.size === 0) {
      this.counters.repliesRejected.add(1);
      this.status.report('error', new SextantError(ErrorCode.PARSE_FAILED, `the stats reply from ${this.where} had no STAT lines (${reply.rejectedLines} unreadable)`, { hint: 'is this a memcached server? check endpoint' }));
      return;
    }
    this.processStats(reply.stats, this.ctx.clock.now());
    this.status.report('ok');
  }

  /**
   * Writes every metric of one `stats` reply read at `now` (ms). Public for the tests and for
   * tools that obtain stats another way; `collect()` is the normal entry point.
   */
  processStats(stats: Map<string, string>, now: number): void {
    this.noticeRestart(stats, now);
    for (const spec of FIELD_METRICS) {
      for (const [stat, attributes] of spec.fields!) {
        const value = this.accepted(stats.get(stat));
        if (value === undefined) continue;
        if (spec.read === 'counter') this.writer.rate(spec, attributes, value, now);
        else this.writer.gauge(spec, attributes, value, now);
      }
    }
    const bytes = statValue(stats.get('bytes'));
    const limit = statValue(stats.get('limit_maxbytes'));
    if (bytes !== undefined && limit !== undefined && bytes >= 0 && limit > 0) this.writer.gauge(M.utilization, {}, bytes / limit, now);
    const current = statValue(stats.get('curr_connections'));
    const max = statValue(stats.get('max_connections'));
    if (current !== undefined && max !== undefined && current >= 0 && max > 0) this.writer.gauge(M.connectionUtilization, {}, current / max, now);
    const hits = statValue(stats.get('get_hits'));
    const misses = statValue(stats.get('get_misses'));
    if (hits !== undefined && misses !== undefined) {
      const dh = this.getHits.delta(hits, now);
      const dm = this.getMisses.delta(misses, now);
      if (dh !== undefined && dm !== undefined && dh + dm > 0) this.writer.gauge(M.hitRatio, { operation: 'get' }, dh / (dh + dm), now);
    }
  }

  private noticeRestart(stats: Map<string, string>, now: number): void {
    const pid = stats.get('pid');
    const uptime = statValue(stats.get('uptime'));
    const restarted = (this.pid !== undefined && pid !== undefined && pid !== this.pid) || (uptime !== undefined && uptime < this.lastUptime);
    if (pid !== undefined) this.pid = pid;
    if (uptime !== undefined && Number.isFinite(uptime)) this.lastUptime = uptime;
    if (!restarted) return;
    this.counters.restarts.add(1);
    this.writer.forgetRates();
    this.getHits = new CounterRate();
    this.getMisses = new CounterRate();
    this.ctx.sink.event({
      type: 'memcached.restart',
      timestamp: now,
      title: `memcached on ${this.where} restarted (up ${uptime ?? '?'} s): the cache is empty`,
      resource: this.resource,
      attributes: { 'memcached.uptime': uptime !== undefined && Number.isFinite(uptime) ? uptime : -1 },
      severity: 'warning',
      source: 'memcached',
    });
  }

  private accepted(raw: string | undefined): number | undefined {
    const value = statValue(raw);
    if (value === undefined) return undefined;
    if (Number.isFinite(value) && value >= 0) return value;
    this.counters.valuesRejected.add(1);
    return undefined;
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.client.close();
  }
}

export const memcachedCollectorFactory = createCollectorFactory<MemcachedConfig>({
  type: 'memcached',
  stability: 'alpha',
  description: 'memcached metrics from stats: get hit ratio, commands, evictions, memory and connections against their limits, rejected connections.',
  configSchema: memcachedConfigSchema,
  defaults: memcachedConfigDefaults,
  configJsonSchema: z.toJSONSchema(memcachedConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new MemcachedCollector(ctx),
});
