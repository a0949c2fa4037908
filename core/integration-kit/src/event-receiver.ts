/**
 * A small HTTP listener that turns what a tool POSTs into SextantEvents: the shared part of every
 * `events-*` receiver. It is push-only (no `collect()`): events are written and flushed as they
 * arrive.
 *
 * Request handling, in order — every refusal gets a JSON body `{"error": "..."}`, is counted in
 * `rejected_total{reason}` and stores nothing:
 *  1. method must be POST (405 `method`);
 *  2. a token must match: `Authorization: Bearer <token>`, `X-Sextant-Token: <token>`, HTTP Basic
 *     with the token as password (for tools that can only put credentials in a URL), or a
 *     tool-specific header/signature the receiver declares (401 `unauthorized`);
 *  3. the body must fit `maxBodyBytes`: a larger `Content-Length` is refused before reading, a body
 *     that grows past it while streaming is cut off (413 `too_large`);
 *  4. the tool's parser turns it into events or refuses it (400 `malformed` / `invalid`, with the
 *     parser's message); a payload the receiver knowingly skips (e.g. a Salt `test.ping`) is
 *     answered 202 with `ignored` and counted in `ignored_total`.
 * Accepted: 202 `{"accepted": <number of events>}`.
 *
 * Listener: `headersTimeout` 10 s, `requestTimeout` 30 s. A port that cannot be bound makes
 * `start()` reject with `SEXTANT_ERR_CONFIG_INVALID` (and sets the status to error); server errors
 * after start set the status to degraded. `shutdown()` closes open connections and is idempotent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { ErrorCode, SextantError, formatError, type Collector, type CollectorContext, type SextantEvent } from '@sextant/plugin-api';
import { resolveSecret } from './secret-source.js';

/** Fields every receiver's config has. */
export const receiverConfigShape = {
  /** `host:port` to listen on (`[::]:7084` for IPv6). Port 0 picks a free port (tests). */
  listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7081 or 0.0.0.0:7081'),
  /** Shared token the tool presents. Use ${env:NAME} / ${file:PATH}. */
  token: z.string().min(1).optional(),
  /** File holding the token (alternative to `token`). */
  tokenFile: z.string().min(1).optional(),
  /** Largest accepted body in bytes. */
  maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024),
};

/** Refinement every receiver schema applies: a token is required. */
export function hasToken(c: { token?: string; tokenFile?: string }): boolean {
  return c.token !== undefined || c.tokenFile !== undefined;
}
export const TOKEN_REQUIRED = { message: 'set token: ${env:NAME} or tokenFile: PATH', path: ['token'] };

export type ReceiverConfig = { listen: string; token?: string; tokenFile?: string; maxBodyBytes: number };

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A refusal with an HTTP status and the counter reason. */
export class ReceiverRefusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Lower-cased media type without parameters (`application/json`), or '' when absent. */
  readonly contentType: string;
  readonly body: Buffer;
}

export type ParsedEvents = { readonly events: readonly SextantEvent[] } | { readonly ignored: string };

export interface EventReceiverSpec {
  /** Tool name for messages: `Chef`, `Puppet`. */
  readonly tool: string;
  /** Extra headers whose value is the token as is (`x-data-collector-token`, `x-gitlab-token`). */
  readonly tokenHeaders?: readonly string[];
  /** Authenticates from the body when no token header matched (e.g. GitHub's HMAC signature). */
  readonly authenticateBody?: (request: ReceivedRequest, token: string) => boolean;
  /** Turns a request into events, or throws a {@link ReceiverRefusal}. */
  parse(request: ReceivedRequest): ParsedEvents;
}

export interface EventReceiver extends Collector {
  /** Where the listener is bound, once started. */
  address(): { readonly host: string; readonly port: number } | undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function sameToken(given: string | undefined, expected: Buffer): boolean {
  return given !== undefined && given.length > 0 && timingSafeEqual(digest(given), expected);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Token candidates the request presents in headers. */
function presentedTokens(headers: IncomingHttpHeaders, extra: readonly string[]): string[] {
  const out: string[] = [];
  const auth = headerValue(headers, 'authorization');
  if (auth?.startsWith('Bearer ')) out.push(auth.slice(7).trim());
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) out.push(decoded.slice(colon + 1));
  }
  for (const name of ['x-sextant-token', ...extra]) {
    const v = headerValue(headers, name.toLowerCase());
    if (v !== undefined) out.push(v.trim());
  }
  return out;
}

function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(colon + 1));
  if (port > 65535) throw new SextantError(ErrorCode.CONFIG_INVALID, `listen: port ${port} is out of range`, { hint: 'use a port between 0 and 65535' });
  return { host, port };
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, close = false): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

/** Creates the receiver component for a tool. */
export function createEventReceiver(ctx: CollectorContext<ReceiverConfig>, spec: EventReceiverSpec): EventReceiver {
  const config = ctx.config;
  const token = resolveSecret('token', config.token, config.tokenFile);
  const tokenDigest = digest(token);
  const { host, port } = parseListen(config.listen);
  const rejected = ctx.metrics.counter('rejected_total', 'Requests refused, by reason (method, unauthorized, too_large, malformed, invalid)');
  const accepted = ctx.metrics.counter('events_total', 'Events accepted and written');
  const ignored = ctx.metrics.counter('ignored_total', 'Well-formed payloads deliberately skipped (not a change event)');
  let server: Server | undefined;
  let bound: { host: string; port: number } | undefined;

  function refuse(res: ServerResponse, refusal: ReceiverRefusal, close = false): void {
    rejected.add(1, { reason: refusal.reason });
    ctx.logger.debug(`refused a ${spec.tool} request: ${refusal.message}`, { status: refusal.status, reason: refusal.reason });
    reply(res, refusal.status, { error: refusal.message }, close);
  }

  /** Reads the body up to the limit; resolves undefined after answering 413. */
  function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const tooLarge = () => {
        done = true;
        refuse(res, new ReceiverRefusal(413, 'too_large', `body is larger than maxBodyBytes (${config.maxBodyBytes} bytes)`), true);
        req.removeAllListeners('data');
        req.resume();
        res.on('finish', () => req.destroy());
        resolve(undefined);
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.byteLength;
        if (size > config.maxBodyBytes) return tooLarge();
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        resolve(Buffer.concat(chunks));
      });
      req.on('error', () => {
        if (done) return;
        done = true;
        resolve(undefined);
      });
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      return refuse(res, new ReceiverRefusal(405, 'method', `use POST (got ${req.method})`), true);
    }
    const headerAuth = presentedTokens(req.headers, spec.tokenHeaders ?? []).some((t) => sameToken(t, tokenDigest));
    if (!headerAuth && !spec.authenticateBody) {
      return refuse(res, new ReceiverRefusal(401, 'unauthorized', 'missing or wrong token: send Authorization: Bearer <token> or X-Sextant-Token'), true);
    }
    const length = Number(headerValue(req.headers, 'content-length'));
    if (Number.isFinite(length) && length > config.maxBodyBytes) {
      return refuse(res, new ReceiverRefusal(413, 'too_large', `body of ${length} bytes is larger than maxBodyBytes (${config.maxBodyBytes} bytes)`), true);
    }
    const body = await readBody(req, res);
    if (body === undefined) return;
    const request: ReceivedRequest = {
      path: req.url ?? '/',
      headers: req.headers,
      contentType: (headerValue(req.headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase(),
      body,
    };
    if (!headerAuth && !spec.authenticateBody!(request, token)) {
      return refuse(res, new ReceiverRefusal(401, 'unauthorized', 'missing or wrong token or signature'));
    }
    let parsed: ParsedEvents;
    try {
      parsed = spec.parse(request);
    } catch (e) {
      if (e instanceof ReceiverRefusal) return refuse(res, e);
      return refuse(res, new ReceiverRefusal(400, 'invalid', `cannot read the ${spec.tool} payload: ${formatError(e)}`));
    }
    if ('ignored' in parsed) {
      ignored.add(1);
      return reply(res, 202, { accepted: 0, ignored: parsed.ignored });
    }
    for (const event of parsed.events) ctx.sink.event(event);
    ctx.sink.flush();
    accepted.add(parsed.events.length);
    reply(res, 202, { accepted: parsed.events.length });
  }

  return {
    async start() {
      const s = createServer((req, res) => {
        handle(req, res).catch((e) => {
          ctx.logger.error(`${spec.tool} receiver failed on a request: ${formatError(e)}`);
          reply(res, 500, { error: 'internal error' });
        });
      });
      s.headersTimeout = 10_000;
      s.requestTimeout = 30_000;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      }).catch((e: NodeJS.ErrnoException) => {
        const err = new SextantError(ErrorCode.CONFIG_INVALID, `cannot listen on ${config.listen}: ${e.code ?? e.message}`, {
          hint: e.code === 'EADDRINUSE' ? 'another process uses this port; pick another listen port' : 'check the listen address',
        });
        ctx.status.set('error', formatError(err), err.code);
        throw err;
      });
      server = s;
      const address = s.address();
      bound = typeof address === 'object' && address ? { host: address.address, port: address.port } : { host, port };
      s.on('error', (e) => ctx.status.set('degraded', `${spec.tool} receiver: ${e.message}`));
      ctx.logger.info(`${spec.tool} receiver listening on http://${bound.host.includes(':') ? `[${bound.host}]` : bound.host}:${bound.port}/`, { host: bound.host, port: bound.port });
      ctx.status.set('ok');
    },
    address: () => bound,
    async shutdown() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

/** Parses a JSON body, refusing (400 `malformed`) with the parser's message. */
export function parseJsonBody(request: ReceivedRequest, tool: string): unknown {
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch (e) {
    throw new ReceiverRefusal(400, 'malformed', `malformed ${tool} JSON: ${(e as Error).message}`);
  }
}
