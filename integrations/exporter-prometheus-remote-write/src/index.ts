/**
 * @sextant/exporter-prometheus-remote-write — Prometheus remote write 1.0 out of Sextant.
 */
export { default as plugin } from './plugin.js';
export { remoteWriteExporterFactory, RemoteWriteExporter, SIGNAL_METRICS, METRIC_LABEL } from './remote-write-exporter.js';
export { remoteWriteConfigSchema, remoteWriteConfigDefaults } from './config.js';
export type { RemoteWriteConfig } from './config.js';
export { WriteRequestEncoder, encodeLabels } from './write-request-encoder.js';
export { metricName, labelName, seriesLabels } from './prometheus-names.js';
export { federationExporterFactory, FederationExporter, federationConfigSchema, federationConfigDefaults } from './federation-exporter.js';
export type { FederationConfig } from './federation-exporter.js';
