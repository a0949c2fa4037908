/**
 * Google service-account credentials and the OAuth 2.0 JWT bearer flow (RFC 7523), as Google's
 * token endpoint implements it:
 *
 *   1. sign a JWT with the key's RSA private key (RS256): header `{alg:"RS256", typ:"JWT", kid}`,
 *      claims `{iss: client_email, scope, aud: token_uri, iat, exp <= iat + 3600}`;
 *   2. POST `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`
 *      (application/x-www-form-urlencoded) to `token_uri`;
 *   3. get `{access_token, expires_in, token_type: "Bearer"}`.
 *
 * The token is cached and refreshed a minute before it expires, or at once after the API answers
 * 401. No Google library: node:crypto signs, fetch posts.
 */
import { createSign } from 'node:crypto';
import { ErrorCode, SextantError, type Clock } from '@sextant/plugin-api';
import { readBodyCapped } from '@sextant/plugin-kit';

export const ANALYTICS_READONLY_SCOPE = 'https://www.googleapis.com/auth/analytics.readonly';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const REFRESH_EARLY_MS = 60_000;

export interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
}

/** Reads the JSON key file Google issues for a service account; says which field is wrong. */
export function parseServiceAccountKey(json: string): ServiceAccountKey {
  let k: Record<string, unknown>;
  try {
    k = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new SextantError(ErrorCode.CONFIG_INVALID, 'the service account key is not JSON', { hint: 'download a JSON key for the service account in Google Cloud (IAM > Service accounts > Keys)' });
  }
  if (k.type !== 'service_account') throw new SextantError(ErrorCode.CONFIG_INVALID, `the key's type is ${JSON.stringify(k.type)}, not "service_account"`, { hint: 'use a service account key, not an OAuth client id' });
  if (typeof k.client_email !== 'string' || !k.client_email.includes('@')) throw new SextantError(ErrorCode.CONFIG_INVALID, 'the service account key has no client_email');
  if (typeof k.private_key !== 'string' || !k.private_key.includes('PRIVATE KEY')) throw new SextantError(ErrorCode.CONFIG_INVALID, 'the service account key has no PEM private_key');
  return {
    clientEmail: k.client_email,
    privateKey: k.private_key,
    ...(typeof k.private_key_id === 'string' ? { privateKeyId: k.private_key_id } : {}),
    tokenUri: typeof k.token_uri === 'string' ? k.token_uri : GOOGLE_TOKEN_URI,
  };
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The signed assertion of step 1. */
export function signJwtAssertion(key: ServiceAccountKey, scope: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
  const claims = { iss: key.clientEmail, scope, aud: key.tokenUri, iat, exp: iat + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key.privateKey);
  return `${input}.${b64url(signature)}`;
}

export class JwtBearerTokenSource {
  private token: { value: string; expiresAt: number } | undefined;
  /** Tokens fetched so far (for self-metrics and tests). */
  fetched = 0;

  constructor(
    private readonly key: ServiceAccountKey,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly scope = ANALYTICS_READONLY_SCOPE,
  ) {}

  /** Forgets the cached token (after a 401). */
  invalidate(): void {
    this.token = undefined;
  }

  async accessToken(signal?: AbortSignal): Promise<string> {
    const now = this.clock.now();
    if (this.token && now < this.token.expiresAt - REFRESH_EARLY_MS) return this.token.value;
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion: signJwtAssertion(this.key, this.scope, now) });
    let res: Response;
    try {
      res = await fetch(this.key.tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach the token endpoint ${this.key.tokenUri}: ${(e as Error).message}`, { hint: 'check network access to oauth2.googleapis.com' });
    }
    const text = new TextDecoder().decode(await readBodyCapped(res, 64 * 1024));
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // reported below
    }
    if (!res.ok) {
      const why = typeof json.error === 'string' ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description}` : ''}` : `HTTP ${res.status}`;
      throw new SextantError(res.status >= 500 ? ErrorCode.CONNECTION_FAILED : ErrorCode.AUTH_FAILED, `the token endpoint refused the service account ${this.key.clientEmail} (${why})`, {
        hint: 'check that the key is current (not deleted or rotated) and the machine clock is right',
      });
    }
    if (typeof json.access_token !== 'string' || typeof json.expires_in !== 'number' || !(json.expires_in > 0)) {
      throw new SextantError(ErrorCode.PARSE_FAILED, 'the token endpoint answered without access_token/expires_in');
    }
    this.fetched++;
    this.token = { value: json.access_token, expiresAt: now + json.expires_in * 1000 };
    return this.token.value;
  }
}
