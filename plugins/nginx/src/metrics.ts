/**
 * The one table of metrics this plugin emits. The collector declares every series from it
 * (unit, type, kind and description come from here, never from literals at the call site), and
 * the README's metrics table is rendered from it by {@link renderMetricsTable}; a test fails when
 * the README drifts.
 */
import type { Attributes, MetricKind, MetricType, SeriesDescriptor } from '@sextant/plugin-api';

export interface NginxMetricInfo {
  readonly unit: string;
  readonly type: MetricType;
  readonly kind: MetricKind;
  readonly description: string;
  /** Point attributes that split the metric (documented; the code passes their values). */
  readonly attributes: readonly string[];
  /** Where the value comes from: the stub_status page or the tailed access log. */
  readonly source: 'stub_status' | 'access_log';
}

export const NGINX_METRICS = {
  'nginx.up': {
    unit: '1',
    type: 'gauge',
    kind: 'availability',
    description: '1 when the stub_status page was read this round, 0 when it could not be reached or parsed.',
    attributes: [],
    source: 'stub_status',
  },
  'nginx.connections_current': {
    unit: '{connection}',
    type: 'gauge',
    kind: 'saturation',
    description: 'Current client connections by state (active = reading + writing + waiting).',
    attributes: ['state'],
    source: 'stub_status',
  },
  'nginx.connections.accepted': {
    unit: '{connection}/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Client connections accepted per second.',
    attributes: [],
    source: 'stub_status',
  },
  'nginx.connections.handled': {
    unit: '{connection}/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Client connections handled per second.',
    attributes: [],
    source: 'stub_status',
  },
  'nginx.connections.dropped': {
    unit: '{connection}/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Connections accepted but not handled per second (worker_connections or resource limits hit).',
    attributes: [],
    source: 'stub_status',
  },
  'nginx.requests': {
    unit: '{request}/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Client requests per second, all statuses.',
    attributes: [],
    source: 'stub_status',
  },
  'nginx.http.requests': {
    unit: '{request}/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Logged requests per second by status class; every class is emitted each round, 0 when absent.',
    attributes: ['http.response.status_class'],
    source: 'access_log',
  },
  'nginx.http.request.duration': {
    unit: 's',
    type: 'gauge',
    kind: 'latency',
    description: 'Quantiles of $request_time over the round (emitted only when requests were logged).',
    attributes: ['quantile'],
    source: 'access_log',
  },
  'nginx.http.upstream.duration': {
    unit: 's',
    type: 'gauge',
    kind: 'latency',
    description: 'Quantiles of $upstream_response_time (all tries summed) over the round, when an upstream answered.',
    attributes: ['quantile'],
    source: 'access_log',
  },
  'nginx.http.response.body.size': {
    unit: 'By/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Response body bytes sent per second ($body_bytes_sent, or $bytes_sent when only that is logged).',
    attributes: [],
    source: 'access_log',
  },
  'nginx.http.route.requests': {
    unit: '{request}/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Requests per second of one URL pattern, for the top-N slowest and most-erroring patterns.',
    attributes: ['url.template'],
    source: 'access_log',
  },
  'nginx.http.route.errors': {
    unit: '{request}/s',
    type: 'rate',
    kind: 'throughput',
    description: 'Error responses (status >= accessLog.errorStatus) per second of one URL pattern, top-N patterns only.',
    attributes: ['url.template'],
    source: 'access_log',
  },
  'nginx.http.route.duration.p90': {
    unit: 's',
    type: 'gauge',
    kind: 'latency',
    description: '90th percentile of $request_time of one URL pattern over the round, top-N patterns only.',
    attributes: ['url.template'],
    source: 'access_log',
  },
} as const satisfies Record<string, NginxMetricInfo>;

export type NginxMetricName = keyof typeof NGINX_METRICS;

/** A full series descriptor for `metric`, with metadata taken from {@link NGINX_METRICS}. */
export function nginxSeries(metric: NginxMetricName, resource: Attributes, attributes: Attributes = {}): SeriesDescriptor {
  const info: NginxMetricInfo = NGINX_METRICS[metric];
  return { metric, unit: info.unit, type: info.type, kind: info.kind, description: info.description, resource, attributes };
}

/** The README's metrics table (Markdown), rendered from {@link NGINX_METRICS}. */
export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | source | description |', '|---|---|---|---|---|---|'];
  for (const [name, info] of Object.entries(NGINX_METRICS) as [string, NginxMetricInfo][]) {
    const attrs = info.attributes.length ? info.attributes.map((a) => `\`${a}\``).join(', ') : '';
    rows.push(`| \`${name}\` | \`${info.unit}\` | ${info.type} | ${attrs} | ${info.source} | ${info.description} |`);
  }
  return rows.join('\n');
}
