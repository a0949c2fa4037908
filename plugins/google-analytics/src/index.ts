/**
 * @sextant/plugin-google-analytics — GA4 Data API figures as Sextant series.
 */
export { default as plugin } from './plugin.js';
export { ga4CollectorFactory, MAX_BREAKDOWN_VALUES } from './ga4-collector.js';
export type { Ga4Collector } from './ga4-collector.js';
export { ga4ConfigSchema, ga4ConfigDefaults } from './config.js';
export type { Ga4Config } from './config.js';
export { DataApiClient, QuotaExhausted } from './data-api-client.js';
export type { Report, ReportRequest, ReportRow, QuotaStatus } from './data-api-client.js';
export { JwtBearerTokenSource, parseServiceAccountKey, signJwtAssertion, ANALYTICS_READONLY_SCOPE, GOOGLE_TOKEN_URI } from './service-account.js';
export type { ServiceAccountKey } from './service-account.js';
export { GA4_METRICS, CORE_METRICS, ga4Series, renderMetricsTable } from './metrics.js';
export type { Ga4MetricInfo, Ga4MetricName } from './metrics.js';
