/** The metrics of the `magento` collector, with their impact class; the README table is rendered from here. */
import type { Attributes, ImpactClass, MetricKind, MetricType, SeriesDescriptor } from '@sextant/plugin-api';

export interface MagentoMetricInfo {
  readonly unit: string;
  readonly type: MetricType;
  readonly kind: MetricKind;
  readonly impact: ImpactClass;
  readonly endpoint: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

export const MAGENTO_METRICS = {
  'magento.orders': { unit: '{order}/min', type: 'gauge', kind: 'business-count', impact: 'business', endpoint: 'GET /V1/orders', description: 'New orders per minute by store id (0 for stores that had orders before).', attributes: ['store'] },
  'magento.revenue': { unit: '{currency}/min', type: 'gauge', kind: 'business-count', impact: 'business', endpoint: 'GET /V1/orders', description: 'base_grand_total of new orders per minute, by store id and base currency.', attributes: ['store', 'currency'] },
  'magento.orders.status': { unit: '{order}', type: 'gauge', kind: 'business-count', impact: 'business', endpoint: 'GET /V1/orders', description: 'Orders created within statusWindow, by current status (payment_review, fraud, canceled rising is a problem).', attributes: ['status'] },
  'magento.carts.abandoned': { unit: '{cart}', type: 'gauge', kind: 'business-count', impact: 'business', endpoint: 'GET /V1/carts/search', description: 'Active carts with items, last updated between statusWindow and abandonAfter ago.', attributes: [] },
  'magento.products.out_of_stock': { unit: '{product}', type: 'gauge', kind: 'business-count', impact: 'business', endpoint: 'GET /V1/stockItems/lowStock', description: 'Stock items with quantity 0 or less.', attributes: [] },
  'magento.up': { unit: '1', type: 'gauge', kind: 'availability', impact: 'user', endpoint: 'all', description: '1 when every request of the round succeeded, 0 otherwise.', attributes: [] },
} as const satisfies Record<string, MagentoMetricInfo>;

export type MagentoMetricName = keyof typeof MAGENTO_METRICS;

export function magentoSeries(metric: MagentoMetricName, resource: Attributes, attributes: Attributes = {}): SeriesDescriptor {
  const info: MagentoMetricInfo = MAGENTO_METRICS[metric];
  return { metric, unit: info.unit, type: info.type, kind: info.kind, description: info.description, resource: { ...resource, 'sextant.impact': info.impact }, attributes };
}

export function renderMetricsTable(): string {
  const rows = Object.entries(MAGENTO_METRICS).map(([name, m]: [string, MagentoMetricInfo]) => `| \`${name}\` | ${m.type} | \`${m.unit}\` | ${m.impact} | \`${m.endpoint}\` | ${m.attributes.map((a) => `\`${a}\``).join(', ') || '—'} | ${m.description} |`);
  return ['| metric | type | unit | impact | REST endpoint | attributes | description |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}
