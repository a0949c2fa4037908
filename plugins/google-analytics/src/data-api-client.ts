/**
 * A client of the GA4 Data API v1beta: `properties/{id}:runReport` and `:runRealtimeReport`.
 *
 * Request bodies follow the published RunReportRequest / RunRealtimeReportRequest (`dimensions`,
 * `metrics`, `dateRanges` or `minuteRanges`, `limit`, `returnPropertyQuota`); responses are read
 * defensively (metric values arrive as strings). Errors are Google's
 * `{"error": {"code", "message", "status"}}`: `RESOURCE_EXHAUSTED` (HTTP 429, quota: tokens per
 * hour/day, concurrent requests) becomes a {@link QuotaExhausted} the collector backs off on.
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { readBodyCapped } from '@sextant/plugin-kit';
import type { JwtBearerTokenSource } from './service-account.js';

const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface ReportRequest {
  readonly dimensions?: readonly { name: string }[];
  readonly metrics: readonly { name: string }[];
  readonly dateRanges?: readonly { startDate: string; endDate: string }[];
  readonly minuteRanges?: readonly { startMinutesAgo: number; endMinutesAgo: number }[];
  readonly limit?: number;
  readonly orderBys?: readonly { metric: { metricName: string }; desc?: boolean }[];
  readonly metricAggregations?: readonly 'TOTAL'[];
  readonly returnPropertyQuota?: boolean;
}

export interface ReportRow {
  readonly dimensions: readonly string[];
  /** Metric values in request order; NaN where the API sent something unreadable. */
  readonly metrics: readonly number[];
}

export interface QuotaStatus {
  readonly consumed: number;
  readonly remaining: number;
}

export interface Report {
  readonly rows: readonly ReportRow[];
  /** The TOTAL aggregation row's metric values when requested (`metricAggregations: ["TOTAL"]`). */
  readonly totals?: readonly number[];
  readonly rowCount: number;
  readonly currencyCode?: string;
  readonly quota: Readonly<Record<string, QuotaStatus>>;
}

/** The API said a quota is exhausted: wait before asking again. */
export class QuotaExhausted extends SextantError {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(ErrorCode.LIMIT_EXCEEDED, message, { hint: 'Sextant backs off; lower the report frequency (reportInterval) or the number of properties' });
  }
}

export class DataApiClient {
  constructor(
    private readonly apiBase: string,
    private readonly propertyId: string,
    private readonly tokens: JwtBearerTokenSource,
    private readonly timeoutMs: number,
  ) {}

  runReport(request: ReportRequest, signal?: AbortSignal): Promise<Report> {
    return this.call('runReport', request, signal);
  }

  runRealtimeReport(request: ReportRequest, signal?: AbortSignal): Promise<Report> {
    return this.call('runRealtimeReport', request, signal);
  }

  private async call(method: 'runReport' | 'runRealtimeReport', request: ReportRequest, signal: AbortSignal | undefined, retried = false): Promise<Report> {
    const token = await this.tokens.accessToken(signal);
    const url = `${this.apiBase.replace(/\/$/, '')}/v1beta/properties/${this.propertyId}:${method}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(request),
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach the GA4 Data API (${method}): ${(e as Error).message}`, { hint: 'check network access to analyticsdata.googleapis.com' });
    }
    const text = new TextDecoder().decode(await readBodyCapped(res, MAX_RESPONSE_BYTES + 1));
    if (text.length > MAX_RESPONSE_BYTES) throw new SextantError(ErrorCode.LIMIT_EXCEEDED, `the ${method} response is larger than ${MAX_RESPONSE_BYTES} bytes`, { hint: 'lower limit' });
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new SextantError(res.ok ? ErrorCode.PARSE_FAILED : ErrorCode.CONNECTION_FAILED, `the GA4 Data API answered ${method} with HTTP ${res.status} and a body that is not JSON`);
    }
    if (!res.ok) {
      const err = (json.error ?? {}) as { code?: number; message?: string; status?: string };
      const what = `${err.status ?? `HTTP ${res.status}`}: ${String(err.message ?? '').slice(0, 300)}`;
      if (res.status === 429 || err.status === 'RESOURCE_EXHAUSTED') {
        const retry = Number(res.headers.get('retry-after'));
        throw new QuotaExhausted(`GA4 quota exhausted for property ${this.propertyId} (${what})`, Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined);
      }
      if (res.status === 401 && !retried) {
        this.tokens.invalidate(); // expired or revoked early: one fresh token, one retry
        return this.call(method, request, signal, true);
      }
      if (res.status === 401 || res.status === 403) {
        throw new SextantError(ErrorCode.AUTH_FAILED, `GA4 refused ${method} on property ${this.propertyId} (${what})`, {
          hint: 'add the service account e-mail as a Viewer of the GA4 property, and enable the Google Analytics Data API in its Cloud project',
        });
      }
      if (res.status === 400) throw new SextantError(ErrorCode.CONFIG_INVALID, `GA4 refused the ${method} request (${what})`, { hint: 'check the metric and dimension names in the configuration' });
      throw new SextantError(ErrorCode.CONNECTION_FAILED, `GA4 ${method} failed (${what})`, { hint: 'a server-side error; Sextant retries with backoff' });
    }
    return readReport(json);
  }
}

function readRow(raw: Record<string, unknown> | undefined): ReportRow {
  const dims = Array.isArray(raw?.dimensionValues) ? (raw.dimensionValues as { value?: unknown }[]).map((d) => String(d?.value ?? '')) : [];
  const mets = Array.isArray(raw?.metricValues) ? (raw.metricValues as { value?: unknown }[]).map((m) => (typeof m?.value === 'string' && m.value.trim() !== '' ? Number(m.value) : Number.NaN)) : [];
  return { dimensions: dims, metrics: mets };
}

function readReport(json: Record<string, unknown>): Report {
  const rows = (Array.isArray(json.rows) ? (json.rows as Record<string, unknown>[]) : []).map(readRow);
  const totals = Array.isArray(json.totals) && json.totals.length > 0 ? readRow(json.totals[0] as Record<string, unknown>).metrics : undefined;
  const quota: Record<string, QuotaStatus> = {};
  const pq = (json.propertyQuota ?? {}) as Record<string, { consumed?: unknown; remaining?: unknown }>;
  for (const [name, q] of Object.entries(pq)) {
    if (q && typeof q.remaining === 'number') quota[name] = { consumed: Number(q.consumed ?? 0), remaining: q.remaining };
  }
  const meta = (json.metadata ?? {}) as { currencyCode?: unknown };
  return { rows, ...(totals ? { totals } : {}), rowCount: typeof json.rowCount === 'number' ? json.rowCount : rows.length, ...(typeof meta.currencyCode === 'string' ? { currencyCode: meta.currencyCode } : {}), quota };
}
