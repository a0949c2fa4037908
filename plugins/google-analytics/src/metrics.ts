/**
 * The metrics of the `google-analytics` collector, with the GA4 Data API metric each one reads and
 * its impact class (the resource attribute `sextant.impact`). The README table is rendered from it.
 */
import type { Attributes, ImpactClass, MetricKind, MetricType, SeriesDescriptor } from '@sextant/plugin-api';

export interface Ga4MetricInfo {
  readonly unit: string;
  readonly type: MetricType;
  readonly kind: MetricKind;
  readonly impact: ImpactClass;
  /** The Data API metric name, or '' for figures derived from the response. */
  readonly api: string;
  readonly report: 'core' | 'realtime' | 'any';
  readonly description: string;
  readonly attributes: readonly string[];
}

export const GA4_METRICS = {
  'ga4.sessions': { unit: '{session}', type: 'gauge', kind: 'business-count', impact: 'user', api: 'sessions', report: 'core', description: 'Sessions in the date range so far, per page or source and in total (no split attribute).', attributes: ['page | source'] },
  'ga4.active_users': { unit: '{user}', type: 'gauge', kind: 'business-count', impact: 'user', api: 'activeUsers', report: 'core', description: 'Active users in the date range so far.', attributes: ['page | source'] },
  'ga4.key_events': { unit: '{event}', type: 'gauge', kind: 'business-count', impact: 'business', api: 'keyEvents', report: 'core', description: 'Key events (formerly conversions) in the date range so far.', attributes: ['page | source'] },
  'ga4.purchase_revenue': { unit: '{currency}', type: 'gauge', kind: 'business-count', impact: 'business', api: 'purchaseRevenue', report: 'core', description: "Purchase revenue in the date range so far, in the property's currency.", attributes: ['page | source', 'currency'] },
  'ga4.add_to_carts': { unit: '{event}', type: 'gauge', kind: 'business-count', impact: 'business', api: 'addToCarts', report: 'core', description: 'add_to_cart events in the date range so far.', attributes: ['page | source'] },
  'ga4.purchases': { unit: '{order}', type: 'gauge', kind: 'business-count', impact: 'business', api: 'ecommercePurchases', report: 'core', description: 'Purchases in the date range so far.', attributes: ['page | source'] },
  'ga4.realtime.active_users': { unit: '{user}', type: 'gauge', kind: 'business-count', impact: 'user', api: 'activeUsers', report: 'realtime', description: 'Users active in the last 30 minutes (realtime report).', attributes: [] },
  'ga4.realtime.events': { unit: '{event}/min', type: 'gauge', kind: 'business-count', impact: 'business', api: 'eventCount', report: 'realtime', description: 'Events per minute over the last 5 minutes, for each name in realtimeEvents (0 when none).', attributes: ['event'] },
  'ga4.quota.remaining': { unit: '{token}', type: 'gauge', kind: 'generic', impact: 'infrastructure', api: '', report: 'any', description: 'Remaining property quota after the last request (tokensPerHour, tokensPerDay, concurrentRequests, ...).', attributes: ['quota'] },
} as const satisfies Record<string, Ga4MetricInfo>;

export type Ga4MetricName = keyof typeof GA4_METRICS;

/** Core report metrics in request order. */
export const CORE_METRICS = ['ga4.sessions', 'ga4.active_users', 'ga4.key_events', 'ga4.purchase_revenue', 'ga4.add_to_carts', 'ga4.purchases'] as const satisfies readonly Ga4MetricName[];

export function ga4Series(metric: Ga4MetricName, resource: Attributes, attributes: Attributes = {}): SeriesDescriptor {
  const info: Ga4MetricInfo = GA4_METRICS[metric];
  return { metric, unit: info.unit, type: info.type, kind: info.kind, description: info.description, resource: { ...resource, 'sextant.impact': info.impact }, attributes };
}

export function renderMetricsTable(): string {
  const rows = Object.entries(GA4_METRICS).map(([name, m]: [string, Ga4MetricInfo]) => `| \`${name}\` | ${m.type} | \`${m.unit}\` | ${m.impact} | ${m.api ? `\`${m.api}\` (${m.report})` : '`propertyQuota`'} | ${m.attributes.map((a) => `\`${a}\``).join(', ') || '—'} | ${m.description} |`);
  return ['| metric | type | unit | impact | GA4 metric (report) | attributes | description |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}
