/**
 * @sextant/plugin-mysql — MariaDB and MySQL monitoring for Sextant.
 *
 * Most users only install the package; the runtime loads `./dist/plugin.js` from the manifest.
 * The metrics table and the error classifier are exported for tools (docs generation).
 */
export { default as plugin } from './plugin.js';
export { mysqlCollectorFactory, MysqlCollector, statusNumber, variablesOf } from './mysql-collector.js';
export { mysqlConfigSchema, mysqlConfigDefaults, redactUrl } from './config.js';
export type { MysqlConfig, MysqlEndpoint } from './config.js';
export { MYSQL_METRICS, STATUS_METRICS, renderMetricsTable } from './metrics.js';
export type { MysqlMetricSpec, MysqlMetricRead, MysqlMetricId } from './metrics.js';
export { classifyMysqlError } from './mysql-errors.js';
