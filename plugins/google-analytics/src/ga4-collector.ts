/**
 * The `google-analytics` collector: one instance per GA4 property.
 *
 * Each collection round runs the realtime report (active users, events of the last minutes); every
 * `reportInterval` it also runs the core report (sessions, active users, key events, purchase
 * revenue, add-to-carts, purchases for the date range, top `limit` pages or sources plus the
 * total). Quota exhaustion (429 / RESOURCE_EXHAUSTED) and server errors back off exponentially
 * (1 min doubling up to `maxBackoff`, or the server's Retry-After), are counted, and set the
 * status to degraded with the reason; nothing is requested while backing off.
 */
import { ErrorCode, createCollectorFactory, formatError, isSextantError, type Attributes, type Collector, type CollectorContext, type SeriesId } from '@sextant/plugin-api';
import { z } from 'zod';
import { ga4ConfigDefaults, ga4ConfigSchema, type Ga4Config } from './config.js';
import { DataApiClient, QuotaExhausted, type Report } from './data-api-client.js';
import { CORE_METRICS, GA4_METRICS, ga4Series, type Ga4MetricName } from './metrics.js';
import { JwtBearerTokenSource, parseServiceAccountKey } from './service-account.js';

const BREAKDOWN_DIMENSION = { page: 'pagePath', source: 'sessionSource' } as const;
const BREAKDOWN_ATTRIBUTE = { page: 'page', source: 'source' } as const;
/** Distinct page/source values that ever get series (top-N lists change over a day). */
export const MAX_BREAKDOWN_VALUES = 500;
const FIRST_BACKOFF_MS = 60_000;

export interface Ga4Collector extends Collector {
  /** When the next request may be made (ms epoch); 0 when not backing off. */
  backoffUntil(): number;
}

function createGa4Collector(ctx: CollectorContext<Ga4Config>): Ga4Collector {
  const config = ctx.config;
  const resource: Attributes = { 'service.name': config.serviceName, 'sextant.ga4.property_id': config.propertyId, ...config.resource };
  const quotaErrors = ctx.metrics.counter('quota_errors_total', 'GA4 quota exhaustion answers (429 / RESOURCE_EXHAUSTED)');
  const requestErrors = ctx.metrics.counter('request_errors_total', 'Failed GA4 requests other than quota, by code');
  const skippedValues = ctx.metrics.counter('breakdown_values_skipped_total', 'Report rows not written because MAX_BREAKDOWN_VALUES distinct pages/sources already have series');
  const ids = new Map<string, SeriesId>();
  const breakdownValues = new Set<string>();
  let client: DataApiClient | undefined;
  let nextCoreAt = 0;
  let backoffUntil = 0;
  let failures = 0;
  let lastStatus = '';

  const setStatus = (state: 'ok' | 'degraded' | 'error', message?: string, code?: string) => {
    const key = `${state}|${message ?? ''}`;
    if (key === lastStatus) return;
    lastStatus = key;
    if (message) ctx.logger.warn(message);
    ctx.status.set(state, message, code);
  };

  const write = (metric: Ga4MetricName, attributes: Attributes, value: number, now: number) => {
    if (!Number.isFinite(value)) return;
    const key = `${metric}\u0000${JSON.stringify(attributes)}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ctx.sink.series(ga4Series(metric, resource, attributes));
      ids.set(key, id);
    }
    ctx.sink.sample(id, value, now);
  };

  const writeQuota = (report: Report, now: number) => {
    for (const [quota, q] of Object.entries(report.quota)) write('ga4.quota.remaining', { quota }, q.remaining, now);
  };

  async function coreReport(api: DataApiClient, signal: AbortSignal, now: number): Promise<void> {
    const split = config.breakdown === 'none' ? undefined : config.breakdown;
    const report = await api.runReport(
      {
        ...(split ? { dimensions: [{ name: BREAKDOWN_DIMENSION[split] }] } : {}),
        metrics: CORE_METRICS.map((m) => ({ name: GA4_METRICS[m].api })),
        dateRanges: [{ startDate: config.startDate, endDate: config.endDate }],
        limit: config.limit,
        orderBys: [{ metric: { metricName: 'sessions' }, desc: true }],
        metricAggregations: ['TOTAL'],
        returnPropertyQuota: true,
      },
      signal,
    );
    const currency = report.currencyCode ?? 'USD';
    const values = (metrics: readonly number[], attributes: Attributes) =>
      CORE_METRICS.forEach((m, i) => write(m, m === 'ga4.purchase_revenue' ? { ...attributes, currency } : attributes, metrics[i] ?? Number.NaN, now));
    if (split) {
      for (const row of report.rows) {
        const value = (row.dimensions[0] ?? '').slice(0, 200) || '(not set)';
        if (!breakdownValues.has(value)) {
          if (breakdownValues.size >= MAX_BREAKDOWN_VALUES) {
            skippedValues.add(1);
            continue;
          }
          breakdownValues.add(value);
        }
        values(row.metrics, { [BREAKDOWN_ATTRIBUTE[split]]: value });
      }
    }
    // the TOTAL aggregation; without a split the single row is the total
    const total = report.totals ?? (split ? undefined : report.rows[0]?.metrics) ?? CORE_METRICS.map(() => 0);
    values(total, {});
    writeQuota(report, now);
  }

  async function realtimeReports(api: DataApiClient, signal: AbortSignal, now: number): Promise<void> {
    const users = await api.runRealtimeReport({ metrics: [{ name: 'activeUsers' }], returnPropertyQuota: true }, signal);
    write('ga4.realtime.active_users', {}, users.rows[0]?.metrics[0] ?? 0, now);
    if (config.realtimeEvents.length === 0) return;
    const events = await api.runRealtimeReport(
      { dimensions: [{ name: 'eventName' }], metrics: [{ name: 'eventCount' }], minuteRanges: [{ startMinutesAgo: 4, endMinutesAgo: 0 }], limit: 250, returnPropertyQuota: true },
      signal,
    );
    const counts = new Map(events.rows.map((r) => [r.dimensions[0], r.metrics[0]]));
    for (const event of config.realtimeEvents) write('ga4.realtime.events', { event }, (counts.get(event) ?? 0) / 5, now);
    writeQuota(events, now);
  }

  return {
    backoffUntil: () => backoffUntil,
    start() {
      let key;
      try {
        key = parseServiceAccountKey(config.serviceAccountKey);
      } catch (e) {
        setStatus('error', formatError(e), isSextantError(e) ? e.code : ErrorCode.CONFIG_INVALID);
        throw e;
      }
      client = new DataApiClient(config.apiBase, config.propertyId, new JwtBearerTokenSource(key, ctx.clock, config.timeout), config.timeout);
      setStatus('ok');
    },
    async collect(signal) {
      const api = client;
      const now = ctx.clock.now();
      if (!api || now < backoffUntil) return;
      try {
        if (now >= nextCoreAt) {
          await coreReport(api, signal, now);
          nextCoreAt = now + config.reportInterval;
        }
        if (config.realtime) await realtimeReports(api, signal, now);
        failures = 0;
        setStatus('ok');
      } catch (e) {
        if (!isSextantError(e)) throw e;
        failures++;
        const wait = Math.min(config.maxBackoff, e instanceof QuotaExhausted && e.retryAfterMs !== undefined ? e.retryAfterMs : FIRST_BACKOFF_MS * 2 ** Math.min(failures - 1, 20));
        backoffUntil = now + wait;
        if (e instanceof QuotaExhausted) quotaErrors.add(1);
        else requestErrors.add(1, { code: e.code });
        const state = e.code === ErrorCode.AUTH_FAILED || e.code === ErrorCode.CONFIG_INVALID ? 'error' : 'degraded';
        setStatus(state, `${formatError(e)} (next attempt in ${Math.round(wait / 1000)} s)`, e.code);
      }
    },
    shutdown() {
      client = undefined;
    },
  };
}

export const ga4CollectorFactory = createCollectorFactory<Ga4Config>({
  type: 'google-analytics',
  stability: 'alpha',
  description: 'GA4 Data API: sessions, active users, key events, purchase revenue and add-to-carts per page or source, plus realtime active users and events, with a service account.',
  configSchema: ga4ConfigSchema,
  defaults: ga4ConfigDefaults as Partial<Ga4Config>,
  configJsonSchema: z.toJSONSchema(ga4ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => createGa4Collector(ctx),
});
