/**
 * @sextant/plugin-redis — Redis monitoring for Sextant.
 *
 * Most users only install the package; the runtime loads `./dist/plugin.js` from the manifest.
 * The parser and the metrics table are exported for tools (docs generation, other collectors that
 * read INFO, e.g. through a proxy).
 */
export { default as plugin } from './plugin.js';
export { redisCollectorFactory, RedisCollector, COLLECTOR_CLIENT_NAME, reconnectDelayMs } from './redis-collector.js';
export { redisConfigSchema, redisConfigDefaults } from './config.js';
export type { RedisConfig, RedisEndpoint } from './config.js';
export { RedisInfoParser, subfield, strictNumber, MAX_LINE_LENGTH } from './info-parser.js';
export type { RedisInfo } from './info-parser.js';
export { REDIS_METRICS, FIELD_METRICS, renderMetricsTable } from './metrics.js';
export type { RedisMetricSpec, RedisMetricRead, RedisMetricId } from './metrics.js';
export { SlowlogTracker } from './slowlog-tracker.js';
export type { SlowlogOutcome } from './slowlog-tracker.js';
export { classifyRedisError } from './redis-errors.js';
