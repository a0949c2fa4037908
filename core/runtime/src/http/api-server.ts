/**
 * The HTTP API, on Fastify. Read endpoints are open on the bound address (loopback by default);
 * write endpoints need `Authorization: Bearer <server.token>`, checked before the body is read.
 *
 *   GET  /healthz
 *   GET  /metrics                              Prometheus text exposition of Sextant's own metrics
 *   GET  /api/v1/series?metric=&<attr>=&limit=&after=   paged: `truncated` and a `next` link
 *   GET  /api/v1/series/{id}/samples?from=&to= (ms epoch, ISO time, or relative: -15m)
 *   GET  /api/v1/plugins                       plugins found + status of every instance
 *   GET  /api/v1/anomalies?from=&to=&limit=
 *   GET  /api/v1/incidents, /api/v1/incidents/{id}
 *   GET  /api/v1/events?from=&to=&type=, POST /api/v1/events
 *   POST /api/v1/feedback {verdict, anomaly | series, timestamp?}, GET /api/v1/feedback
 *   GET  /api/v1/topology
 *   POST /api/v1/silences, /api/v1/maintenance; DELETE /api/v1/silences/{id} (or maintenance/{id}) ends one early
 *   GET  /api/v1/silences, GET /api/v1/stream  (server-sent events)   see ui-routes.ts
 *   GET  /, /assets/*                          the web UI (@sextant/ui)
 *   *    /ingest/<instance>/...                receivers mounted through coreServices.httpRouter (ingest-routes.ts)
 *
 * Every error is `{"error": {"code", "message", "hint"?}}` (http-errors.ts): 404 for an unknown
 * path, 405 for a known path with another method, 400 for bad input (query strings are checked by
 * JSON schemas; bodies by the handlers, which list every problem at once), 401/403 for the token,
 * 413 over `maxBodyBytes`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, type Attributes, type Detector, type FeedbackRecord, type Logger, type SeriesExpectation } from '@sextant/plugin-api';
import { parseDuration, secretsEqual } from '@sextant/plugin-kit';
import type { StoredEvent } from '../pipeline/pipeline.js';
import type { Runtime } from '../runtime/runtime.js';
import { apiError, errorReply } from './http-errors.js';
import type { IngestRoutes } from './ingest-routes.js';
import type { LiveStream } from './live-stream.js';
import { silenceViews } from './silence-list.js';
import { addUiRoutes, type UiRouteOptions } from './ui-routes.js';

export interface ApiServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** Token for write endpoints. Without one, writes are refused with 403. */
  readonly token?: string;
  readonly logger: Logger;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes?: number;
  /** The web UI at `/` (folder of its build, or `false` for none) and its live stream; see ui-routes.ts. */
  readonly ui?: UiRouteOptions['ui'];
  readonly live?: UiRouteOptions['live'];
}

/** A route added with `route()` (raw node:http handler), e.g. by the CLI after the server listens. */
type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void> | void;

/** Parses a time parameter: ms since epoch, ISO 8601, or relative to now (`-15m`). */
export function parseTime(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value.startsWith('-')) {
    const d = parseDuration(value.slice(1));
    if (d !== undefined) return now - d;
  }
  if (value === 'now') return now;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw apiError(400, ErrorCode.BAD_REQUEST, `cannot read time "${value}"`, 'use ms since the epoch, an ISO time or a relative time like -15m');
  return t;
}

const RESERVED_PARAMS = new Set(['metric', 'limit', 'from', 'to', 'type', 'after', 'status']);

/** Instance states that mean something is not working (healthz says `degraded` and lists them). */
const UNHEALTHY = new Set(['degraded', 'error', 'quarantined']);

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The warning `listen()` logs when the API is reachable beyond this machine with no token set. */
export function exposureWarning(address: string, port: number, token: string | undefined): string | undefined {
  if (isLoopback(address) || token) return undefined;
  return `the API listens on ${address}:${port}, beyond this machine, without a token: anyone who reaches it can read every series, incident and plugin status (write endpoints stay refused)`;
}

/** Query-string schemas (Fastify validates and coerces before the handler runs). */
const LIMIT = { type: 'integer', minimum: 1, maximum: 100_000 } as const;
const TIME = { type: 'string' } as const;
const LIST_QUERY = { type: 'object', properties: { limit: LIMIT, from: TIME, to: TIME, metric: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' } } } as const;
const SERIES_QUERY = { type: 'object', properties: { limit: LIMIT, after: { type: 'integer', minimum: -1 }, metric: { type: 'string' } } } as const;
const SAMPLES_PARAMS = { type: 'object', properties: { id: { type: 'integer', minimum: 0 } }, required: ['id'] } as const;

/** Messages for schema failures, in the words the handlers used before the schemas. */
const QUERY_HINTS: Record<string, string> = {
  limit: 'must be an integer from 1 to 100000',
  after: 'must be a series id; use the "next" value of the previous page',
  id: 'must be a series id; list series with GET /api/v1/series',
};

interface ListQuery {
  limit?: number;
  from?: string;
  to?: string;
  metric?: string;
  type?: string;
  status?: string;
  after?: number;
}

/** Turns a Fastify path (`/a/:id/b`) into a RegExp matching concrete paths, for 405 answers. */
function pathPattern(url: string): RegExp {
  const escaped = url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export class ApiServer {
  private built: FastifyInstance | undefined;
  private readonly maxBody: number;
  private live: LiveStream | undefined;
  /** Every method and path pattern served, for telling 405 from 404. */
  private readonly known: { method: string; pattern: RegExp }[] = [];
  private readonly late: { method: string; pattern: RegExp; handler: Handler }[] = [];
  private listening = false;

  constructor(private readonly runtime: Runtime, private readonly options: ApiServerOptions) {
    this.maxBody = options.maxBodyBytes ?? 1024 * 1024;
  }

  /** The Fastify instance, once `listen()` made it (routes are fixed then; use `route()` for late additions). */
  get app(): FastifyInstance {
    if (!this.built) throw new Error('ApiServer.app exists once listen() has been called');
    return this.built;
  }

  /**
   * Makes the Fastify app and its routes. Fastify is imported here, on the first listen(), not
   * with the runtime: a process that serves no API (an agent with `server.enabled: false`)
   * does not load it (~19 MiB RSS on Node 20; issue 20).
   */
  private async build(): Promise<FastifyInstance> {
    const { runtime, options } = this;
    const { default: Fastify } = await import('fastify');
    const app = Fastify({
      logger: false,
      bodyLimit: this.maxBody,
      // close() ends keep-alive connections and open streams instead of waiting for them.
      forceCloseConnections: true,
      return503OnClosing: true,
      // Query values are validated and coerced by the routes' schemas; unknown keys are filters.
      ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
      schemaErrorFormatter: (errors, dataVar) => {
        const e = errors[0];
        const field = (e?.instancePath ?? '').replace(/^\//, '') || String((e?.params as { missingProperty?: string })?.missingProperty ?? dataVar);
        const hint = QUERY_HINTS[field];
        return apiError(400, ErrorCode.BAD_REQUEST, `${field} ${hint ?? e?.message ?? 'is invalid'}`);
      },
    });
    this.built = app;
    // JSON bodies, whatever the declared type (as before Fastify); the handlers check the shape.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch (e) {
        done(apiError(400, ErrorCode.BAD_REQUEST, `body is not valid JSON: ${(e as Error).message}`), undefined);
      }
    });
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) this.known.push({ method, pattern: pathPattern(route.url ?? route.path) });
    });
    app.addHook('onResponse', async (request, reply) => {
      runtime.telemetry.add('sextant_http_requests_total', '', 1, { route: request.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) });
    });
    app.setErrorHandler((error, request, reply) => this.fail(error, request, reply));
    app.setNotFoundHandler((request, reply) => this.notFound(request, reply));
    const writeGuard = { onRequest: async (request: FastifyRequest) => this.authorize(request) };

    app.get('/healthz', async () => this.healthz());
    app.get('/metrics', async (_request, reply) => this.metrics(reply));
    app.get<{ Querystring: ListQuery }>('/api/v1/series', { schema: { querystring: SERIES_QUERY } }, async (request) => this.series(request));
    app.get<{ Params: { id: number }; Querystring: ListQuery }>('/api/v1/series/:id/samples', { schema: { params: SAMPLES_PARAMS, querystring: LIST_QUERY } }, async (request) => this.samples(request.params.id, request.query));
    app.get('/api/v1/plugins', async () => ({ plugins: runtime.plugins(), instances: [...runtime.statuses(), ...((await runtime.pipeline.detectorView?.statuses()) ?? [])] }));
    app.get<{ Querystring: ListQuery }>('/api/v1/anomalies', { schema: { querystring: LIST_QUERY } }, async (request) => this.anomalies(request));
    app.get<{ Querystring: ListQuery }>('/api/v1/incidents', { schema: { querystring: LIST_QUERY } }, async (request) => this.incidents(request.query));
    app.get<{ Params: { id: string } }>('/api/v1/incidents/:id', async (request) => this.incident(request.params.id));
    app.get<{ Querystring: ListQuery }>('/api/v1/events', { schema: { querystring: LIST_QUERY } }, async (request) => this.events(request));
    app.post('/api/v1/events', writeGuard, async (request, reply) => reply.code(201).send(this.postEvent(request.body)));
    app.post('/api/v1/feedback', writeGuard, async (request, reply) => reply.code(201).send(await this.postFeedback(request.body)));
    app.get('/api/v1/feedback', async () => this.feedbackLog(await this.remoteFeedbackLog()));
    app.post('/api/v1/silences', writeGuard, async (request, reply) => reply.code(201).send(this.postWindow(request.body, 'silence')));
    app.post('/api/v1/maintenance', writeGuard, async (request, reply) => reply.code(201).send(this.postWindow(request.body, 'maintenance')));
    app.delete<{ Params: { id: string } }>('/api/v1/silences/:id', writeGuard, async (request) => await this.endWindow(request.params.id));
    app.delete<{ Params: { id: string } }>('/api/v1/maintenance/:id', writeGuard, async (request) => await this.endWindow(request.params.id));
    app.get('/api/v1/topology', async () => ({ entities: runtime.topology.entities(), edges: runtime.topology.edges() }));
    this.live = addUiRoutes(app, runtime, { ...(options.ui !== undefined ? { ui: options.ui } : {}), ...(options.live ? { live: options.live } : {}) });
    // Receivers mounted through coreServices.httpRouter (absent on a runtime built without the router).
    (runtime as Runtime & { readonly http?: IngestRoutes }).http?.install(app);
    return app;
  }

  /**
   * Adds a route with a raw node:http handler, also after `listen()` (the CLI adds
   * `/api/v1/ingest` and `/api/v1/agent` that way). Fastify's own routes win over these.
   */
  route(method: string, pattern: RegExp, handler: Handler): void {
    this.late.push({ method, pattern, handler });
  }

  async listen(): Promise<{ host: string; port: number; url: string }> {
    if (!this.built) await this.build();
    await this.app.listen({ port: this.options.port ?? 7070, host: this.options.host ?? '127.0.0.1' });
    this.listening = true;
    const addr = this.app.server.address() as import('node:net').AddressInfo;
    const exposed = exposureWarning(addr.address, addr.port, this.options.token);
    if (exposed) this.options.logger.warn(exposed, { hint: 'set server.token (e.g. ${env:SEXTANT_TOKEN}) or keep server.host on 127.0.0.1' });
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `http://${host}:${addr.port}` };
  }

  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.live?.close();
    await this.app.close();
  }

  private fail(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { status, body, internal } = errorReply(error, this.maxBody);
    if (internal) this.options.logger.error(`API ${request.method} ${request.url.split('?')[0]} failed: ${(error as Error)?.message}`);
    // A body refused before it was read: close the connection rather than read the rest of it.
    if (status === 413) reply.header('connection', 'close');
    return reply.code(status).send(body);
  }

  private async notFound(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const url = new URL(request.url, 'http://localhost');
    const late = this.late.filter((r) => r.pattern.test(url.pathname));
    const lateRoute = late.find((r) => r.method === request.method);
    if (lateRoute) {
      reply.hijack();
      try {
        await lateRoute.handler(request.raw, reply.raw, lateRoute.pattern.exec(url.pathname)!.slice(1), url);
      } catch (e) {
        this.options.logger.error(`API ${request.method} ${url.pathname} failed: ${(e as Error).message}`);
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: { code: ErrorCode.INTERNAL, message: 'internal error; see the server log' } }));
      }
      return;
    }
    const methods = new Set([...this.known.filter((r) => r.pattern.test(url.pathname)).map((r) => r.method), ...late.map((r) => r.method)]);
    methods.delete('HEAD');
    if (methods.size === 0) throw apiError(404, ErrorCode.BAD_REQUEST, `no such endpoint: ${url.pathname}`, 'see /api/v1/plugins, /api/v1/series, /metrics, /healthz');
    throw apiError(405, ErrorCode.BAD_REQUEST, `${request.method} is not allowed on ${url.pathname}`, `use ${[...methods].join(' or ')}`);
  }

  private healthz() {
    const counts: Record<string, number> = {};
    const problems: { id: string; state: string; message?: string }[] = [];
    for (const s of this.runtime.statuses()) {
      counts[s.state] = (counts[s.state] ?? 0) + 1;
      if (UNHEALTHY.has(s.state)) problems.push({ id: s.id, state: s.state, ...(s.message ? { message: s.message } : {}) });
    }
    // The process is alive either way (HTTP 200, so a liveness probe does not restart it for a
    // plugin's fault); `status` says whether everything configured works.
    return {
      status: problems.length ? 'degraded' : 'ok',
      uptimeSeconds: Math.round((this.runtime.clock.now() - this.runtime.startedAt) / 1000),
      instances: counts,
      ...(problems.length ? { problems } : {}),
      series: this.runtime.registry.size,
    };
  }

  private async metrics(reply: FastifyReply): Promise<string> {
    const t = this.runtime.telemetry;
    t.set('sextant_series', '', this.runtime.registry.size);
    t.set('sextant_store_bytes', '', this.runtime.store.bytes);
    t.set('sextant_process_resident_memory_bytes', '', process.memoryUsage.rss());
    t.set('sextant_uptime_seconds', '', (this.runtime.clock.now() - this.runtime.startedAt) / 1000);
    t.set('sextant_notifications_pending', '', this.runtime.dispatcher.pending);
    const text = await t.renderPrometheus();
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return text;
  }

  /** Attribute filters: every query parameter that is not one of the endpoint's own. */
  private filters(request: FastifyRequest): Attributes {
    const match: Record<string, string> = {};
    for (const [k, v] of new URL(request.url, 'http://localhost').searchParams) if (!RESERVED_PARAMS.has(k)) match[k] = v;
    return match;
  }

  private async series(request: FastifyRequest<{ Querystring: ListQuery }>) {
    const q = request.query;
    const limit = q.limit ?? 1000;
    const after = q.after ?? -1;
    // One more than asked tells whether another page exists; ids only grow, so the cursor is stable.
    const found = this.runtime.registry.find({ metric: q.metric, match: this.filters(request), limit: limit + 1, after });
    const page = found.slice(0, limit);
    const more = found.length > limit;
    let next: string | null = null;
    if (more) {
      const nextUrl = new URL(request.url, 'http://localhost');
      nextUrl.searchParams.set('after', String(page[page.length - 1].id));
      next = `${nextUrl.pathname}${nextUrl.search}`;
    }
    const remote = await this.remoteExpectations(page.map((s) => s.id));
    return {
      series: page.map((s) => ({ ...s, latest: this.runtime.store.latest(s.id) ?? null, expectation: this.expectation(s.id) ?? remote.get(s.id) ?? null })),
      truncated: more,
      next,
    };
  }

  private expectation(id: number): SeriesExpectation | undefined {
    for (const d of this.runtime.pipeline.detectorComponents as Detector[]) {
      const e = d.expectation?.(id);
      if (e) return e;
    }
    return undefined;
  }

  /** Expectations of series no attached detector models, from detectors that run elsewhere (a cluster member's DetectorView). */
  private async remoteExpectations(ids: readonly number[]): Promise<ReadonlyMap<number, SeriesExpectation>> {
    const view = this.runtime.pipeline.detectorView;
    const missing = view ? ids.filter((id) => this.expectation(id) === undefined) : [];
    if (!view || missing.length === 0) return new Map();
    try {
      return await view.expectations(missing);
    } catch (e) {
      this.options.logger.warn(`API: expectations of series analysed elsewhere are unavailable: ${e instanceof Error ? e.message : String(e)}`);
      return new Map();
    }
  }

  private async samples(id: number, q: ListQuery) {
    const series = this.runtime.registry.describe(id);
    if (!series) throw apiError(404, ErrorCode.BAD_REQUEST, `no series with id ${id}`, 'list series with GET /api/v1/series');
    const now = this.runtime.clock.now();
    const from = parseTime(q.from, now);
    const to = parseTime(q.to, now);
    const local = this.runtime.store.read(id, from, to);
    const elsewhere = this.expectation(id) === undefined ? await this.remoteSamples(id, from, to) : undefined;
    if (elsewhere) {
      // The process that analyses the series now stores it; what this one kept from before comes first.
      const first = elsewhere.samples[0]?.timestamp ?? Number.POSITIVE_INFINITY;
      return { series, samples: [...local.filter((p) => p.timestamp < first), ...elsewhere.samples], expectation: elsewhere.expectation ?? null };
    }
    const expectation = this.expectation(id) ?? (await this.remoteExpectations([id])).get(id) ?? null;
    return { series, samples: local, expectation };
  }

  /** Samples and expectation of a series another process stores (a cluster member's DetectorView), or undefined. */
  private async remoteSamples(id: number, from: number | undefined, to: number | undefined) {
    const view = this.runtime.pipeline.detectorView;
    if (!view?.samples) return undefined;
    try {
      return await view.samples(id, from, to);
    } catch (e) {
      this.options.logger.warn(`API: samples of series ${id}, analysed elsewhere, are unavailable: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  private anomalies(request: FastifyRequest<{ Querystring: ListQuery }>) {
    const q = request.query;
    const now = this.runtime.clock.now();
    const match = this.filters(request);
    const metric = q.metric;
    const list = this.runtime.pipeline.anomalies.query({
      from: parseTime(q.from, now),
      to: parseTime(q.to, now),
      limit: q.limit ?? 1000,
      where: (a) => (!metric || a.metric === metric) && Object.entries(match).every(([k, v]) => String(a.resource[k] ?? a.attributes[k]) === v),
    });
    return { anomalies: list };
  }

  private async incidents(q: ListQuery) {
    const status = q.status;
    const view = this.runtime.pipeline.groupView;
    const list = (view ? [...(await view.incidents())] : [...this.runtime.pipeline.incidents.values()]).filter((i) => !status || i.status === status).sort((a, b) => b.updatedAt - a.updatedAt);
    return { incidents: list.slice(0, q.limit ?? 500) };
  }

  private async incident(id: string) {
    const view = this.runtime.pipeline.groupView;
    const incident = view ? await view.incident(id) : this.runtime.pipeline.incidents.get(id);
    if (!incident) throw apiError(404, ErrorCode.BAD_REQUEST, `no incident ${id}`);
    return { incident };
  }

  private events(request: FastifyRequest<{ Querystring: ListQuery }>) {
    const q = request.query;
    const now = this.runtime.clock.now();
    const type = q.type;
    const match = this.filters(request);
    const list = this.runtime.pipeline.events.query({
      from: parseTime(q.from, now),
      to: parseTime(q.to, now),
      limit: q.limit ?? 1000,
      where: (e) => (!type || e.type === type) && Object.entries(match).every(([k, v]) => String(e.resource[k] ?? e.attributes?.[k]) === v),
    });
    return { events: list };
  }

  /** Runs before the body is read (onRequest), so an unauthenticated client cannot make us read one. */
  private authorize(request: FastifyRequest): void {
    const token = this.options.token;
    if (!token) throw apiError(403, ErrorCode.UNAUTHORIZED, 'write endpoints are disabled: no server.token is configured', 'set server.token (>= 16 characters, e.g. ${env:SEXTANT_TOKEN}) in sextant.yaml');
    const header = request.headers.authorization ?? '';
    if (!secretsEqual(header.startsWith('Bearer ') ? header.slice(7) : '', token)) {
      throw apiError(401, ErrorCode.UNAUTHORIZED, 'missing or wrong token', 'send Authorization: Bearer <server.token>');
    }
  }

  /** The parsed JSON body as an object, or a 400. */
  private objectBody(body: unknown): Record<string, unknown> {
    if (body === undefined) throw apiError(400, ErrorCode.BAD_REQUEST, 'body is not valid JSON: it is empty');
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw apiError(400, ErrorCode.BAD_REQUEST, 'body must be a JSON object');
    return body as Record<string, unknown>;
  }

  /**
   * Silences and maintenance windows: `{ "match": {attributes}, "duration": "2h" | "until": ISO/ms,
   * "comment": "..." }`. Stored as `silence` / `maintenance` events, which the correlator's noise
   * control (and, for maintenance, the detectors' learning) honour.
   */
  private postWindow(raw: unknown, type: 'silence' | 'maintenance') {
    const body = this.objectBody(raw);
    const problems: string[] = [];
    const match = body.match;
    if (!match || typeof match !== 'object' || Array.isArray(match) || Object.keys(match).length === 0 || Object.values(match).some((v) => !['string', 'number', 'boolean'].includes(typeof v))) {
      problems.push('match must be a non-empty map of attribute names to values, e.g. {"service.name": "db"}');
    }
    const now = this.runtime.clock.now();
    const from = body.from === undefined ? now : typeof body.from === 'number' ? body.from : Date.parse(String(body.from));
    let until = Number.NaN;
    if (body.until !== undefined) until = typeof body.until === 'number' ? body.until : Date.parse(String(body.until));
    else if (body.duration !== undefined) until = from + (parseDuration(body.duration) ?? Number.NaN);
    if (!Number.isFinite(from)) problems.push('from must be ms since the epoch or an ISO time');
    if (!Number.isFinite(until) || until <= from) problems.push('give "duration" (e.g. "2h") or an "until" after "from"');
    const unknown = Object.keys(body).filter((k) => !['match', 'from', 'until', 'duration', 'comment'].includes(k));
    if (unknown.length) problems.push(`unknown fields: ${unknown.join(', ')}`);
    if (problems.length) throw apiError(400, ErrorCode.BAD_REQUEST, problems.join('; '));
    const comment = typeof body.comment === 'string' ? body.comment.slice(0, 500) : `${type} via API`;
    const stored = this.runtime.pipeline.ingestEvent(
      { type, title: comment, timestamp: from, resource: match as Attributes, attributes: { from, until }, source: 'api' },
      'api',
    );
    return { [type]: stored };
  }

  /**
   * A person's verdict on an anomaly (`{"verdict": "not-a-problem", "anomaly": "<id>"}`) or on a
   * series at a time (`{"verdict": "missed-here", "series": 12, "timestamp": ...}`): every detector
   * that models the series adjusts that series' sensitivity and keeps the record with its state.
   */
  private async postFeedback(raw: unknown) {
    const body = this.objectBody(raw);
    const problems: string[] = [];
    const unknown = Object.keys(body).filter((k) => !['verdict', 'anomaly', 'series', 'timestamp'].includes(k));
    if (unknown.length) problems.push(`unknown fields: ${unknown.join(', ')}`);
    const verdict = body.verdict;
    if (verdict !== 'not-a-problem' && verdict !== 'missed-here') problems.push('verdict must be "not-a-problem" or "missed-here"');
    let series: number | undefined;
    let timestamp = typeof body.timestamp === 'number' ? body.timestamp : typeof body.timestamp === 'string' ? Date.parse(body.timestamp) : this.runtime.clock.now();
    let score: number | undefined;
    if (typeof body.anomaly === 'string') {
      const anomaly = this.runtime.pipeline.anomalies.query({ where: (a) => a.id === body.anomaly, limit: 1 })[0];
      if (!anomaly) throw apiError(404, ErrorCode.BAD_REQUEST, `no anomaly with id ${body.anomaly}`, 'list them with GET /api/v1/anomalies');
      series = anomaly.seriesId;
      timestamp = anomaly.timestamp;
      score = anomaly.score;
    } else if (typeof body.series === 'number' && Number.isInteger(body.series)) {
      series = body.series;
    } else problems.push('give "anomaly": "<anomaly id>" or "series": <series id>');
    if (!Number.isFinite(timestamp)) problems.push('timestamp must be ms since the epoch or an ISO time');
    if (problems.length) throw apiError(400, ErrorCode.BAD_REQUEST, problems.join('; '));
    if (!this.runtime.registry.describe(series!)) throw apiError(404, ErrorCode.BAD_REQUEST, `no series with id ${series}`, 'list series with GET /api/v1/series');
    const applied: { detector: string; series: number; threshold: number }[] = [];
    for (const d of this.runtime.pipeline.detectorInstances) {
      const threshold = await d.component.feedback?.(series!, verdict as 'not-a-problem' | 'missed-here', timestamp, score);
      if (threshold !== undefined) applied.push({ detector: d.instanceId, series: series!, threshold });
    }
    if (applied.length === 0) throw apiError(409, ErrorCode.BAD_REQUEST, `no running detector models series ${series} yet`, 'feedback applies to series a learning detector (e.g. baseline) has seen');
    return { feedback: applied };
  }

  /** Every detector's feedback record, for export and offline evaluation. */
  private feedbackLog(elsewhere: readonly (FeedbackRecord & { readonly detector: string })[] = []) {
    const local = this.runtime.pipeline.detectorInstances.flatMap((d) => (d.component.feedbackLog?.() ?? []).map((r) => ({ detector: d.instanceId, ...r })));
    return { feedback: elsewhere.length ? [...local, ...elsewhere].sort((a, b) => a.t - b.t) : local };
  }

  /** Feedback kept by detectors that run elsewhere (a cluster member's DetectorView), or none. */
  private async remoteFeedbackLog(): Promise<readonly (FeedbackRecord & { readonly detector: string })[]> {
    const view = this.runtime.pipeline.detectorView;
    if (!view?.feedbackLog) return [];
    try {
      return await view.feedbackLog();
    } catch (e) {
      this.options.logger.warn(`API: feedback kept elsewhere is unavailable: ${e instanceof Error ? e.message : String(e)}`);
      return [];
    }
  }

  /**
   * Ends a silence or maintenance window made through the API before its `until`: records a
   * `silence.end` / `maintenance.end` event whose `attributes.window` is the window's id, which the
   * correlator (updates are delivered again) and the pipeline (learning resumes) honour.
   */
  private async endWindow(id: string) {
    const view = this.runtime.pipeline.groupView;
    const mine = (e: StoredEvent) => e.id === id || ((e.type === 'silence.end' || e.type === 'maintenance.end') && e.attributes?.window === id);
    const all = view ? (await view.windowEvents()).filter(mine) : this.runtime.pipeline.events.query({ limit: 100_000, where: mine });
    const window = all.find((e) => e.id === id && (e.type === 'silence' || e.type === 'maintenance'));
    if (!window) throw apiError(404, ErrorCode.BAD_REQUEST, `no silence or maintenance window ${id}`, 'list them with GET /api/v1/silences');
    const now = this.runtime.clock.now();
    const current = silenceViews(all, now)[0];
    if (!current.active && current.from <= now) throw apiError(409, ErrorCode.BAD_REQUEST, `${window.type} ${id} has already ended`, 'list the active ones with GET /api/v1/silences');
    const ended = this.runtime.pipeline.ingestEvent(
      { type: `${window.type}.end`, title: `${window.type} ended early: ${window.title}`, timestamp: now, resource: window.resource, attributes: { window: id }, source: 'api' },
      'api',
    );
    return { silence: silenceViews(view ? [...all, ended] : this.runtime.pipeline.events.query({ limit: 100_000, where: (e) => e.id === id || e.attributes?.window === id }), now)[0] };
  }

  private postEvent(raw: unknown) {
    const body = this.objectBody(raw);
    const problems: string[] = [];
    if (typeof body.type !== 'string' || !/^[a-z][a-z0-9._-]{0,63}$/.test(body.type)) problems.push('type must be a lower-case word like "deploy"');
    if (typeof body.title !== 'string' || body.title.length === 0 || body.title.length > 500) problems.push('title must be a string of 1-500 characters');
    const resource = body.resource ?? {};
    if (typeof resource !== 'object' || Array.isArray(resource) || Object.values(resource as object).some((v) => !['string', 'number', 'boolean'].includes(typeof v))) {
      problems.push('resource must map attribute names to strings, numbers or booleans');
    }
    const timestamp = body.timestamp === undefined ? this.runtime.clock.now() : typeof body.timestamp === 'number' ? body.timestamp : Date.parse(String(body.timestamp));
    if (!Number.isFinite(timestamp)) problems.push('timestamp must be ms since the epoch or an ISO time');
    const known = new Set(['type', 'title', 'resource', 'attributes', 'timestamp', 'severity', 'source']);
    const unknown = Object.keys(body).filter((k) => !known.has(k));
    if (unknown.length) problems.push(`unknown fields: ${unknown.join(', ')}`);
    if (problems.length) throw apiError(400, ErrorCode.BAD_REQUEST, problems.join('; '));
    const stored = this.runtime.pipeline.ingestEvent(
      {
        type: body.type as string,
        title: body.title as string,
        timestamp,
        resource: resource as Attributes,
        ...(body.attributes && typeof body.attributes === 'object' ? { attributes: body.attributes as Attributes } : {}),
        ...(body.severity === 'info' || body.severity === 'warning' || body.severity === 'critical' ? { severity: body.severity } : {}),
        source: typeof body.source === 'string' ? body.source : 'api',
      },
      'api',
    );
    return { event: stored };
  }
}
