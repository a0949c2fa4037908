/**
 * @sextant/plugin-prometheus — scrapes Prometheus text-format and OpenMetrics endpoints.
 */
export { default as plugin } from './plugin.js';
export { prometheusCollectorFactory, PrometheusScraper, targetResource, SCRAPE_ACCEPT } from './prometheus-collector.js';
export { prometheusConfigSchema, prometheusConfigDefaults } from './config.js';
export type { PrometheusConfig } from './config.js';
export { parseExposition, parseSeriesText, parseSampleValue, FAMILY_TYPES } from './exposition-parser.js';
export type { ExpositionFormat, ExpositionVisitor, FamilyType, ParseSummary, ParsedSeries } from './exposition-parser.js';
export { MetricNameFilter, compileNamePattern } from './metric-filter.js';
export { sampleFamily, sextantType, unitOf, describeSample } from './series-mapping.js';
export type { SampleFamily, SampleRole } from './series-mapping.js';
