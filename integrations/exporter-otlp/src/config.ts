/**
 * Configuration of the `otlp` exporter (`exporters.otlp/<name>`) and the `otlp-logs` notifier
 * (`notifiers.otlp-logs/<name>`) in sextant.yaml.
 */
import { durationMs as kitDurationMs } from '@sextant/plugin-kit';
import picomatch from 'picomatch';
import { z } from 'zod';
import { OtlpGrpcTransport } from './otlp-grpc-transport.js';
import { OtlpHttpTransport, compressBody, type OtlpTransport } from './otlp-http-transport.js';

/** A duration in whole milliseconds, more than 0, at most `max` (the kit's one schema). */
const durationMs = (max: number) => kitDurationMs({ min: 1, max });

/** The receiver's base URL: `/v1/metrics` and `/v1/logs` are appended (as OTEL_EXPORTER_OTLP_ENDPOINT does). */
const endpoint = z.string().superRefine((value, ctx) => {
  let ok = false;
  try {
    const u = new URL(value);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && u.search === '' && u.hash === '';
  } catch {
    ok = false;
  }
  if (!ok) ctx.addIssue({ code: 'custom', message: `must be an http(s) base URL without query (got ${JSON.stringify(value)}), e.g. "http://127.0.0.1:4318"` });
});

const namePattern = z.string().superRefine((value, ctx) => {
  try {
    if (value.startsWith('/') && value.endsWith('/') && value.length >= 2) new RegExp(value.slice(1, -1));
    else if (value.length === 0) throw new Error('a pattern must not be empty');
    else picomatch(value);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `is not a valid glob or /regex/: ${(e as Error).message}` });
  }
});

/** What both components share: where and how to send. */
const transportShape = {
  /**
   * `http/protobuf`: base URL of the OTLP/HTTP receiver, requests go to `<endpoint>/v1/metrics` and
   * `<endpoint>/v1/logs`. `grpc`: `http://host:port` (plaintext) or `https://host:port` (TLS).
   */
  endpoint,
  /** `http/protobuf` (default) or `grpc`, as OTEL_EXPORTER_OTLP_PROTOCOL names them. */
  protocol: z.enum(['http/protobuf', 'grpc']),
  /** Request headers (e.g. `authorization`, tenant headers). Values may be secrets: they never appear in logs. */
  headers: z.record(z.string(), z.string()),
  /** `gzip` (default) or `none`. */
  compression: z.enum(['gzip', 'none']),
  /** Per-request timeout. */
  timeout: durationMs(600_000),
};

function grpcEndpointHasNoPath(c: { protocol: string; endpoint: string }, ctx: z.RefinementCtx): void {
  if (c.protocol !== 'grpc') return;
  try {
    if (new URL(c.endpoint).pathname.replace(/\/+$/, '') !== '') ctx.addIssue({ code: 'custom', path: ['endpoint'], message: `must be "http(s)://host:port" without a path when protocol is grpc (got ${JSON.stringify(c.endpoint)})` });
  } catch {
    // reported by the endpoint check
  }
}

export const otlpExporterConfigSchema = z
  .object({
    ...transportShape,
    /** Send the samples of selected series as OTLP metrics. */
    samples: z.boolean(),
    /** Send sextant.expected, sextant.band.lower, sextant.band.upper and sextant.learning_state for selected series. */
    signals: z.boolean(),
    /** Send anomalies on selected series: the sextant.anomaly.score metric and one log record each. */
    anomalies: z.boolean(),
    /** Globs or /regexes/ of Sextant metric names to select (empty: all). */
    keep: z.array(namePattern),
    /** Globs or /regexes/ of Sextant metric names to leave out. */
    drop: z.array(namePattern),
    /** Resource attributes added to every resource sent (the series' own win on conflict). */
    resourceAttributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    /** Most data points in one metrics request. */
    maxPointsPerRequest: z.number().int().min(1).max(100_000),
    /** Retry backoff after 5xx, 429 or a network error: doubles from `initial` up to `max`, with jitter. */
    backoff: z.object({ initial: durationMs(600_000), max: durationMs(3_600_000) }).strict(),
    /** Most bytes of encoded requests waiting (on disk, or in memory without a data directory) while the receiver is slow or away; beyond it the oldest are dropped and counted. */
    queueMaxBytes: z.number().int().min(64 << 10),
    /** Directory of the on-disk queue; default `<dataDir>/queue` of the instance. Without either, the queue is in memory. */
    queueDir: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    grpcEndpointHasNoPath(c, ctx);
    if (c.backoff.initial > c.backoff.max) ctx.addIssue({ code: 'custom', path: ['backoff', 'initial'], message: 'must not be above backoff.max' });
  });

export type OtlpExporterConfig = z.output<typeof otlpExporterConfigSchema>;

export const otlpExporterConfigDefaults: Partial<OtlpExporterConfig> = {
  protocol: 'http/protobuf',
  headers: {},
  compression: 'gzip',
  timeout: 10_000,
  samples: true,
  signals: true,
  anomalies: true,
  keep: [],
  drop: [],
  resourceAttributes: {},
  maxPointsPerRequest: 5000,
  backoff: { initial: 500, max: 30_000 },
  queueMaxBytes: 64 << 20,
};

export const otlpLogsNotifierConfigSchema = z
  .object({
    ...transportShape,
    /** Resource attributes of the incident log records (`service.name` defaults to `sextant`). */
    resourceAttributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict()
  .superRefine(grpcEndpointHasNoPath);

export type OtlpLogsNotifierConfig = z.output<typeof otlpLogsNotifierConfigSchema>;

export const otlpLogsNotifierConfigDefaults: Partial<OtlpLogsNotifierConfig> = {
  protocol: 'http/protobuf',
  headers: {},
  compression: 'gzip',
  timeout: 10_000,
  resourceAttributes: { 'service.name': 'sextant' },
};

/** The transport a configuration asks for. */
export function createTransport(c: Pick<OtlpExporterConfig, 'endpoint' | 'protocol' | 'headers' | 'compression' | 'timeout'>): OtlpTransport {
  const secrets = Object.values(c.headers).filter((v) => v.length >= 4);
  return c.protocol === 'grpc'
    ? new OtlpGrpcTransport(c.endpoint, c.headers, c.compression, c.timeout, secrets)
    : new OtlpHttpTransport({ endpoint: c.endpoint, headers: c.headers, compression: c.compression, timeoutMs: c.timeout, secrets });
}

/** Request bodies are compressed before queueing for OTLP/HTTP; gRPC compresses messages itself. */
export function prepareBody(c: Pick<OtlpExporterConfig, 'protocol' | 'compression'>, body: Uint8Array): Uint8Array {
  return c.protocol === 'grpc' ? body : compressBody(body, c.compression);
}
