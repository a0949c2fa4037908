/**
 * Agent-to-server ingest of @sextant/protocol: `sextant.ingest.v1` over gRPC (TLS or loopback,
 * bearer token, at-least-once with server-side de-duplication) and an OTLP/gRPC metrics receiver
 * on the same server. See README.md in this folder.
 */
export { IngestServer, INGEST_METHOD_PATH, OTLP_METRICS_EXPORT_PATH } from './ingest-server.js';
export type { IngestHandler, IngestServerOptions, IngestServerStats, RejectReason } from './ingest-server.js';
export { IngestClient } from './ingest-client.js';
export type { IngestClientOptions, IngestClientStats, BackoffOptions, DropReason } from './ingest-client.js';
export type { SeriesDefinition } from './ingest-codec.js';
export type { ServerTlsOptions, ClientTlsOptions, Pem } from './transport-security.js';
export { isLoopbackHost } from './transport-security.js';
export { OtlpMetricsTranslator } from './otlp-metrics.js';
export { estimateQuantile, HISTOGRAM_QUANTILES } from '@sextant/plugin-kit';
export { OtlpHttpReceiver, OTLP_HTTP_METRICS_PATH } from './otlp-http-receiver.js';
export type { OtlpHttpReceiverOptions } from './otlp-http-receiver.js';
export { otlpJsonToProtobuf, OtlpJsonError } from './otlp-json.js';
export type { OtlpTranslation } from './otlp-metrics.js';
