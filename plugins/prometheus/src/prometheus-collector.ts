/**
 * The `prometheus` collector factory: one instance per scrape target. Each round fetches the page
 * (native protobuf preferred, then OpenMetrics, then text 0.0.4), parses it in one pass and writes every sample
 * through a per-target cache of series ids keyed by the series text, so labels are parsed once per
 * series, not once per scrape.
 *
 * Per target it also writes Prometheus' synthetic series — `up`, `scrape_duration_seconds`,
 * `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling` — so a dead target is a value
 * (up = 0) and a status, never a crash.
 *
 * A page is refused as a whole (up = 0, nothing else written, counted) when it is larger than
 * `maxBodyBytes` or has more samples than `sampleLimit`; malformed lines are skipped and counted and
 * the rest of the page is kept.
 */
import {
  ErrorCode,
  createCollectorFactory,
  formatError,
  isSextantError,
  type Attributes,
  type Collector,
  type CollectorContext,
  type HealthState,
  type SelfCounter,
  type SeriesId,
} from '@sextant/plugin-api';
import { z } from 'zod';
import { authorizationHeader, prometheusConfigDefaults, prometheusConfigSchema, type PrometheusConfig } from './config.js';
import { parseExposition, parseSeriesText, type ExpositionFormat, type ExpositionVisitor, type FamilyType } from './exposition-parser.js';
import { MetricNameFilter } from './metric-filter.js';
import { ProtobufExpositionReader, PROTOBUF_CONTENT_TYPE, isProtobufExposition } from './protobuf-exposition.js';
import { ScrapeHttpClient } from './scrape-http-client.js';
import { describeSample, sampleFamily, sextantType, unitOf } from './series-mapping.js';

const TEXT_DECODER = new TextDecoder();

/** What the scraper asks for when `protobuf` is off, best first (the preference Prometheus 2.x sends). */
export const SCRAPE_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** With `protobuf` on: the native protobuf format first (the only one that carries native histograms). */
export const SCRAPE_ACCEPT_PROTOBUF = `${PROTOBUF_CONTENT_TYPE},application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`;

/** A page's format: one of the text formats, or delimited protobuf MetricFamily messages. */
export type PageFormat = ExpositionFormat | 'protobuf';

/** Cache verdicts for series that are not written (ids are >= 0). */
const FILTERED = -1;
const DROPPED = -2;

interface CacheEntry {
  id: number;
  /** Scrape number that last saw it; entries unseen for a scrape are pruned when the cache grows. */
  seen: number;
}

/** Outcome of one scrape, for status and the synthetic series. */
interface ScrapeOutcome {
  readonly up: boolean;
  readonly scraped: number;
  readonly written: number;
  readonly state: HealthState;
  readonly message?: string;
  readonly code?: string;
}

/** The target's resource: `service.name` = job, `service.instance.id` = host:port, then `labels`. */
export function targetResource(config: PrometheusConfig): Attributes {
  const u = new URL(config.url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return {
    'service.name': config.job,
    'service.instance.id': `${u.hostname}:${port}`,
    'server.address': u.hostname,
    'server.port': Number(port),
    'url.full': `${u.protocol}//${u.host}${u.pathname}`,
    ...config.labels,
  };
}

export class PrometheusScraper implements Collector {
  private readonly filter: MetricNameFilter;
  private readonly resource: Attributes;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly http = new ScrapeHttpClient();
  private readonly protobuf = new ProtobufExpositionReader();
  private scrapeNo = 0;
  private lastStatus = '';
  private stopped = false;
  // staging of one page, so a refused page writes nothing
  private ids = new Uint32Array(1024);
  private values = new Float64Array(1024);
  private stamps = new Float64Array(1024);
  private readonly synthetic: { up: SeriesId; duration: SeriesId; scraped: SeriesId; written: SeriesId } | undefined;
  private readonly counters: {
    malformed: SelfCounter;
    nonFinite: SelfCounter;
    refused: SelfCounter;
    droppedSeries: SelfCounter;
    failures: SelfCounter;
  };

  constructor(private readonly ctx: CollectorContext<PrometheusConfig>) {
    const c = ctx.config;
    this.filter = new MetricNameFilter(c.keep, c.drop);
    this.resource = targetResource(c);
    const m = ctx.metrics;
    this.counters = {
      malformed: m.counter('malformed_lines_total', 'Exposition lines that could not be parsed and were skipped'),
      nonFinite: m.counter('non_finite_values_total', 'Scraped samples with NaN or +-Inf values, not stored'),
      refused: m.counter('refused_scrapes_total', 'Whole pages refused (reason: sample_limit, body_too_large)'),
      droppedSeries: m.counter('dropped_series_total', 'Series not written (reason: label_limit, label_value_length, series_limit, invalid)'),
      failures: m.counter('scrape_failures_total', 'Scrapes that got no page (reason: connection, timeout, http_status, auth_file)'),
    };
    const s = (metric: string, unit: string, description: string, kind?: 'availability') =>
      ctx.sink.series({ metric, unit, type: 'gauge', ...(kind ? { kind } : {}), description, resource: this.resource, attributes: {} });
    this.synthetic = {
      up: s('up', '1', '1 when the last scrape of the target succeeded, else 0', 'availability'),
      duration: s('scrape_duration_seconds', 's', 'Duration of the last scrape of the target'),
      scraped: s('scrape_samples_scraped', '1', 'Samples the target exposed in the last scrape'),
      written: s('scrape_samples_post_metric_relabeling', '1', 'Samples kept after keep/drop in the last scrape'),
    };
  }

  start(): void {
    this.report({ up: true, scraped: 0, written: 0, state: 'ok' });
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    const started = this.ctx.clock.now();
    const t0 = performance.now();
    const outcome = await this.scrape(signal, started);
    const sink = this.ctx.sink;
    const syn = this.synthetic!;
    sink.sample(syn.up, outcome.up ? 1 : 0, started);
    sink.sample(syn.duration, (performance.now() - t0) / 1000, started);
    sink.sample(syn.scraped, outcome.scraped, started);
    sink.sample(syn.written, outcome.written, started);
    this.report(outcome);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.cache.clear();
    await this.http.close();
  }

  private async scrape(roundSignal: AbortSignal, started: number): Promise<ScrapeOutcome> {
    const c = this.ctx.config;
    const headers: Record<string, string> = {
      accept: c.protobuf ? SCRAPE_ACCEPT_PROTOBUF : SCRAPE_ACCEPT,
      'accept-encoding': 'gzip',
      'user-agent': 'sextant-plugin-prometheus',
      'x-prometheus-scrape-timeout-seconds': String(c.timeout / 1000),
      ...c.headers,
    };
    try {
      const auth = authorizationHeader(c);
      if (auth) headers.authorization = auth;
    } catch (e) {
      this.counters.failures.add(1, { reason: 'auth_file' });
      return { up: false, scraped: 0, written: 0, state: 'error', code: ErrorCode.AUTH_FAILED, message: `cannot read the credentials file: ${(e as Error).message}` };
    }

    // One controller and one timer per scrape: AbortSignal.any() + AbortSignal.timeout() cost a
    // FinalizationRegistry entry and a dependent-signal set each, measurable at 1,000 targets.
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new DOMException(`scrape timeout of ${c.timeout} ms`, 'TimeoutError'));
    }, c.timeout);
    const onAbort = () => abort.abort(roundSignal.reason ?? this.ctx.signal.reason);
    if (roundSignal.aborted || this.ctx.signal.aborted) onAbort();
    roundSignal.addEventListener('abort', onAbort, { once: true });
    this.ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.fetchAndIngest(c, headers, abort.signal, () => timedOut, started);
    } finally {
      clearTimeout(timer);
      roundSignal.removeEventListener('abort', onAbort);
      this.ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  private async fetchAndIngest(c: PrometheusConfig, headers: Record<string, string>, signal: AbortSignal, timedOut: () => boolean, started: number): Promise<ScrapeOutcome> {
    let body: Uint8Array;
    let format: PageFormat;
    try {
      const res = await this.http.get(c.url, headers, c.maxBodyBytes, signal);
      if (res.kind === 'status') {
        this.counters.failures.add(1, { reason: 'http_status' });
        const auth = res.status === 401 || res.status === 403;
        return {
          up: false, scraped: 0, written: 0, state: 'error',
          code: auth ? ErrorCode.AUTH_FAILED : ErrorCode.CONNECTION_FAILED,
          message: `${c.url} answered HTTP ${res.status}${auth ? '; check bearerToken/basicAuth' : ''}`,
        };
      }
      if (res.kind === 'too-large') {
        this.counters.refused.add(1, { reason: 'body_too_large' });
        return {
          up: false, scraped: 0, written: 0, state: 'error', code: ErrorCode.LIMIT_EXCEEDED,
          message: `${c.url} sent more than maxBodyBytes (${c.maxBodyBytes} bytes); the page was refused; raise maxBodyBytes or drop metrics at the exporter`,
        };
      }
      format = isProtobufExposition(res.contentType) ? 'protobuf' : /application\/openmetrics-text/i.test(res.contentType) ? 'openmetrics' : 'text';
      body = res.body;
    } catch (e) {
      const timeout = timedOut();
      this.counters.failures.add(1, { reason: timeout ? 'timeout' : 'connection' });
      return {
        up: false, scraped: 0, written: 0, state: 'error', code: ErrorCode.CONNECTION_FAILED,
        message: timeout ? `${c.url} did not answer within ${c.timeout} ms; raise timeout or check the target` : `cannot scrape ${c.url}: ${formatError((e as Error).cause ?? e)}`,
      };
    }
    return this.ingest(format === 'protobuf' ? body : TEXT_DECODER.decode(body), format, started);
  }

  /** Parses one page (text, or the raw bytes of a protobuf page) into the staging arrays, then writes it unless it was refused. */
  ingest(page: string | Uint8Array, format: PageFormat, started: number): ScrapeOutcome {
    const c = this.ctx.config;
    const scrapeNo = ++this.scrapeNo;
    const types = new Map<string, FamilyType>();
    const helps = new Map<string, string>();
    const units = new Map<string, string>();
    let staged = 0;
    let scraped = 0;
    let nonFinite = 0;
    let overLimit = false;
    const dropped: Record<string, number> = {};
    let firstError: string | undefined;
    const visitor: ExpositionVisitor = {
      type: (name, type) => void types.set(name, type),
      help: (name, help) => void helps.set(name, help),
      unit: (name, unit) => void units.set(name, unit),
      error: (line, message) => void (firstError ??= `line ${line}: ${message}`),
      sample: (series, nameLength, value, ts) => {
        scraped++;
        let entry = this.cache.get(series);
        if (entry === undefined) {
          entry = { id: this.resolveSeries(series, nameLength, types, helps, units, dropped), seen: scrapeNo };
          this.cache.set(series, entry);
        } else entry.seen = scrapeNo;
        const id = entry.id;
        if (id < 0) return true;
        if (!Number.isFinite(value)) {
          nonFinite++;
          return true;
        }
        if (c.sampleLimit > 0 && staged >= c.sampleLimit) {
          overLimit = true;
          return false;
        }
        if (staged === this.ids.length) this.grow();
        this.ids[staged] = id;
        this.values[staged] = value;
        this.stamps[staged] = Number.isNaN(ts) ? started : ts;
        staged++;
        return true;
      },
    };
    const summary =
      format === 'protobuf'
        ? this.protobuf.parse(typeof page === 'string' ? Buffer.from(page, 'latin1') : page, visitor)
        : parseExposition(typeof page === 'string' ? page : TEXT_DECODER.decode(page), format, visitor);
    if (summary.errors > 0) this.counters.malformed.add(summary.errors);
    if (nonFinite > 0) this.counters.nonFinite.add(nonFinite);
    for (const [reason, n] of Object.entries(dropped)) this.counters.droppedSeries.add(n, { reason });
    this.pruneCache(scrapeNo, scraped);

    if (overLimit) {
      this.counters.refused.add(1, { reason: 'sample_limit' });
      return {
        up: false, scraped, written: 0, state: 'error', code: ErrorCode.LIMIT_EXCEEDED,
        message: `${c.url} exposes more than sampleLimit (${c.sampleLimit}) samples; the page was refused; raise sampleLimit or drop metrics with keep/drop`,
      };
    }
    const sink = this.ctx.sink;
    for (let i = 0; i < staged; i++) sink.sample(this.ids[i], this.values[i], this.stamps[i]);
    const problems: string[] = [];
    if (summary.errors > 0) problems.push(format === 'protobuf' ? `${summary.errors} undecodable metric famil(ies) or histogram(s) skipped (first: ${firstError?.replace(/^line/, 'family')})` : `${summary.errors} malformed line(s) skipped (first: ${firstError})`);
    if (format === 'openmetrics' && !summary.sawEof) problems.push('the OpenMetrics page has no "# EOF" line (truncated?)');
    const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
    if (droppedTotal > 0) problems.push(`${droppedTotal} new series dropped (${Object.entries(dropped).map(([r, n]) => `${r}: ${n}`).join(', ')})`);
    return problems.length > 0
      ? { up: true, scraped, written: staged, state: 'degraded', code: ErrorCode.PARSE_FAILED, message: `${c.url}: ${problems.join('; ')}` }
      : { up: true, scraped, written: staged, state: 'ok' };
  }

  /** A new series text: filter, parse labels, apply limits and honour_labels, intern. */
  private resolveSeries(
    series: string,
    nameLength: number,
    types: ReadonlyMap<string, FamilyType>,
    helps: ReadonlyMap<string, string>,
    units: ReadonlyMap<string, string>,
    dropped: Record<string, number>,
  ): number {
    const c = this.ctx.config;
    const name = series.slice(0, nameLength);
    if (!this.filter.accepts(name)) return FILTERED;
    const drop = (reason: string) => {
      dropped[reason] = (dropped[reason] ?? 0) + 1;
      return DROPPED;
    };
    const parsed = parseSeriesText(series, nameLength);
    if ('error' in parsed) return drop('invalid');
    if (c.labelLimit > 0 && parsed.labels.length > c.labelLimit) return drop('label_limit');
    const attributes: Record<string, string> = {};
    let resource = this.resource;
    let hasQuantile = false;
    for (const [k, v] of parsed.labels) {
      if (c.labelValueLengthLimit > 0 && v.length > c.labelValueLengthLimit) return drop('label_value_length');
      if (v === '') continue;
      if (k === 'quantile') hasQuantile = true;
      const targetKey = k === 'job' ? 'service.name' : k === 'instance' ? 'service.instance.id' : Object.hasOwn(c.labels, k) ? k : undefined;
      if (targetKey === undefined) attributes[k] = v;
      else if (c.honourLabels) resource = { ...resource, [targetKey]: v };
      else attributes[`exported_${k}`] = v;
    }
    const family = sampleFamily(name, hasQuantile, types);
    try {
      return this.ctx.sink.series({
        metric: name,
        unit: unitOf(family.family, units.get(family.family)),
        type: sextantType(family),
        description: describeSample(family, helps.get(family.family)),
        resource,
        attributes,
      });
    } catch (e) {
      if (isSextantError(e) && e.code === ErrorCode.LIMIT_EXCEEDED) return drop('series_limit');
      throw e;
    }
  }

  /** Forgets series texts not seen in the last scrape once the cache is well above the page size. */
  private pruneCache(scrapeNo: number, pageSeries: number): void {
    if (this.cache.size <= 2 * pageSeries + 1024) return;
    for (const [key, entry] of this.cache) if (entry.seen !== scrapeNo) this.cache.delete(key);
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Uint32Array(n);
    ids.set(this.ids);
    const values = new Float64Array(n);
    values.set(this.values);
    const stamps = new Float64Array(n);
    stamps.set(this.stamps);
    this.ids = ids;
    this.values = values;
    this.stamps = stamps;
  }

  private report(o: ScrapeOutcome): void {
    const key = `${o.state}|${o.message ?? ''}`;
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    if (o.message) this.ctx.logger.warn(o.message, { instance: this.ctx.instanceId });
    this.ctx.status.set(o.state, o.message, o.code);
  }
}

export const prometheusCollectorFactory = createCollectorFactory<PrometheusConfig>({
  type: 'prometheus',
  stability: 'alpha',
  description: 'Scrapes a Prometheus endpoint (native protobuf, OpenMetrics or text format): counters, gauges, histograms (as buckets; native ones as count, sum and quantiles), summaries; up and scrape duration per target.',
  configSchema: prometheusConfigSchema,
  defaults: prometheusConfigDefaults,
  configJsonSchema: z.toJSONSchema(prometheusConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new PrometheusScraper(ctx),
});
