/**
 * @sextant/exporter-otlp — OTLP/HTTP protobuf out of Sextant: selected series and Sextant's
 * signals as metrics, anomalies and incidents as log records.
 */
export { default as plugin } from './plugin.js';
export { otlpExporterFactory, OtlpExporter, OTLP_SIGNAL_METRICS, OTLP_METRIC_ATTRIBUTE, ANOMALY_EVENT_NAME, SEVERITY } from './otlp-exporter.js';
export { otlpLogsNotifierFactory, IncidentLogsNotifier, INCIDENT_EVENT_NAME, incidentLogRecord } from './incident-logs-notifier.js';
export { otlpExporterConfigSchema, otlpExporterConfigDefaults, otlpLogsNotifierConfigSchema, otlpLogsNotifierConfigDefaults } from './config.js';
export type { OtlpExporterConfig, OtlpLogsNotifierConfig } from './config.js';
export { OtlpMetricsEncoder, encodeLogsRequest, encodeKeyValues, encodeResource, decodePartialSuccess, SEVERITY_NUMBER } from './otlp-encoding.js';
export type { OtlpLogRecord, OtlpScope, OtlpMetricShape } from './otlp-encoding.js';
