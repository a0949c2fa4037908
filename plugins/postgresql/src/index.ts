/**
 * @sextant/plugin-postgresql — PostgreSQL monitoring for Sextant.
 *
 * Most users only install the package; the runtime loads `./dist/plugin.js` from the manifest.
 * The metrics table and the error classifier are exported for tools (docs generation).
 */
export { default as plugin } from './plugin.js';
export { postgresqlCollectorFactory, PostgresqlCollector, COLLECTOR_APPLICATION_NAME, numberOf } from './postgresql-collector.js';
export { postgresqlConfigSchema, postgresqlConfigDefaults, redactUrl } from './config.js';
export type { PostgresqlConfig, PostgresqlEndpoint } from './config.js';
export { POSTGRESQL_METRICS, renderMetricsTable } from './metrics.js';
export type { PostgresqlMetricSpec, PostgresqlMetricId } from './metrics.js';
export { classifyPostgresqlError, sqlStateOf } from './postgresql-errors.js';
