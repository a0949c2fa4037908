/**
 * @sextant/plugin-rum — real-user monitoring: the browser snippet and its collect endpoint.
 */
export { default as plugin } from './plugin.js';
export { rumCollectorFactory, createRumCollectorFactory, rumResource } from './rum-collector.js';
export type { RumCollector } from './rum-collector.js';
export { rumConfigSchema, rumConfigDefaults, DEFAULT_BOT_USER_AGENTS } from './config.js';
export type { RumConfig } from './config.js';
export { readBeacon, BeaconRefusal, ECOMMERCE_EVENTS, TIMING_LIMITS, MAX_EVENTS_PER_BEACON } from './beacon.js';
export type { Beacon, BeaconEvent, EcommerceEventName, TimingName } from './beacon.js';
export { BeaconIntake } from './beacon-intake.js';
export type { IntakeOutcome, RefusalReason } from './beacon-intake.js';
export { RumAggregator, normalizePage, OTHER_PAGE } from './rum-aggregator.js';
export type { RumAggregatorOptions, RumAggregatorStats } from './rum-aggregator.js';
export { RUM_METRICS, rumSeries, renderMetricsTable } from './metrics.js';
export type { RumMetricInfo, RumMetricName } from './metrics.js';
export { SNIPPET_PATHS, RUM_PROTOCOL_VERSION, loadSnippetAssets } from './snippet-assets.js';
