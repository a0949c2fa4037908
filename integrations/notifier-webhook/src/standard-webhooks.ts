/**
 * Signing and verification after the Standard Webhooks convention (https://www.standardwebhooks.com):
 *
 *   webhook-id:        the message id (Sextant: the notification's idempotencyKey, stable across retries)
 *   webhook-timestamp: unix seconds when this attempt was signed
 *   webhook-signature: "v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>" — several
 *                      space-separated signatures are allowed (key rotation)
 *
 * The secret is either `whsec_<base64 key>` (the base64 part is decoded and used as the key) or any
 * other string, used as UTF-8 bytes. Receivers verify with {@link verifyWebhookSignature}, which
 * rejects bad signatures and timestamps outside the tolerance (replays), then drop duplicates by
 * `webhook-id`.
 */
import { createHmac } from 'node:crypto';
import { secretsEqual } from '@sextant/plugin-kit';

/** The HMAC key a secret stands for. */
export function webhookSigningKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64>` over `${id}.${timestampSec}.${body}`. */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', webhookSigningKey(secret));
  hmac.update(`${id}.${timestampSec}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyWebhookOptions {
  /** Largest accepted distance between the signed timestamp and now, in seconds. Default 300. */
  readonly toleranceSec?: number;
  /** Now, in milliseconds since the epoch. Default `Date.now()`. */
  readonly now?: number;
}

export type WebhookVerification =
  | { readonly ok: true; readonly id: string; readonly timestamp: number }
  | { readonly ok: false; readonly reason: string };

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

/**
 * Verifies a received webhook. `body` must be the raw bytes as received (not re-serialised JSON).
 * Returns `{ ok: false, reason }` for missing headers, a timestamp outside the tolerance (too old:
 * a replay; too new: a skewed clock) or no matching `v1` signature.
 */
export function verifyWebhookSignature(secret: string, headers: WebhookHeaders, body: string | Uint8Array, options: VerifyWebhookOptions = {}): WebhookVerification {
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d+$/.test(timestampText)) return { ok: false, reason: 'webhook-timestamp is not unix seconds' };
  const timestamp = Number(timestampText);
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSec ?? 300;
  if (nowSec - timestamp > tolerance) return { ok: false, reason: `timestamp is ${nowSec - timestamp} s old (tolerance ${tolerance} s): possible replay` };
  if (timestamp - nowSec > tolerance) return { ok: false, reason: `timestamp is ${timestamp - nowSec} s in the future (tolerance ${tolerance} s)` };
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body).slice(3), 'base64');
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (secretsEqual(given, expected)) return { ok: true, id, timestamp };
  }
  return { ok: false, reason: 'no matching v1 signature' };
}
