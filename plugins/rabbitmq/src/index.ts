/**
 * @sextant/plugin-rabbitmq — RabbitMQ monitoring for Sextant through the management HTTP API.
 * Most users only install the package; the runtime loads `./dist/plugin.js` from the manifest.
 */
export { default as plugin } from './plugin.js';
export { rabbitmqCollectorFactory, RabbitmqCollector, getManagementJson, MAX_REPLY_BYTES } from './rabbitmq-collector.js';
export type { ManagementRequest } from './rabbitmq-collector.js';
export { rabbitmqConfigSchema, rabbitmqConfigDefaults } from './config.js';
export type { RabbitmqConfig } from './config.js';
export { RABBITMQ_METRICS, renderMetricsTable } from './metrics.js';
export type { RabbitmqMetricSpec } from './metrics.js';
