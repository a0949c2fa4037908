/**
 * @sextant/plugin-nginx — nginx metrics from stub_status and the access log.
 */
export { default as plugin } from './plugin.js';
export { nginxCollectorFactory, nginxResource } from './nginx-collector.js';
export { nginxConfigSchema, accessLogConfigSchema, nginxConfigDefaults, DEFAULT_STATUS_PATHS } from './config.js';
export type { NginxConfig, AccessLogConfig } from './config.js';
export { parseStubStatus, STUB_STATUS_MAX_BYTES } from './stub-status.js';
export type { StubStatus, StubStatusResult } from './stub-status.js';
export { LogLineParser, ParsedLogLine, COMBINED_LOG_FORMAT, DEFAULT_LOG_FORMAT } from './log-format.js';
export { urlTemplate, INVALID_TEMPLATE } from './url-template.js';
export { LatencyHistogram } from './latency-histogram.js';
export { AccessLogAggregator, OTHER_ROUTES, STATUS_CLASSES } from './access-log-aggregator.js';
export type { AccessLogRound, RouteFigures, Quantiles, AccessLogAggregatorOptions } from './access-log-aggregator.js';
export { LogTailer } from './log-tailer.js';
export type { LogTailerOptions, TailReport, LineSink } from './log-tailer.js';
export { TOP_URLS_EVENT } from './access-log-source.js';
export { NGINX_METRICS, nginxSeries, renderMetricsTable } from './metrics.js';
export type { NginxMetricInfo, NginxMetricName } from './metrics.js';
