/**
 * The HTTP API (node:http, no framework). Read endpoints are open on the bound address (loopback by
 * default); write endpoints need `Authorization: Bearer <server.token>`.
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
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, type Attributes, type Detector, type Logger, type SeriesExpectation } from '@sextant/plugin-api';
import { parseDuration } from '../config/runtime-config.js';
import type { Runtime } from '../runtime/runtime.js';
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

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void> | void;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly hint?: string) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Parses a time parameter: ms since epoch, ISO 8601, or relative to now (`-15m`). */
export function parseTime(value: string | null, now: number): number | undefined {
  if (value === null || value === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value.startsWith('-')) {
    const d = parseDuration(value.slice(1));
    if (d !== undefined) return now - d;
  }
  if (value === 'now') return now;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new HttpError(400, ErrorCode.BAD_REQUEST, `cannot read time "${value}"`, 'use ms since the epoch, an ISO time or a relative time like -15m');
  return t;
}

const RESERVED_PARAMS = new Set(['metric', 'limit', 'from', 'to', 'type', 'after']);

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

export class ApiServer {
  private server: Server | undefined;
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  private readonly maxBody: number;
  private readonly live: LiveStream;

  constructor(private readonly runtime: Runtime, private readonly options: ApiServerOptions) {
    this.maxBody = options.maxBodyBytes ?? 1024 * 1024;
    this.route('GET', /^\/healthz$/, (_req, res) => this.healthz(res));
    this.route('GET', /^\/metrics$/, (_req, res) => this.metrics(res));
    this.route('GET', /^\/api\/v1\/series$/, (_req, res, _p, url) => this.series(res, url));
    this.route('GET', /^\/api\/v1\/series\/(\d+)\/samples$/, (_req, res, p, url) => this.samples(res, Number(p[0]), url));
    this.route('GET', /^\/api\/v1\/plugins$/, (_req, res) => send(res, 200, { plugins: this.runtime.plugins(), instances: this.runtime.statuses() }));
    this.route('GET', /^\/api\/v1\/anomalies$/, (_req, res, _p, url) => this.anomalies(res, url));
    this.route('GET', /^\/api\/v1\/incidents$/, (_req, res, _p, url) => this.incidents(res, url));
    this.route('GET', /^\/api\/v1\/incidents\/([^/]+)$/, (_req, res, p) => this.incident(res, decodeURIComponent(p[0])));
    this.route('GET', /^\/api\/v1\/events$/, (_req, res, _p, url) => this.events(res, url));
    this.route('POST', /^\/api\/v1\/events$/, (req, res) => this.postEvent(req, res));
    this.route('POST', /^\/api\/v1\/feedback$/, (req, res) => this.postFeedback(req, res));
    this.route('GET', /^\/api\/v1\/feedback$/, (_req, res) => this.feedbackLog(res));
    this.route('POST', /^\/api\/v1\/silences$/, (req, res) => this.postWindow(req, res, 'silence'));
    this.route('POST', /^\/api\/v1\/maintenance$/, (req, res) => this.postWindow(req, res, 'maintenance'));
    this.route('DELETE', /^\/api\/v1\/(?:silences|maintenance)\/([^/]+)$/, (req, res, p) => this.endWindow(req, res, decodeURIComponent(p[0])));
    this.route('GET', /^\/api\/v1\/topology$/, (_req, res) => send(res, 200, { entities: this.runtime.topology.entities(), edges: this.runtime.topology.edges() }));
    this.live = addUiRoutes(this, runtime, { ...(options.ui !== undefined ? { ui: options.ui } : {}), ...(options.live ? { live: options.live } : {}) });
  }

  /** Adds a route; later issues (UI, silences) extend the API this way. */
  route(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.push({ method, pattern, handler });
  }

  async listen(): Promise<{ host: string; port: number; url: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 7070, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const exposed = exposureWarning(addr.address, addr.port, this.options.token);
    if (exposed) this.options.logger.warn(exposed, { hint: 'set server.token (e.g. ${env:SEXTANT_TOKEN}) or keep server.host on 127.0.0.1' });
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `http://${host}:${addr.port}` };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.live.close();
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (matching.length === 0) throw new HttpError(404, ErrorCode.BAD_REQUEST, `no such endpoint: ${url.pathname}`, 'see /api/v1/plugins, /api/v1/series, /metrics, /healthz');
      const route = matching.find((r) => r.method === req.method);
      if (!route) throw new HttpError(405, ErrorCode.BAD_REQUEST, `${req.method} is not allowed on ${url.pathname}`, `use ${matching.map((r) => r.method).join(' or ')}`);
      const params = route.pattern.exec(url.pathname)!.slice(1);
      await route.handler(req, res, params, url);
    } catch (e) {
      if (e instanceof HttpError) {
        send(res, e.status, { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } });
      } else {
        this.options.logger.error(`API ${req.method} ${url.pathname} failed: ${(e as Error).message}`);
        if (!res.headersSent) send(res, 500, { error: { code: ErrorCode.INTERNAL, message: 'internal error; see the server log' } });
      }
    }
  }

  private healthz(res: ServerResponse): void {
    const counts: Record<string, number> = {};
    const problems: { id: string; state: string; message?: string }[] = [];
    for (const s of this.runtime.statuses()) {
      counts[s.state] = (counts[s.state] ?? 0) + 1;
      if (UNHEALTHY.has(s.state)) problems.push({ id: s.id, state: s.state, ...(s.message ? { message: s.message } : {}) });
    }
    // The process is alive either way (HTTP 200, so a liveness probe does not restart it for a
    // plugin's fault); `status` says whether everything configured works.
    send(res, 200, {
      status: problems.length ? 'degraded' : 'ok',
      uptimeSeconds: Math.round((this.runtime.clock.now() - this.runtime.startedAt) / 1000),
      instances: counts,
      ...(problems.length ? { problems } : {}),
      series: this.runtime.registry.size,
    });
  }

  private metrics(res: ServerResponse): void {
    const t = this.runtime.telemetry;
    t.set('sextant_series', 'Series known to the store', this.runtime.registry.size);
    t.set('sextant_store_bytes', 'Bytes held by the sample ring buffers', this.runtime.store.bytes);
    t.set('sextant_process_resident_memory_bytes', 'Resident set size of this process', process.memoryUsage.rss());
    t.set('sextant_uptime_seconds', 'Seconds since the runtime started', (this.runtime.clock.now() - this.runtime.startedAt) / 1000);
    t.set('sextant_notifications_pending', 'Notifications waiting for delivery', this.runtime.dispatcher.pending);
    const text = t.renderPrometheus();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
  }

  private filters(url: URL): Attributes {
    const match: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (!RESERVED_PARAMS.has(k)) match[k] = v;
    return match;
  }

  private limit(url: URL, dflt: number): number {
    const raw = url.searchParams.get('limit');
    if (raw === null) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new HttpError(400, ErrorCode.BAD_REQUEST, `limit must be an integer from 1 to 100000 (got "${raw}")`);
    return n;
  }

  private series(res: ServerResponse, url: URL): void {
    const limit = this.limit(url, 1000);
    const afterRaw = url.searchParams.get('after');
    const after = afterRaw === null ? -1 : Number(afterRaw);
    if (!Number.isInteger(after) || after < -1) throw new HttpError(400, ErrorCode.BAD_REQUEST, `after must be a series id (got "${afterRaw}")`, 'use the "next" value of the previous page');
    // One more than asked tells whether another page exists; ids only grow, so the cursor is stable.
    const found = this.runtime.registry.find({ metric: url.searchParams.get('metric') ?? undefined, match: this.filters(url), limit: limit + 1, after });
    const page = found.slice(0, limit);
    const more = found.length > limit;
    let next: string | null = null;
    if (more) {
      const nextUrl = new URL(url);
      nextUrl.searchParams.set('after', String(page[page.length - 1].id));
      next = `${nextUrl.pathname}${nextUrl.search}`;
    }
    send(res, 200, {
      series: page.map((s) => ({ ...s, latest: this.runtime.store.latest(s.id) ?? null, expectation: this.expectation(s.id) ?? null })),
      truncated: more,
      next,
    });
  }

  private expectation(id: number): SeriesExpectation | undefined {
    for (const d of this.runtime.pipeline.detectorComponents as Detector[]) {
      const e = d.expectation?.(id);
      if (e) return e;
    }
    return undefined;
  }

  private samples(res: ServerResponse, id: number, url: URL): void {
    const series = this.runtime.registry.describe(id);
    if (!series) throw new HttpError(404, ErrorCode.BAD_REQUEST, `no series with id ${id}`, 'list series with GET /api/v1/series');
    const now = this.runtime.clock.now();
    const from = parseTime(url.searchParams.get('from'), now);
    const to = parseTime(url.searchParams.get('to'), now);
    send(res, 200, { series, samples: this.runtime.store.read(id, from, to), expectation: this.expectation(id) ?? null });
  }

  private anomalies(res: ServerResponse, url: URL): void {
    const now = this.runtime.clock.now();
    const match = this.filters(url);
    const metric = url.searchParams.get('metric');
    const list = this.runtime.pipeline.anomalies.query({
      from: parseTime(url.searchParams.get('from'), now),
      to: parseTime(url.searchParams.get('to'), now),
      limit: this.limit(url, 1000),
      where: (a) => (!metric || a.metric === metric) && Object.entries(match).every(([k, v]) => String(a.resource[k] ?? a.attributes[k]) === v),
    });
    send(res, 200, { anomalies: list });
  }

  private incidents(res: ServerResponse, url: URL): void {
    const status = url.searchParams.get('status');
    const list = [...this.runtime.pipeline.incidents.values()].filter((i) => !status || i.status === status).sort((a, b) => b.updatedAt - a.updatedAt);
    send(res, 200, { incidents: list.slice(0, this.limit(url, 500)) });
  }

  private incident(res: ServerResponse, id: string): void {
    const incident = this.runtime.pipeline.incidents.get(id);
    if (!incident) throw new HttpError(404, ErrorCode.BAD_REQUEST, `no incident ${id}`);
    send(res, 200, { incident });
  }

  private events(res: ServerResponse, url: URL): void {
    const now = this.runtime.clock.now();
    const type = url.searchParams.get('type');
    const match = this.filters(url);
    const list = this.runtime.pipeline.events.query({
      from: parseTime(url.searchParams.get('from'), now),
      to: parseTime(url.searchParams.get('to'), now),
      limit: this.limit(url, 1000),
      where: (e) => (!type || e.type === type) && Object.entries(match).every(([k, v]) => String(e.resource[k] ?? e.attributes?.[k]) === v),
    });
    send(res, 200, { events: list });
  }

  private authorize(req: IncomingMessage): void {
    const token = this.options.token;
    if (!token) throw new HttpError(403, ErrorCode.UNAUTHORIZED, 'write endpoints are disabled: no server.token is configured', 'set server.token (>= 16 characters, e.g. ${env:SEXTANT_TOKEN}) in sextant.yaml');
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, ErrorCode.UNAUTHORIZED, 'missing or wrong token', 'send Authorization: Bearer <server.token>');
    }
  }

  /** Reads a JSON body of at most maxBodyBytes; refuses larger bodies without reading them all. */
  async readJson(req: IncomingMessage): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody) throw new HttpError(413, ErrorCode.LIMIT_EXCEEDED, `body of ${declared} bytes is larger than the ${this.maxBody} byte limit`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.maxBody) {
        req.destroy();
        throw new HttpError(413, ErrorCode.LIMIT_EXCEEDED, `body is larger than the ${this.maxBody} byte limit`);
      }
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      throw new HttpError(400, ErrorCode.BAD_REQUEST, `body is not valid JSON: ${(e as Error).message}`);
    }
  }

  /**
   * Silences and maintenance windows: `{ "match": {attributes}, "duration": "2h" | "until": ISO/ms,
   * "comment": "..." }`. Stored as `silence` / `maintenance` events, which the correlator's noise
   * control (and, for maintenance, the detectors' learning) honour.
   */
  private async postWindow(req: IncomingMessage, res: ServerResponse, type: 'silence' | 'maintenance'): Promise<void> {
    this.authorize(req);
    const body = (await this.readJson(req)) as Record<string, unknown>;
    const problems: string[] = [];
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, ErrorCode.BAD_REQUEST, 'body must be a JSON object');
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
    if (problems.length) throw new HttpError(400, ErrorCode.BAD_REQUEST, problems.join('; '));
    const comment = typeof body.comment === 'string' ? body.comment.slice(0, 500) : `${type} via API`;
    const stored = this.runtime.pipeline.ingestEvent(
      { type, title: comment, timestamp: from, resource: match as Attributes, attributes: { from, until }, source: 'api' },
      'api',
    );
    send(res, 201, { [type]: stored });
  }

  /**
   * A person's verdict on an anomaly (`{"verdict": "not-a-problem", "anomaly": "<id>"}`) or on a
   * series at a time (`{"verdict": "missed-here", "series": 12, "timestamp": ...}`): every detector
   * that models the series adjusts that series' sensitivity and keeps the record with its state.
   */
  private async postFeedback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.authorize(req);
    const body = (await this.readJson(req)) as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, ErrorCode.BAD_REQUEST, 'body must be a JSON object');
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
      if (!anomaly) throw new HttpError(404, ErrorCode.BAD_REQUEST, `no anomaly with id ${body.anomaly}`, 'list them with GET /api/v1/anomalies');
      series = anomaly.seriesId;
      timestamp = anomaly.timestamp;
      score = anomaly.score;
    } else if (typeof body.series === 'number' && Number.isInteger(body.series)) {
      series = body.series;
    } else problems.push('give "anomaly": "<anomaly id>" or "series": <series id>');
    if (!Number.isFinite(timestamp)) problems.push('timestamp must be ms since the epoch or an ISO time');
    if (problems.length) throw new HttpError(400, ErrorCode.BAD_REQUEST, problems.join('; '));
    if (!this.runtime.registry.describe(series!)) throw new HttpError(404, ErrorCode.BAD_REQUEST, `no series with id ${series}`, 'list series with GET /api/v1/series');
    const applied: { detector: string; series: number; threshold: number }[] = [];
    for (const d of this.runtime.pipeline.detectorInstances) {
      const threshold = await d.component.feedback?.(series!, verdict as 'not-a-problem' | 'missed-here', timestamp, score);
      if (threshold !== undefined) applied.push({ detector: d.instanceId, series: series!, threshold });
    }
    if (applied.length === 0) throw new HttpError(409, ErrorCode.BAD_REQUEST, `no running detector models series ${series} yet`, 'feedback applies to series a learning detector (e.g. baseline) has seen');
    send(res, 201, { feedback: applied });
  }

  /** Every detector's feedback record, for export and offline evaluation. */
  private feedbackLog(res: ServerResponse): void {
    const feedback = this.runtime.pipeline.detectorInstances.flatMap((d) => (d.component.feedbackLog?.() ?? []).map((r) => ({ detector: d.instanceId, ...r })));
    send(res, 200, { feedback });
  }

  /**
   * Ends a silence or maintenance window made through the API before its `until`: records a
   * `silence.end` / `maintenance.end` event whose `attributes.window` is the window's id, which the
   * correlator (updates are delivered again) and the pipeline (learning resumes) honour.
   */
  private endWindow(req: IncomingMessage, res: ServerResponse, id: string): void {
    this.authorize(req);
    const all = this.runtime.pipeline.events.query({ limit: 100_000, where: (e) => e.id === id || ((e.type === 'silence.end' || e.type === 'maintenance.end') && e.attributes?.window === id) });
    const window = all.find((e) => e.id === id && (e.type === 'silence' || e.type === 'maintenance'));
    if (!window) throw new HttpError(404, ErrorCode.BAD_REQUEST, `no silence or maintenance window ${id}`, 'list them with GET /api/v1/silences');
    const now = this.runtime.clock.now();
    const view = silenceViews(all, now)[0];
    if (!view.active && view.from <= now) throw new HttpError(409, ErrorCode.BAD_REQUEST, `${window.type} ${id} has already ended`, 'list the active ones with GET /api/v1/silences');
    this.runtime.pipeline.ingestEvent(
      { type: `${window.type}.end`, title: `${window.type} ended early: ${window.title}`, timestamp: now, resource: window.resource, attributes: { window: id }, source: 'api' },
      'api',
    );
    send(res, 200, { silence: silenceViews(this.runtime.pipeline.events.query({ limit: 100_000, where: (e) => e.id === id || e.attributes?.window === id }), now)[0] });
  }

  private async postEvent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.authorize(req);
    const body = (await this.readJson(req)) as Record<string, unknown>;
    const problems: string[] = [];
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, ErrorCode.BAD_REQUEST, 'body must be a JSON object');
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
    if (problems.length) throw new HttpError(400, ErrorCode.BAD_REQUEST, problems.join('; '));
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
    send(res, 201, { event: stored });
  }
}
