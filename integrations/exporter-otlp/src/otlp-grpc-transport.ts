/**
 * OTLP/gRPC transport: unary `Export` calls of `opentelemetry.proto.collector.{metrics,logs}.v1`
 * with the already-encoded request bytes (identity (de)serialisers: no generated code), headers
 * sent as metadata, gzip by gRPC's own message compression.
 *
 * Status classification follows the OTLP/gRPC rules: UNAVAILABLE, CANCELLED, DEADLINE_EXCEEDED,
 * ABORTED, OUT_OF_RANGE, DATA_LOSS and RESOURCE_EXHAUSTED are retried (the last one always: the
 * RetryInfo detail that the specification asks to check is not read); every other status
 * (INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, UNIMPLEMENTED, ...) is final.
 */
import { Client, Metadata, credentials, status, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { redactSecrets } from '@sextant/integration-kit';
import { decodePartialSuccess } from './otlp-encoding.js';
import type { OtlpPostResult } from './otlp-http-transport.js';

const EXPORT_PATHS = {
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
} as const;

const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.CANCELLED, status.DEADLINE_EXCEEDED, status.ABORTED, status.OUT_OF_RANGE, status.DATA_LOSS, status.RESOURCE_EXHAUSTED]);

const identity = (b: Buffer) => b;

export class OtlpGrpcTransport {
  private readonly client: Client;
  private readonly target: string;
  private readonly calls = new Set<ClientUnaryCall>();

  /** `endpoint` is `http://host:port` (plaintext) or `https://host:port` (TLS with the system roots). */
  constructor(
    endpoint: string,
    private readonly headers: Readonly<Record<string, string>>,
    compression: 'gzip' | 'none',
    private readonly timeoutMs: number,
    private readonly secrets: readonly string[],
  ) {
    const u = new URL(endpoint);
    this.target = `${u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '4317')}`;
    this.client = new Client(this.target, u.protocol === 'https:' ? credentials.createSsl() : credentials.createInsecure(), {
      'grpc.default_compression_algorithm': compression === 'gzip' ? 2 : 0,
      'grpc.primary_user_agent': 'sextant-exporter-otlp',
    });
  }

  send(signal: 'metrics' | 'logs', body: Uint8Array): Promise<OtlpPostResult> {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(this.headers)) metadata.set(k.toLowerCase(), v);
    return new Promise((resolve) => {
      const call = this.client.makeUnaryRequest<Buffer, Buffer>(
        EXPORT_PATHS[signal],
        identity,
        identity,
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        metadata,
        { deadline: Date.now() + this.timeoutMs },
        (err: ServiceError | null, response?: Buffer) => {
          this.calls.delete(call);
          if (!err) {
            const partial = response ? decodePartialSuccess(new Uint8Array(response)) : undefined;
            resolve({ ok: true, bytes: body.byteLength, rejected: partial?.rejected ?? 0, rejectedMessage: partial?.message ?? '' });
            return;
          }
          const retryable = RETRYABLE.has(err.code);
          const name = status[err.code] ?? String(err.code);
          const error = redactSecrets(`${this.target} answered gRPC ${name}: ${err.details}`, this.secrets);
          resolve({ ok: false, retryable, reason: err.code === status.DEADLINE_EXCEEDED ? 'timeout' : err.code === status.UNAVAILABLE ? 'network' : retryable ? 'grpc_retryable' : 'grpc_final', error });
        },
      );
      this.calls.add(call);
    });
  }

  /** Cancels calls in flight (they resolve as retryable CANCELLED) and closes the channel. */
  close(): void {
    for (const call of this.calls) call.cancel();
    this.client.close();
  }
}
