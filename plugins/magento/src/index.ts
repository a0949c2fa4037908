/**
 * @sextant/plugin-magento — Magento 2 / Adobe Commerce orders, carts and stock as Sextant series.
 */
export { default as plugin } from './plugin.js';
export { magentoCollectorFactory } from './magento-collector.js';
export { magentoConfigSchema, magentoConfigDefaults, ORDER_STATUSES } from './config.js';
export type { MagentoConfig } from './config.js';
export { MagentoClient, magentoMessage } from './magento-client.js';
export type { SearchResult } from './magento-client.js';
export { searchCriteriaParams, magentoTime, parseMagentoTime } from './search-criteria.js';
export type { SearchCriteria, Filter, ConditionType } from './search-criteria.js';
export { MAGENTO_METRICS, magentoSeries, renderMetricsTable } from './metrics.js';
export type { MagentoMetricInfo, MagentoMetricName } from './metrics.js';
