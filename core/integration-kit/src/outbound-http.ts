/**
 * One outgoing HTTP POST on a notifier's behalf, classified into a {@link DeliveryOutcome}.
 *
 * Contract (the same for every Sextant HTTP notifier):
 * - the URL passes the SSRF guard `checkOutboundUrl` first, and every address the connection is
 *   about to use passes it again at connect time (the guarded dispatcher's DNS hook), so a DNS
 *   answer that changes in between cannot reach an internal address (refused -> not retryable);
 * - redirects are never followed (a 3xx is a non-retryable failure: following it would bypass the guard);
 * - every request has a timeout; timeouts and network errors are retryable;
 * - 2xx -> ok; 429 and 5xx -> retryable with `retryAfterMs` from `Retry-After` when present;
 *   other statuses -> not retryable, carrying the receiver's own error text, trimmed to
 *   `MAX_ERROR_TEXT` (500) characters with every known secret replaced by `[redacted]`;
 * - at most {@link MAX_RESPONSE_BYTES} of the response body are read.
 */
import { ErrorCode, formatError, type DeliveryOutcome } from '@sextant/plugin-api';
import { readBodyCapped } from '@sextant/plugin-kit';
import { checkOutboundUrl } from './outbound-url.js';
import { createGuardedDispatcher, type ResolveAll } from './guarded-dispatcher.js';
import { redactSecrets } from './secret-source.js';

export type FailedOutcome = Extract<DeliveryOutcome, { ok: false }>;

export interface OutboundRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Whole-request timeout in milliseconds (connect, send, response body). */
  readonly timeoutMs: number;
  /** SSRF allow list (hosts, IPs, CIDRs), from the notifier's `allow` config. */
  readonly allow: readonly string[];
  /** Values that must never appear in an outcome or a log line (tokens, keys). */
  readonly secrets: readonly string[];
  /** Aborted when the notifier shuts down. */
  readonly signal?: AbortSignal;
  /**
   * Resolver for host names, used by the pre-check and at connect time; defaults to the system
   * resolver. Tests pass one to play DNS answers (never real DNS).
   */
  readonly resolve?: ResolveAll;
}

/** Either the receiver's answer (any status, body read) or a failure before one arrived. */
export type OutboundResult =
  | { readonly kind: 'response'; readonly status: number; readonly text: string; readonly headers: Headers }
  | { readonly kind: 'failed'; readonly outcome: FailedOutcome };

/** Longest response body read, in bytes; receivers answer with short documents. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date (relative to `nowMs`). Undefined
 * when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Classifies an HTTP status as the contract above says. `what` names the receiver in messages. */
export function outcomeForStatus(status: number, text: string, headers: Headers, what: string, secrets: readonly string[], nowMs: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, detail: `${what} answered ${status}` };
  const body = redactSecrets(text, secrets);
  const error = `${what} answered ${status}${body ? `: ${body}` : ''}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'), nowMs);
    return { ok: false, retryable: true, error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (status >= 300 && status < 400) {
    const location = headers.get('location');
    return {
      ok: false,
      retryable: false,
      error: `${what} answered ${status} (redirect${location ? ` to ${redactSecrets(location, secrets)}` : ''}); redirects are not followed, configure the final URL`,
    };
  }
  return { ok: false, retryable: false, error };
}

/** POSTs `body` to `url` under the contract above. Never throws. `what` names the receiver in messages. */
export async function postOutbound(request: OutboundRequest, what: string): Promise<OutboundResult> {
  try {
    await checkOutboundUrl(request.url, { allow: request.allow, ...(request.resolve ? { lookup: request.resolve } : {}) });
  } catch (e) {
    return { kind: 'failed', outcome: { ok: false, retryable: false, error: redactSecrets(formatError(e), request.secrets) } };
  }
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  // undici is loaded on first use (see createGuardedDispatcher)
  const { fetch } = await import('undici');
  const dispatcher = await createGuardedDispatcher({ allow: request.allow, ...(request.resolve ? { resolve: request.resolve } : {}) });
  try {
    const response = await fetch(request.url, { method: 'POST', body: request.body, headers: request.headers, redirect: 'manual', signal, dispatcher });
    const text = Buffer.from(await readBodyCapped(response as unknown as Response, MAX_RESPONSE_BYTES)).toString('utf8');
    return { kind: 'response', status: response.status, text, headers: response.headers as unknown as Headers };
  } catch (e) {
    const host = new URL(request.url).host;
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.cause?.code === ErrorCode.URL_REFUSED) {
      // Refused at connect time (the DNS answer changed since the pre-check): as final as a refusal before.
      return { kind: 'failed', outcome: { ok: false, retryable: false, error: redactSecrets(formatError(err.cause), request.secrets) } };
    }
    const reason = timeout.aborted
      ? `timed out after ${request.timeoutMs} ms`
      : request.signal?.aborted
        ? 'notifier is shutting down'
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { kind: 'failed', outcome: { ok: false, retryable: true, error: redactSecrets(`cannot reach ${what} at ${host}: ${reason}`, request.secrets) } };
  } finally {
    // The body is read (or capped): nothing more is wanted from this connection.
    void dispatcher.destroy().catch(() => undefined);
  }
}
