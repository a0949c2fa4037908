/**
 * @sextant/plugin-haproxy — HAProxy monitoring for Sextant.
 *
 * Most users only install the package; the runtime loads `./dist/plugin.js` from the manifest.
 * The CSV parser, sources and metrics table are exported for tools.
 */
export { default as plugin } from './plugin.js';
export { haproxyCollectorFactory, HaproxyCollector, csvNumber, statusUp } from './haproxy-collector.js';
export { haproxyConfigSchema, haproxyConfigDefaults, csvUrl } from './config.js';
export type { HaproxyConfig } from './config.js';
export { HAPROXY_METRICS, COLUMN_METRICS, renderMetricsTable } from './metrics.js';
export type { HaproxyMetricSpec, HaproxyMetricRead, HaproxyMetricId, RowType } from './metrics.js';
export { parseStatsCsv, parseInfo, fetchStatsPage, querySocket, MAX_REPLY_BYTES } from './stats-source.js';
export type { StatsCsv, HttpSourceOptions } from './stats-source.js';
