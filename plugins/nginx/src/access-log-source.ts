/**
 * Tails the access log once per round and writes the log-derived metrics and the `nginx.top_urls`
 * event. Rates are over the wall time since the previous round (since start() for the first one);
 * lines are attributed to the round in which they are read, not to their own timestamps.
 */
import { ErrorCode, isSextantError, type Attributes, type CollectorContext, type SelfCounter, type SeriesId } from '@sextant/plugin-api';
import { AccessLogAggregator, STATUS_CLASSES, type AccessLogRound, type Quantiles, type RouteFigures } from './access-log-aggregator.js';
import type { AccessLogConfig, NginxConfig } from './config.js';
import { LogLineParser } from './log-format.js';
import { LogTailer } from './log-tailer.js';
import { nginxSeries, type NginxMetricName } from './metrics.js';
import type { SourceHealth } from './stub-status-source.js';

/** The event type emitted once per round with lines. */
export const TOP_URLS_EVENT = 'nginx.top_urls';

const QUANTILES = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.99', 'p99'],
] as const;

interface RouteSeries {
  readonly requests: SeriesId;
  readonly errors: SeriesId;
  readonly p90: SeriesId;
}

export class AccessLogSource {
  private readonly tailer: LogTailer;
  private readonly aggregator: AccessLogAggregator;
  private readonly parser: LogLineParser;
  private lastRoundAt = Number.NaN;
  private readonly fixed = new Map<string, SeriesId>();
  private readonly routeSeries = new Map<string, RouteSeries>();
  private routeSeriesRefused = false;
  private readonly counters: Record<'lines' | 'malformed' | 'oversized' | 'rotations' | 'seriesLimit' | 'routeOverflow', SelfCounter>;

  constructor(
    private readonly ctx: CollectorContext<NginxConfig>,
    private readonly config: AccessLogConfig,
    private readonly resource: Attributes,
  ) {
    this.parser = LogLineParser.compile(config.format);
    this.aggregator = new AccessLogAggregator(this.parser, { topN: config.topN, maxRoutes: config.maxRoutes, errorStatus: config.errorStatus });
    this.tailer = new LogTailer(config.path, { fromStart: config.fromStart, maxLineBytes: config.maxLineBytes, maxReadBytes: config.maxReadBytes });
    const m = ctx.metrics;
    this.counters = {
      lines: m.counter('log_lines_total', 'access-log lines read'),
      malformed: m.counter('log_lines_malformed_total', 'access-log lines that did not match accessLog.format'),
      oversized: m.counter('log_lines_oversized_total', 'access-log lines longer than accessLog.maxLineBytes, skipped'),
      rotations: m.counter('log_rotations_total', 'access-log rotations followed, by kind (rename, truncate)'),
      seriesLimit: m.counter('series_limit_total', 'series refused by the cardinality limit'),
      routeOverflow: m.counter('log_routes_overflow_total', 'requests whose URL pattern did not fit in accessLog.maxRoutes for the round'),
    };
  }

  async start(): Promise<void> {
    await this.tailer.start();
    this.lastRoundAt = this.ctx.clock.now();
  }

  async shutdown(): Promise<void> {
    await this.tailer.close();
  }

  async collect(): Promise<SourceHealth> {
    const agg = this.aggregator;
    const tail = await this.tailer.poll((text, s, e) => void agg.consume(text, s, e));
    const round = agg.takeRound();
    const now = this.ctx.clock.now();
    const seconds = (now - this.lastRoundAt) / 1000;
    this.lastRoundAt = now;

    if (tail.lines > 0) this.counters.lines.add(tail.lines);
    if (round.malformed > 0) this.counters.malformed.add(round.malformed);
    if (tail.oversized > 0) this.counters.oversized.add(tail.oversized);
    if (tail.renames > 0) this.counters.rotations.add(tail.renames, { kind: 'rename' });
    if (tail.truncations > 0) this.counters.rotations.add(tail.truncations, { kind: 'truncate' });
    if (round.overflowRequests > 0) this.counters.routeOverflow.add(round.overflowRequests);

    if (tail.error !== undefined) {
      return { state: 'error', code: ErrorCode.CONNECTION_FAILED, message: `cannot read access log ${this.config.path}: ${tail.error}; let the agent read the file (permissions, volume mount)` };
    }
    if (tail.missing) {
      return {
        state: 'degraded',
        code: ErrorCode.CONNECTION_FAILED,
        message: `access log ${this.config.path} does not exist (yet); check accessLog.path against the access_log directive in nginx.conf`,
      };
    }
    if (seconds > 0) this.write(round, seconds, now);
    if (round.malformed > 0 && round.lines === 0) {
      return {
        state: 'degraded',
        code: ErrorCode.PARSE_FAILED,
        message: `none of ${round.malformed} access-log lines matched accessLog.format (last: ${round.lastError}); copy the log_format string of that access_log from nginx.conf`,
      };
    }
    return { state: 'ok' };
  }

  private write(round: AccessLogRound, seconds: number, now: number): void {
    const sink = this.ctx.sink;
    for (let c = 0; c < STATUS_CLASSES.length; c++) {
      this.sample('nginx.http.requests', { 'http.response.status_class': STATUS_CLASSES[c] }, round.statusClasses[c] / seconds, now);
    }
    if (round.bytes === round.bytes) this.sample('nginx.http.response.body.size', {}, round.bytes / seconds, now);
    this.writeQuantiles('nginx.http.request.duration', round.duration, now);
    this.writeQuantiles('nginx.http.upstream.duration', round.upstream, now);
    const routes = new Map<string, RouteFigures>();
    for (const r of round.slowest) routes.set(r.template, r);
    for (const r of round.erroring) routes.set(r.template, r);
    for (const r of routes.values()) {
      const ids = this.routeIds(r.template);
      if (!ids) continue;
      sink.sample(ids.requests, r.requests / seconds, now);
      sink.sample(ids.errors, r.errors / seconds, now);
      if (r.p90 === r.p90) sink.sample(ids.p90, r.p90, now);
    }
    if (round.lines > 0) sink.event(this.topUrlsEvent(round, seconds, now));
  }

  private writeQuantiles(metric: NginxMetricName, q: Quantiles | undefined, now: number): void {
    if (!q) return;
    for (const [label, key] of QUANTILES) this.sample(metric, { quantile: label }, q[key], now);
  }

  private sample(metric: NginxMetricName, attributes: Attributes, value: number, now: number): void {
    const key = `${metric}|${JSON.stringify(attributes)}`;
    let id = this.fixed.get(key);
    if (id === undefined) {
      id = this.intern(metric, attributes);
      if (id === undefined) return;
      this.fixed.set(key, id);
    }
    this.ctx.sink.sample(id, value, now);
  }

  private routeIds(template: string): RouteSeries | undefined {
    const known = this.routeSeries.get(template);
    if (known) return known;
    if (this.routeSeries.size >= this.config.maxRouteSeries) {
      if (!this.routeSeriesRefused) {
        this.routeSeriesRefused = true;
        this.ctx.logger.warn(`url.template series capped at accessLog.maxRouteSeries=${this.config.maxRouteSeries}; new patterns appear only in ${TOP_URLS_EVENT} events`);
      }
      this.counters.seriesLimit.add(1, { metric: 'nginx.http.route' });
      return undefined;
    }
    const attrs = { 'url.template': template };
    const requests = this.intern('nginx.http.route.requests', attrs);
    const errors = this.intern('nginx.http.route.errors', attrs);
    const p90 = this.intern('nginx.http.route.duration.p90', attrs);
    if (requests === undefined || errors === undefined || p90 === undefined) return undefined;
    const ids = { requests, errors, p90 };
    this.routeSeries.set(template, ids);
    return ids;
  }

  private intern(metric: NginxMetricName, attributes: Attributes): SeriesId | undefined {
    try {
      return this.ctx.sink.series(nginxSeries(metric, this.resource, attributes));
    } catch (e) {
      if (isSextantError(e) && e.code === ErrorCode.LIMIT_EXCEEDED) {
        this.counters.seriesLimit.add(1, { metric });
        return undefined;
      }
      throw e;
    }
  }

  private topUrlsEvent(round: AccessLogRound, seconds: number, now: number) {
    const attributes: Record<string, string | number> = {
      'nginx.top_urls.n': this.config.topN,
      'nginx.top_urls.interval_s': Math.round(seconds * 1000) / 1000,
      'nginx.top_urls.requests': round.lines,
    };
    round.slowest.forEach((r, i) => {
      const p = `nginx.top_urls.slowest.${i + 1}`;
      attributes[`${p}.url.template`] = r.template;
      attributes[`${p}.duration.p90`] = r.p90;
      attributes[`${p}.requests`] = r.requests;
    });
    round.erroring.forEach((r, i) => {
      const p = `nginx.top_urls.erroring.${i + 1}`;
      attributes[`${p}.url.template`] = r.template;
      attributes[`${p}.errors`] = r.errors;
      attributes[`${p}.requests`] = r.requests;
    });
    const slow = round.slowest[0];
    const err = round.erroring[0];
    const parts = [`${round.lines} requests in ${seconds.toFixed(1)} s`];
    if (slow) parts.push(`slowest ${slow.template} p90 ${slow.p90.toFixed(3)} s`);
    if (err) parts.push(`most errors ${err.template} (${err.errors} of ${err.requests})`);
    return {
      type: TOP_URLS_EVENT,
      timestamp: now,
      title: `nginx top URL patterns: ${parts.join('; ')}`,
      resource: this.resource,
      attributes,
      severity: 'info' as const,
      source: 'nginx',
    };
  }
}
