/**
 * One OTLP/HTTP protobuf POST, classified by the OTLP/HTTP rules: 2xx accepted (a
 * `partial_success` in the body reports points/records the receiver refused); 429, 502, 503, 504,
 * other 5xx and network errors or timeouts are retryable, with `Retry-After` honoured; every
 * other status (400 bad data, 401/403 auth, 404 wrong path, 413 too big) is final: retrying the
 * same bytes cannot succeed.
 */
import { gzipSync } from 'node:zlib';
import { outcomeForStatus, redactSecrets } from '@sextant/integration-kit';
import { readBodyCapped } from '@sextant/plugin-kit';
import { decodePartialSuccess } from './otlp-encoding.js';

export interface OtlpPostOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  readonly timeoutMs: number;
  /** Values that must never appear in an error text. */
  readonly secrets: readonly string[];
  /** Aborted on shutdown. */
  readonly signal?: AbortSignal;
}

export type OtlpPostResult =
  | { readonly ok: true; readonly bytes: number; readonly rejected: number; readonly rejectedMessage: string }
  | { readonly ok: false; readonly retryable: boolean; readonly reason: 'network' | 'timeout' | 'http_429' | 'http_5xx' | 'http_4xx' | 'grpc_retryable' | 'grpc_final'; readonly error: string; readonly retryAfterMs?: number };

/** Longest response body read, in bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Compresses a request body as configured (done once, before queueing). */
export function compressBody(body: Uint8Array, compression: 'gzip' | 'none'): Uint8Array {
  return compression === 'gzip' ? new Uint8Array(gzipSync(body)) : body;
}

/** Sends one encoded request of a signal; what both transports offer. */
export interface OtlpTransport {
  send(signal: 'metrics' | 'logs', body: Uint8Array): Promise<OtlpPostResult>;
  close(): void;
}

/**
 * OTLP/HTTP protobuf: POST `<endpoint>/v1/<signal>`. Bodies are compressed before queueing
 * ({@link compressBody}), so `send` takes them as they are.
 */
export class OtlpHttpTransport implements OtlpTransport {
  private readonly abort = new AbortController();
  constructor(private readonly o: Omit<OtlpPostOptions, 'url' | 'signal'> & { readonly endpoint: string }) {}
  send(signal: 'metrics' | 'logs', body: Uint8Array): Promise<OtlpPostResult> {
    return postOtlp(body, { ...this.o, url: `${this.o.endpoint.replace(/\/+$/, '')}/v1/${signal}`, signal: this.abort.signal });
  }
  close(): void {
    this.abort.abort();
  }
}

export async function postOtlp(body: Uint8Array, o: OtlpPostOptions): Promise<OtlpPostResult> {
  const headers: Record<string, string> = { ...o.headers, 'content-type': 'application/x-protobuf', 'user-agent': 'sextant-exporter-otlp' };
  if (o.compression === 'gzip') headers['content-encoding'] = 'gzip';
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  try {
    const res = await fetch(o.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    const bytes = await readBodyCapped(res, MAX_RESPONSE_BYTES).catch(() => new Uint8Array());
    if (res.ok) {
      const partial = res.headers.get('content-type')?.includes('protobuf') ? decodePartialSuccess(bytes) : undefined;
      return { ok: true, bytes: body.byteLength, rejected: partial?.rejected ?? 0, rejectedMessage: partial?.message ?? '' };
    }
    const text = res.headers.get('content-type')?.includes('protobuf') ? '' : new TextDecoder().decode(bytes).trim().slice(0, 300);
    const outcome = outcomeForStatus(res.status, text, res.headers, `${redactSecrets(o.url, o.secrets)}`, o.secrets, Date.now());
    if (outcome.ok) throw new Error('unreachable: non-2xx classified as ok');
    const reason = res.status === 429 ? 'http_429' : res.status >= 500 ? 'http_5xx' : 'http_4xx';
    return { ok: false, retryable: outcome.retryable, reason, error: outcome.error, ...(outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}) };
  } catch (e) {
    const timedOut = timeout.aborted && !o.signal?.aborted;
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    const error = timedOut ? `no answer within ${o.timeoutMs} ms` : redactSecrets(`${cause?.code ?? cause?.message ?? (e as Error).message}`, o.secrets);
    return { ok: false, retryable: true, reason: timedOut ? 'timeout' : 'network', error };
  }
}
