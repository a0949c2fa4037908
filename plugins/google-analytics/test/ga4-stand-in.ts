/**
 * A strict local stand-in for Google's OAuth token endpoint and the GA4 Data API v1beta, following
 * the published contracts (the real services cannot be reached from tests):
 *
 * - `POST /token`: `application/x-www-form-urlencoded` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
 *   and an RS256 `assertion` whose signature is verified with the public half of the key pair the
 *   test generated; `iss` must be the service account, `aud` the token URI, `scope` must grant
 *   analytics.readonly, `exp - iat <= 3600` and `iat` near now. Errors: 400 `invalid_grant` /
 *   `unsupported_grant_type`, as Google answers.
 * - `POST /v1beta/properties/{id}:runReport` and `:runRealtimeReport`: a live bearer token (401
 *   UNAUTHENTICATED otherwise), the configured property (403 PERMISSION_DENIED otherwise), JSON with
 *   non-empty `metrics`, `dateRanges` for runReport and none for realtime, known metric and
 *   dimension names, `minuteRanges` within 0-29 (400 INVALID_ARGUMENT otherwise). Answers have
 *   `dimensionHeaders`, `metricHeaders`, `rows` with string values, `totals` when asked for,
 *   `rowCount`, `metadata.currencyCode`, `propertyQuota` when asked for and `kind`.
 * - failures can be queued: 429 RESOURCE_EXHAUSTED (with Retry-After), 5xx, 401, 403.
 */
import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CORE_METRICS = new Set(['sessions', 'activeUsers', 'keyEvents', 'conversions', 'purchaseRevenue', 'addToCarts', 'ecommercePurchases', 'screenPageViews', 'totalRevenue']);
const CORE_DIMENSIONS = new Set(['pagePath', 'sessionSource', 'sessionDefaultChannelGroup', 'date', 'country']);
const REALTIME_METRICS = new Set(['activeUsers', 'eventCount', 'keyEvents', 'screenPageViews']);
const REALTIME_DIMENSIONS = new Set(['eventName', 'unifiedScreenName', 'country', 'deviceCategory', 'minutesAgo']);

export interface CoreRow {
  readonly dimension: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface Failure {
  readonly status: number;
  readonly grpcStatus: string;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

export interface Ga4StandIn {
  readonly url: string;
  /** The service account JSON key the collector is configured with. */
  readonly serviceAccountKey: string;
  /** A key for the same account signed with a different private key (the token endpoint must refuse it). */
  readonly forgedKey: string;
  readonly propertyId: string;
  coreRows: CoreRow[];
  realtimeActiveUsers: number;
  realtimeEvents: Record<string, number>;
  tokenLifetimeSeconds: number;
  currencyCode: string;
  readonly tokensIssued: string[];
  readonly apiCalls: { method: string; body: Record<string, unknown> }[];
  readonly refusals: string[];
  failNext(...failures: Failure[]): void;
  revokeTokens(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export async function startGa4StandIn(now: () => number, propertyId = '123456789'): Promise<Ga4StandIn> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tokens = new Map<string, number>(); // token -> expires at (ms)
  const failures: Failure[] = [];
  const clientEmail = 'sextant-reader@demo-project.iam.gserviceaccount.com';
  let url = '';

  const apiError = (res: ServerResponse, status: number, grpcStatus: string, message: string, headers: Record<string, string> = {}) => {
    state.refusals.push(`${status} ${grpcStatus}`);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify({ error: { code: status, message, status: grpcStatus } }));
  };
  const oauthError = (res: ServerResponse, error: string, description: string) => {
    state.refusals.push(`400 ${error}`);
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error, error_description: description }));
  };

  function token(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return oauthError(res, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) return oauthError(res, 'unsupported_grant_type', 'Invalid grant_type: ' + form.get('grant_type'));
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return oauthError(res, 'invalid_grant', 'Invalid JWT: malformed');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch {
      return oauthError(res, 'invalid_grant', 'Invalid JWT: not JSON');
    }
    if (header.alg !== 'RS256') return oauthError(res, 'invalid_grant', 'Invalid JWT: alg must be RS256');
    if (!createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(publicKey, Buffer.from(parts[2], 'base64url'))) return oauthError(res, 'invalid_grant', 'Invalid JWT Signature.');
    const nowSec = Math.floor(now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (claims.iss !== clientEmail) return oauthError(res, 'invalid_grant', 'Invalid JWT: unknown issuer');
    if (claims.aud !== `${url}/token`) return oauthError(res, 'invalid_grant', 'Invalid JWT: aud must be the token URI');
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes('https://www.googleapis.com/auth/analytics.readonly')) return oauthError(res, 'invalid_scope', 'analytics.readonly scope required');
    if (!(exp > iat) || exp - iat > 3600 || Math.abs(iat - nowSec) > 300) return oauthError(res, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    const value = `ya29.${randomBytes(24).toString('base64url')}`;
    tokens.set(value, now() + state.tokenLifetimeSeconds * 1000);
    state.tokensIssued.push(value);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: value, expires_in: state.tokenLifetimeSeconds, token_type: 'Bearer' }));
  }

  function report(req: IncomingMessage, res: ServerResponse, id: string, method: string, raw: string): void {
    const auth = req.headers.authorization ?? '';
    const expires = auth.startsWith('Bearer ') ? tokens.get(auth.slice(7)) : undefined;
    if (expires === undefined || expires <= now()) return apiError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    const failure = failures.shift();
    if (failure) return apiError(res, failure.status, failure.grpcStatus, failure.message, failure.retryAfterSeconds ? { 'retry-after': String(failure.retryAfterSeconds) } : {});
    if (id !== propertyId) return apiError(res, 403, 'PERMISSION_DENIED', 'User does not have sufficient permissions for this property.');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return apiError(res, 400, 'INVALID_ARGUMENT', 'Content-Type must be application/json');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw);
    } catch {
      return apiError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const realtime = method === 'runRealtimeReport';
    const metrics = Array.isArray(body.metrics) ? (body.metrics as { name?: string }[]).map((m) => String(m?.name)) : [];
    const dimensions = Array.isArray(body.dimensions) ? (body.dimensions as { name?: string }[]).map((d) => String(d?.name)) : [];
    if (metrics.length === 0) return apiError(res, 400, 'INVALID_ARGUMENT', 'At least one metric is required.');
    for (const m of metrics) if (!(realtime ? REALTIME_METRICS : CORE_METRICS).has(m)) return apiError(res, 400, 'INVALID_ARGUMENT', `Field ${m} is not a valid metric.`);
    for (const d of dimensions) if (!(realtime ? REALTIME_DIMENSIONS : CORE_DIMENSIONS).has(d)) return apiError(res, 400, 'INVALID_ARGUMENT', `Field ${d} is not a valid dimension.`);
    if (realtime) {
      if ('dateRanges' in body) return apiError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "dateRanges": Cannot find field.');
      for (const r of (body.minuteRanges ?? []) as { startMinutesAgo?: number; endMinutesAgo?: number }[]) {
        if (!(Number(r.startMinutesAgo) <= 29 && Number(r.endMinutesAgo) >= 0 && Number(r.startMinutesAgo) >= Number(r.endMinutesAgo))) return apiError(res, 400, 'INVALID_ARGUMENT', 'minuteRanges must be within the last 30 minutes');
      }
    } else if (!Array.isArray(body.dateRanges) || body.dateRanges.length === 0) return apiError(res, 400, 'INVALID_ARGUMENT', 'A dateRange is required.');
    state.apiCalls.push({ method, body });

    const header = { dimensionHeaders: dimensions.map((name) => ({ name })), metricHeaders: metrics.map((name) => ({ name, type: name === 'purchaseRevenue' ? 'TYPE_CURRENCY' : 'TYPE_INTEGER' })) };
    let rows: { dimensionValues: { value: string }[]; metricValues: { value: string }[] }[] = [];
    let totals: typeof rows | undefined;
    if (realtime) {
      if (dimensions[0] === 'eventName') rows = Object.entries(state.realtimeEvents).map(([name, count]) => ({ dimensionValues: [{ value: name }], metricValues: [{ value: String(count) }] }));
      else rows = [{ dimensionValues: [], metricValues: [{ value: String(state.realtimeActiveUsers) }] }];
    } else {
      const all = state.coreRows.map((r) => ({ dimensionValues: dimensions.length ? [{ value: r.dimension }] : [], metricValues: metrics.map((m) => ({ value: String(r.metrics[m] ?? 0) })) }));
      const sum = metrics.map((m) => state.coreRows.reduce((a, r) => a + (r.metrics[m] ?? 0), 0));
      rows = dimensions.length ? all.slice(0, Number(body.limit ?? 10_000)) : [{ dimensionValues: [], metricValues: sum.map((v) => ({ value: String(v) })) }];
      if (Array.isArray(body.metricAggregations) && body.metricAggregations.includes('TOTAL')) totals = [{ dimensionValues: dimensions.map(() => ({ value: 'RESERVED_TOTAL' })), metricValues: sum.map((v) => ({ value: String(v) })) }];
    }
    const quota = body.returnPropertyQuota
      ? { propertyQuota: { tokensPerDay: { consumed: 10, remaining: 199_990 }, tokensPerHour: { consumed: 10, remaining: 39_990 }, concurrentRequests: { consumed: 0, remaining: 10 } } }
      : {};
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(
      JSON.stringify({ ...header, rows, ...(totals ? { totals } : {}), rowCount: rows.length, metadata: { currencyCode: state.currencyCode, timeZone: 'Europe/Berlin' }, ...quota, kind: realtime ? 'analyticsData#runRealtimeReport' : 'analyticsData#runReport' }),
    );
  }

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '/';
    if (req.method === 'POST' && path === '/token') return token(req, res, body);
    const m = /^\/v1beta\/properties\/([^/:]+):(runReport|runRealtimeReport)$/.exec(path);
    if (req.method === 'POST' && m) return report(req, res, m[1], m[2], body);
    apiError(res, 404, 'NOT_FOUND', `${req.method} ${path} not found`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const keyJson = (pem: string) =>
    JSON.stringify({ type: 'service_account', project_id: 'demo-project', private_key_id: 'k1', private_key: pem, client_email: clientEmail, client_id: '1', token_uri: `${url}/token` });
  const state: Ga4StandIn = {
    url,
    serviceAccountKey: keyJson(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    forgedKey: keyJson(other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    propertyId,
    coreRows: [],
    realtimeActiveUsers: 0,
    realtimeEvents: {},
    tokenLifetimeSeconds: 3599,
    currencyCode: 'EUR',
    tokensIssued: [],
    apiCalls: [],
    refusals: [],
    failNext: (...f) => void failures.push(...f),
    revokeTokens: () => tokens.clear(),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return state;
}
