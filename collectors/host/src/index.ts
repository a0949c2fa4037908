/**
 * @sextant/collector-host — this host's metrics from /proc and /sys.
 *
 * The plugin itself is the default export of `@sextant/collector-host/plugin` (what the runtime
 * loads); this entry point exports the factory and configuration for distributions and tests,
 * and the metric catalog for generated docs.
 */
export { default as hostPlugin } from './plugin.js';
export { hostCollectorFactory, HostCollector } from './host-collector.js';
export { hostCollectorConfigSchema, hostCollectorDefaults, DEFAULT_EXCLUDED_FILESYSTEM_TYPES } from './config.js';
export type { HostCollectorConfig } from './config.js';
export { HOST_METRICS } from './host-metrics.js';
export type { HostMetricSpec } from './host-metrics.js';
