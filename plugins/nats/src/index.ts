/**
 * @sextant/plugin-nats — NATS monitoring for Sextant (server and JetStream, through the HTTP
 * monitoring endpoints). Most users only install the package; the runtime loads
 * `./dist/plugin.js` from the manifest.
 */
export { default as plugin } from './plugin.js';
export { natsCollectorFactory, NatsCollector, getMonitoringJson, MAX_REPLY_BYTES } from './nats-collector.js';
export { natsConfigSchema, natsConfigDefaults } from './config.js';
export type { NatsConfig } from './config.js';
export { NATS_METRICS, renderMetricsTable } from './metrics.js';
export type { NatsMetricSpec, NatsMetricId } from './metrics.js';
