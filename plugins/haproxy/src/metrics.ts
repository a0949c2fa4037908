/**
 * The one table of metrics this collector emits. The collector declares every series from it and
 * the README's table is rendered from it ({@link renderMetricsTable}; a test fails when the README
 * drifts).
 *
 * Names follow the OpenTelemetry Collector `haproxy` receiver where it has one
 * (`haproxy.sessions.count`, `haproxy.bytes.input`, `haproxy.requests.errors`,
 * `haproxy.connections.errors`, ...). Every series of a stats row carries `haproxy.proxy_name`
 * (pxname) and `haproxy.service_name` (svname: `FRONTEND`, `BACKEND` or the server's name).
 * Counters are emitted as per-second rates over the last interval (`CounterRate`), so a reload or
 * `clear counters` yields a gap, never a negative or inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

/** Stats row types (`type` column): 0 frontend, 1 backend, 2 server (3, listener, is skipped). */
export type RowType = 'frontend' | 'backend' | 'server';

export type HaproxyMetricRead = 'gauge' | 'counter' | 'computed';

export interface HaproxyMetricSpec {
  readonly name: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  readonly read: HaproxyMetricRead;
  /** CSV columns for `gauge`/`counter`, each with the fixed point attributes it adds. */
  readonly columns?: readonly (readonly [column: string, attributes: Readonly<Record<string, string>>])[];
  /** Row types the metric is read for (absent: process-wide, from the stats socket's `show info`). */
  readonly rows?: readonly RowType[];
  readonly source?: string;
  /** Extra point attributes beyond proxy/service name. */
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, HaproxyMetricSpec>>(table: T): T {
  return table;
}

const ALL: readonly RowType[] = ['frontend', 'backend', 'server'];
const one = (column: string) => [[column, {}]] as const;

export const HAPROXY_METRICS = spec({
  up: { name: 'haproxy.up', unit: '1', type: 'gauge', kind: 'availability', read: 'computed', rows: ALL, source: '`status` (UP, OPEN, FULL, no check, DRAIN, NOLB = 1; DOWN, MAINT, STOP = 0)', description: '1 when the frontend accepts, the backend has a usable server, or the server passes its checks; 0 when down or in maintenance.' },
  sessions: { name: 'haproxy.sessions.count', unit: '{session}', type: 'gauge', kind: 'saturation', read: 'gauge', rows: ALL, columns: one('scur'), description: 'Sessions open now.' },
  sessionsLimit: { name: 'haproxy.sessions.limit', unit: '{session}', type: 'gauge', read: 'gauge', rows: ALL, columns: one('slim'), description: 'Configured session limit (maxconn) of the frontend, backend or server.' },
  sessionsUtilization: { name: 'haproxy.sessions.utilization', unit: '1', type: 'gauge', kind: 'utilization', read: 'computed', rows: ALL, source: 'scur / slim', description: 'Share of the session limit in use; at 1 new sessions queue or are refused.' },
  sessionsRate: { name: 'haproxy.sessions', unit: '{session}/s', type: 'rate', kind: 'throughput', read: 'counter', rows: ALL, columns: one('stot'), description: 'Sessions started per second.' },
  requests: { name: 'haproxy.requests', unit: '{request}/s', type: 'rate', kind: 'throughput', read: 'counter', rows: ALL, columns: one('req_tot'), description: 'HTTP requests per second.' },
  responses: {
    name: 'haproxy.responses', unit: '{response}/s', type: 'rate', kind: 'throughput', read: 'counter', rows: ALL, attributes: ['http.response.status_class'],
    columns: [['hrsp_1xx', { 'http.response.status_class': '1xx' }], ['hrsp_2xx', { 'http.response.status_class': '2xx' }], ['hrsp_3xx', { 'http.response.status_class': '3xx' }], ['hrsp_4xx', { 'http.response.status_class': '4xx' }], ['hrsp_5xx', { 'http.response.status_class': '5xx' }], ['hrsp_other', { 'http.response.status_class': 'other' }]],
    description: 'HTTP responses per second by status class.',
  },
  errorRatio: { name: 'haproxy.responses.error_ratio', unit: '1', type: 'gauge', kind: 'error-ratio', read: 'computed', rows: ALL, source: 'Δhrsp_5xx / Δ(all hrsp_*) over the interval', description: 'Share of HTTP responses with a 5xx status during the interval; no sample when there were no responses.' },
  bytesIn: { name: 'haproxy.bytes.input', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'counter', rows: ALL, columns: one('bin'), description: 'Bytes received per second.' },
  bytesOut: { name: 'haproxy.bytes.output', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'counter', rows: ALL, columns: one('bout'), description: 'Bytes sent per second.' },
  requestsDenied: { name: 'haproxy.requests.denied', unit: '{request}/s', type: 'rate', read: 'counter', rows: ['frontend', 'backend'], columns: one('dreq'), description: 'Requests denied per second by ACLs (http-request deny, tcp-request).' },
  requestErrors: { name: 'haproxy.requests.errors', unit: '{request}/s', type: 'rate', read: 'counter', rows: ['frontend'], columns: one('ereq'), description: 'Bad requests per second (client closed early, read error, malformed request).' },
  connectionErrors: { name: 'haproxy.connections.errors', unit: '{error}/s', type: 'rate', read: 'counter', rows: ['backend', 'server'], columns: one('econ'), description: 'Failed connections to servers per second.' },
  responseErrors: { name: 'haproxy.responses.errors', unit: '{error}/s', type: 'rate', read: 'counter', rows: ['backend', 'server'], columns: one('eresp'), description: 'Responses per second aborted by an error (server closed, timeout, denied response).' },
  retries: { name: 'haproxy.connections.retries', unit: '{retry}/s', type: 'rate', read: 'counter', rows: ['backend', 'server'], columns: one('wretr'), description: 'Connection retries to servers per second.' },
  redispatches: { name: 'haproxy.requests.redispatched', unit: '{request}/s', type: 'rate', read: 'counter', rows: ['backend', 'server'], columns: one('wredis'), description: 'Requests sent to another server per second after their server failed.' },
  queued: { name: 'haproxy.requests.queued', unit: '{request}', type: 'gauge', kind: 'saturation', read: 'gauge', rows: ['backend', 'server'], columns: one('qcur'), description: 'Requests waiting for a free server slot now.' },
  activeServers: { name: 'haproxy.active', unit: '{server}', type: 'gauge', read: 'gauge', rows: ['backend'], columns: one('act'), description: 'Active servers of the backend that are up.' },
  checkFailures: { name: 'haproxy.checks.failed', unit: '{check}/s', type: 'rate', read: 'counter', rows: ['server'], columns: one('chkfail'), description: 'Failed health checks per second.' },
  timing: {
    name: 'haproxy.timing', unit: 'ms', type: 'gauge', kind: 'latency', read: 'gauge', rows: ['backend', 'server'], attributes: ['phase'],
    columns: [['qtime', { phase: 'queue' }], ['ctime', { phase: 'connect' }], ['rtime', { phase: 'response' }], ['ttime', { phase: 'total' }]],
    description: 'Average time of the last 1024 requests in queue, connecting, until the response, and in total (as HAProxy computes it).',
  },
  processConnections: { name: 'haproxy.process.connections', unit: '{connection}', type: 'gauge', kind: 'saturation', read: 'computed', source: 'show info CurrConns (socket only)', description: 'Connections open in the whole process.' },
  processConnectionsMax: { name: 'haproxy.process.connections.max', unit: '{connection}', type: 'gauge', read: 'computed', source: 'show info Maxconn (socket only)', description: 'Process-wide connection limit (global maxconn).' },
  processUtilization: { name: 'haproxy.process.connections.utilization', unit: '1', type: 'gauge', kind: 'utilization', read: 'computed', source: 'CurrConns / Maxconn (socket only)', description: 'Share of the process-wide connection limit in use.' },
  processBusy: { name: 'haproxy.process.busy', unit: '1', type: 'gauge', kind: 'utilization', read: 'computed', source: '1 - Idle_pct / 100 (socket only)', description: 'Share of time the HAProxy threads were busy (saturated near 1).' },
});

export type HaproxyMetricId = keyof typeof HAPROXY_METRICS;

/** Specs read straight from CSV columns. */
export const COLUMN_METRICS: readonly HaproxyMetricSpec[] = Object.values(HAPROXY_METRICS).filter((s: HaproxyMetricSpec) => s.read !== 'computed');

export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | rows | attributes | from | description |', '|---|---|---|---|---|---|---|'];
  for (const s of Object.values(HAPROXY_METRICS) as HaproxyMetricSpec[]) {
    const from = s.read === 'computed' ? s.source : s.columns!.map(([c]) => `\`${c}\``).join(', ');
    const attributes = s.rows ? ['`haproxy.proxy_name`', '`haproxy.service_name`', ...(s.attributes ?? []).map((a) => `\`${a}\``)].join(', ') : '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${s.rows?.join(', ') ?? 'process'} | ${attributes} | ${from} | ${s.description} |`);
  }
  return rows.join('\n');
}
