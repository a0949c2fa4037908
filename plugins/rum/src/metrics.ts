/**
 * The one table of metrics this plugin emits. Series are declared from it (unit, type, kind,
 * description and impact come from here), and the README's metrics table is rendered from it by
 * {@link renderMetricsTable}; a test fails when the README drifts.
 *
 * Impact: every series' resource carries `sextant.impact` — `user` for what visitors feel (timings,
 * errors, page views), `business` for what costs money (orders, revenue, conversion) — which the
 * incident correlator uses to classify and rank incidents.
 */
import type { Attributes, ImpactClass, MetricKind, MetricType, SeriesDescriptor } from '@sextant/plugin-api';

export interface RumMetricInfo {
  readonly unit: string;
  readonly type: MetricType;
  readonly kind: MetricKind;
  readonly impact: Extract<ImpactClass, 'user' | 'business'>;
  readonly description: string;
  /** Point attributes that split the metric. `page` is absent on the site-wide total. */
  readonly attributes: readonly string[];
}

const timing = (what: string): RumMetricInfo => ({
  unit: 'ms',
  type: 'gauge',
  kind: 'latency',
  impact: 'user',
  description: `${what}: p50/p75/p95 over the interval (DDSketch, 1% relative accuracy), per page and site-wide.`,
  attributes: ['page', 'quantile'],
});

export const RUM_METRICS = {
  'rum.page_views': { unit: '{view}/min', type: 'gauge', kind: 'throughput', impact: 'user', description: 'Page views per minute (SPA route changes included), per page and site-wide; 0 when none.', attributes: ['page'] },
  'rum.errors': { unit: '{error}/min', type: 'gauge', kind: 'throughput', impact: 'user', description: 'Uncaught JavaScript errors and unhandled promise rejections per minute (at most 10 per page view).', attributes: ['page'] },
  'rum.error_rate': { unit: '1', type: 'gauge', kind: 'error-ratio', impact: 'user', description: 'Errors per page view over the interval; absent when there were no views.', attributes: ['page'] },
  'rum.ttfb': timing('Time to first byte (web-vitals TTFB)'),
  'rum.fcp': timing('First contentful paint'),
  'rum.dom_content_loaded': timing('DOMContentLoaded end, from navigation start'),
  'rum.load': timing('Load event end, from navigation start'),
  'rum.lcp': timing('Largest contentful paint (Core Web Vital)'),
  'rum.inp': timing('Interaction to next paint (Core Web Vital)'),
  'rum.cls': { unit: '1', type: 'gauge', kind: 'generic', impact: 'user', description: 'Cumulative layout shift (Core Web Vital, unitless score): p50/p75/p95 per page and site-wide.', attributes: ['page', 'quantile'] },
  'rum.sessions': { unit: '{session}', type: 'gauge', kind: 'throughput', impact: 'user', description: 'Sessions active within sessionWindow.', attributes: [] },
  'rum.orders': { unit: '{order}/min', type: 'gauge', kind: 'business-count', impact: 'business', description: 'Purchases per minute (duplicates by transaction_id counted once).', attributes: [] },
  'rum.orders.total': { unit: '{order}', type: 'counter', kind: 'business-count', impact: 'business', description: 'Purchases since the collector started.', attributes: [] },
  'rum.revenue': { unit: '{currency}/min', type: 'gauge', kind: 'business-count', impact: 'business', description: 'Purchase value per minute, by ISO 4217 currency.', attributes: ['currency'] },
  'rum.revenue.total': { unit: '{currency}', type: 'counter', kind: 'business-count', impact: 'business', description: 'Purchase value since the collector started, by currency (exact sum of `value`).', attributes: ['currency'] },
  'rum.ecommerce.events': { unit: '{event}/min', type: 'gauge', kind: 'business-count', impact: 'business', description: 'GA4 e-commerce events per minute by name (view_item, add_to_cart, begin_checkout, purchase, ...).', attributes: ['event'] },
  'rum.conversion_rate': { unit: '1', type: 'gauge', kind: 'generic', impact: 'business', description: 'Share of sessions active within sessionWindow that purchased.', attributes: [] },
  'rum.cart_abandonment': { unit: '1', type: 'gauge', kind: 'generic', impact: 'business', description: 'Share of sessions within sessionWindow that added to cart but did not purchase; absent without carts.', attributes: [] },
} as const satisfies Record<string, RumMetricInfo>;

export type RumMetricName = keyof typeof RUM_METRICS;

/** The series descriptor of a RUM metric: base resource plus its impact class. */
export function rumSeries(metric: RumMetricName, resource: Attributes, attributes: Attributes = {}): SeriesDescriptor {
  const info: RumMetricInfo = RUM_METRICS[metric];
  return { metric, unit: info.unit, type: info.type, kind: info.kind, description: info.description, resource: { ...resource, 'sextant.impact': info.impact }, attributes };
}

/** The README's metrics table (name, type, unit, impact, attributes, description). */
export function renderMetricsTable(): string {
  const rows = Object.entries(RUM_METRICS).map(([name, m]: [string, RumMetricInfo]) => `| \`${name}\` | ${m.type} | \`${m.unit}\` | ${m.impact} | ${m.attributes.map((a) => `\`${a}\``).join(', ') || '—'} | ${m.description} |`);
  return ['| metric | type | unit | impact | attributes | description |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
