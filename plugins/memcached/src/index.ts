/**
 * @sextant/plugin-memcached — memcached monitoring for Sextant.
 *
 * Most users only install the package; the runtime loads `./dist/plugin.js` from the manifest.
 * The stats client, parser and metrics table are exported for tools.
 */
export { default as plugin } from './plugin.js';
export { memcachedCollectorFactory, MemcachedCollector, statValue } from './memcached-collector.js';
export { memcachedConfigSchema, memcachedConfigDefaults, parseEndpoint } from './config.js';
export type { MemcachedConfig, MemcachedEndpoint } from './config.js';
export { MEMCACHED_METRICS, FIELD_METRICS, renderMetricsTable } from './metrics.js';
export type { MemcachedMetricSpec, MemcachedMetricRead, MemcachedMetricId } from './metrics.js';
export { MemcachedStatsClient, parseStats, MAX_REPLY_BYTES } from './stats-client.js';
export type { StatsReply } from './stats-client.js';
