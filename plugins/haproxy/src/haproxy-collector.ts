/**
 * The `haproxy` collector: one stats read per interval, from the stats page (`url`) or the stats
 * socket (`socket`, which also gives process-wide figures from `show info`).
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable page or socket, refused credentials, a 404 page: status `error` with a coded
 *   message and a hint; `connection_errors_total` or `replies_rejected_total` counts the round.
 * - a reply that is not HAProxy CSV (an HTML page, another service): `error` with
 *   `SEXTANT_ERR_PARSE_FAILED`, `replies_rejected_total`.
 * - rows with the wrong number of fields, values that are not finite non-negative numbers, unknown
 *   statuses: dropped and counted (`rows_rejected_total`, `values_rejected_total`); the rest counts.
 * - more rows than `maxRows`: the first `maxRows` (in HAProxy's order) are reported, the rest counted
 *   in `series_limited_total` each round.
 * - a reload or `clear counters` makes counters go back: `CounterRate` reads it as a reset, so that
 *   interval has no rate instead of a negative one.
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
import { csvUrl, haproxyConfigDefaults, haproxyConfigSchema, type HaproxyConfig } from './config.js';
import { COLUMN_METRICS, HAPROXY_METRICS, type RowType } from './metrics.js';
import { fetchStatsPage, parseInfo, parseStatsCsv, querySocket, type StatsCsv } from './stats-source.js';

const M = HAPROXY_METRICS;
const ROW_TYPES: Readonly<Record<string, RowType>> = { '0': 'frontend', '1': 'backend', '2': 'server' };
const UP_STATUSES = /^(UP|OPEN|FULL|no check|DRAIN|NOLB)\b/;
const DOWN_STATUSES = /^(DOWN|MAINT|STOP)\b/;
const HRSP = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];

/** A CSV value: `''` is "not applicable" (undefined); decimal numbers; anything else NaN. */
export function csvNumber(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
}

/** `up` of a status cell: 1, 0, or undefined for a status this collector does not know. */
export function statusUp(status: string): 0 | 1 | undefined {
  if (UP_STATUSES.test(status)) return 1;
  if (DOWN_STATUSES.test(status)) return 0;
  return undefined;
}

interface SelfCounters {
  readonly connectionErrors: SelfCounter;
  readonly repliesRejected: SelfCounter;
  readonly rowsRejected: SelfCounter;
  readonly valuesRejected: SelfCounter;
  readonly seriesLimited: SelfCounter;
}

interface RowRatio {
  errors: CounterRate;
  total: CounterRate;
}

export class HaproxyCollector implements Collector {
  private readonly where: string;
  private readonly resource: Attributes;
  private readonly counters: SelfCounters;
  private readonly proxies: ReadonlySet<string> | undefined;
  private readonly writer: MetricWriter;
  private readonly ratios = new Map<string, RowRatio>();
  private readonly status: StatusChangeReporter;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<HaproxyConfig>) {
    const config = ctx.config;
    this.where = config.socket ?? new URL(config.url!).host;
    const url = config.url ? new URL(config.url) : undefined;
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'haproxy',
      ...(url ? { 'server.address': url.hostname.replace(/^\[(.*)\]$/, '$1'), 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) } : { 'haproxy.stats_socket': config.socket! }),
      ...config.resource,
    };
    this.proxies = config.proxies.length > 0 ? new Set(config.proxies) : undefined;
    const m = ctx.metrics;
    this.counters = {
      connectionErrors: m.counter('connection_errors_total', 'Rounds that could not reach the stats page or socket'),
      repliesRejected: m.counter('replies_rejected_total', 'Stats replies refused: not HAProxy CSV, oversized, HTTP errors, timeouts'),
      rowsRejected: m.counter('rows_rejected_total', 'CSV rows with the wrong number of fields or an unknown type'),
      valuesRejected: m.counter('values_rejected_total', 'Values dropped because they were not finite non-negative numbers, or statuses not understood'),
      seriesLimited: m.counter('series_limited_total', 'Stats rows beyond maxRows, and series refused by the runtime limit'),
    };
    this.writer = new MetricWriter(ctx, { resource: this.resource, seriesLimited: this.counters.seriesLimited });
    this.status = new StatusChangeReporter(ctx, `HAProxy stats from ${this.where} are readable again`);
  }

  start(): void {
    if (this.stopped) return;
    this.ctx.status.set('starting', `reading HAProxy stats from ${this.where}`);
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    const config = this.ctx.config;
    let csv: StatsCsv;
    let info: Map<string, string> | undefined;
    try {
      if (config.socket !== undefined) {
        csv = parseStatsCsv(await querySocket(config.socket, 'show stat', config.timeout), config.socket);
        info = parseInfo(await querySocket(config.socket, 'show info', config.timeout));
      } else {
        const text = await fetchStatsPage({ url: csvUrl(config.url!), username: config.username, password: config.password, timeoutMs: config.timeout, rejectUnauthorized: config.rejectUnauthorized }, signal);
        csv = parseStatsCsv(text, config.url!);
      }
    } catch (error) {
      const classified = isSextantError(error) ? error : new SextantError(ErrorCode.COLLECT_FAILED, `HAProxy stats from ${this.where}: ${String(error)}`);
      if (classified.code === ErrorCode.CONNECTION_FAILED) this.counters.connectionErrors.add(1);
      else this.counters.repliesRejected.add(1);
      this.status.report('error', classified);
      return;
    }
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    this.processStats(csv, now);
    if (info) this.processInfo(info, now);
    this.status.report('ok');
  }

  /** Writes every metric of one `show stat` CSV read at `now` (ms). Public for tests and tools. */
  processStats(csv: StatsCsv, now: number): void {
    if (csv.rejectedRows > 0) this.counters.rowsRejected.add(csv.rejectedRows);
    const index = new Map(csv.columns.map((name, i) => [name, i]));
    const cell = (row: readonly string[], column: string) => {
      const i = index.get(column);
      return i === undefined ? undefined : row[i];
    };
    let reported = 0;
    for (const row of csv.rows) {
      const typeCell = cell(row, 'type');
      if (typeCell === '3') continue; // listeners (only with "option socket-stats")
      const type = typeCell === undefined ? undefined : ROW_TYPES[typeCell];
      const proxy = row[0] ?? '';
      const service = row[1] ?? '';
      if (!type || proxy === '' || service === '') {
        this.counters.rowsRejected.add(1);
        continue;
      }
      if (this.proxies && !this.proxies.has(proxy)) continue;
      if (reported >= this.ctx.config.maxRows) {
        this.counters.seriesLimited.add(1);
        continue;
      }
      reported++;
      const base = { 'haproxy.proxy_name': proxy.slice(0, 128), 'haproxy.service_name': service.slice(0, 128) };
      for (const spec of COLUMN_METRICS) {
        if (!spec.rows!.includes(type)) continue;
        for (const [column, attributes] of spec.columns!) {
          const value = this.accepted(cell(row, column));
          if (value === undefined) continue;
          if (spec.read === 'counter') this.writer.rate(spec, { ...base, ...attributes }, value, now);
          else this.writer.gauge(spec, { ...base, ...attributes }, value, now);
        }
      }
      const status = cell(row, 'status');
      if (status !== undefined && status !== '') {
        const up = statusUp(status);
        if (up === undefined) this.counters.valuesRejected.add(1);
        else this.writer.gauge(M.up, base, up, now);
      }
      const current = csvNumber(cell(row, 'scur'));
      const limit = csvNumber(cell(row, 'slim'));
      if (current !== undefined && limit !== undefined && current >= 0 && limit > 0) this.writer.gauge(M.sessionsUtilization, base, current / limit, now);
      this.writeErrorRatio(base, (column) => cell(row, column), now);
    }
  }

  private writeErrorRatio(base: Readonly<Record<string, string>>, cell: (column: string) => string | undefined, now: number): void {
    let total = 0;
    for (const column of HRSP) {
      const value = csvNumber(cell(column));
      if (value === undefined || !Number.isFinite(value) || value < 0) return;
      total += value;
    }
    const errors = csvNumber(cell('hrsp_5xx'))!;
    const key = `${base['haproxy.proxy_name']}\u0000${base['haproxy.service_name']}`;
    let ratio = this.ratios.get(key);
    if (!ratio) this.ratios.set(key, (ratio = { errors: new CounterRate(), total: new CounterRate() }));
    const dErrors = ratio.errors.delta(errors, now);
    const dTotal = ratio.total.delta(total, now);
    if (dErrors !== undefined && dTotal !== undefined && dTotal > 0) this.writer.gauge(M.errorRatio, base, Math.min(1, dErrors / dTotal), now);
  }

  /** Process-wide figures from `show info` (stats socket only). */
  processInfo(info: Map<string, string>, now: number): void {
    const current = this.accepted(info.get('CurrConns'));
    const max = this.accepted(info.get('Maxconn'));
    if (current !== undefined) this.writer.gauge(M.processConnections, {}, current, now);
    if (max !== undefined) this.writer.gauge(M.processConnectionsMax, {}, max, now);
    if (current !== undefined && max !== undefined && max > 0) this.writer.gauge(M.processUtilization, {}, current / max, now);
    const idle = this.accepted(info.get('Idle_pct'));
    if (idle !== undefined && idle <= 100) this.writer.gauge(M.processBusy, {}, 1 - idle / 100, now);
  }

  private accepted(raw: string | undefined): number | undefined {
    const value = csvNumber(raw);
    if (value === undefined) return undefined;
    if (Number.isFinite(value) && value >= 0) return value;
    this.counters.valuesRejected.add(1);
    return undefined;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}

export const haproxyCollectorFactory = createCollectorFactory<HaproxyConfig>({
  type: 'haproxy',
  stability: 'alpha',
  description: 'HAProxy metrics per frontend, backend and server: up/down, sessions against limits, requests and 5xx ratio, errors, queue, timings (stats page CSV or stats socket).',
  configSchema: haproxyConfigSchema,
  defaults: haproxyConfigDefaults,
  configJsonSchema: z.toJSONSchema(haproxyConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new HaproxyCollector(ctx),
});
