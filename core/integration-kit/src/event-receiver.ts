/**
 * Turns what a tool POSTs into SextantEvents: the shared part of every `events-*` receiver. It is
 * push-only (no `collect()`): events are written and flushed as they arrive.
 *
 * Where it listens: with `listen: host:port`, on a port of its own; without, it mounts on the
 * runtime's HTTP server (`coreServices.httpRouter`) at `/ingest/<instance id>/` — the API's port,
 * default 127.0.0.1:7070, so `http://127.0.0.1:7070/ingest/events-chef/`. A process that serves no
 * API (an agent without `--port`, `server.enabled: false`) has nothing to mount on: `start()` then
 * fails with `SEXTANT_ERR_CONFIG_INVALID` asking for `listen`. Both ways run on Fastify.
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
 * Own listener: headers timeout 10 s, request timeout 30 s. A port that cannot be bound makes
 * `start()` reject with `SEXTANT_ERR_CONFIG_INVALID` (and sets the status to error).
 * `shutdown()` closes the listener or removes the mount, and is idempotent.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { secretsEqual } from '@sextant/plugin-kit';
import {
  ErrorCode,
  SextantError,
  formatError,
  type Collector,
  type CollectorContext,
  type HttpMount,
  type HttpMountOptions,
  type HttpRouteResponse,
  type HttpRouterService,
  type SextantEvent,
} from '@sextant/plugin-api';
import { parseListenAddress, serveHttpMount, type HttpEndpoint } from './http-endpoint.js';
import { resolveSecret } from './secret-source.js';

/** Fields every receiver's config has. */
export const receiverConfigShape = {
  /**
   * `host:port` of a port of its own (`[::]:7084` for IPv6; port 0 picks a free one). Without it the
   * receiver mounts at `/ingest/<instance id>/` of the API server.
   */
  listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7081 or 0.0.0.0:7081').optional(),
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

export type ReceiverConfig = { listen?: string; token?: string; tokenFile?: string; maxBodyBytes: number };

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
  /** Where its own listener is bound, once started with `listen`. */
  address(): { readonly host: string; readonly port: number } | undefined;
  /** Its path on the API server (`/ingest/<instance id>`), once started without `listen`. */
  mountPath(): string | undefined;
}

function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Token candidates the request presents in headers. */
function presentedTokens(headers: Readonly<Record<string, string | string[] | undefined>>, extra: readonly string[]): string[] {
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

/** Creates the receiver component for a tool; `http` is the runtime's router (mounts when no `listen`). */
export function createEventReceiver(ctx: CollectorContext<ReceiverConfig>, spec: EventReceiverSpec, http?: HttpRouterService): EventReceiver {
  const config = ctx.config;
  const token = resolveSecret('token', config.token, config.tokenFile);
  if (config.listen !== undefined) parseListenAddress(config.listen, 'listen');
  const rejected = ctx.metrics.counter('rejected_total', 'Requests refused, by reason (method, unauthorized, too_large, malformed, invalid)');
  const accepted = ctx.metrics.counter('events_total', 'Events accepted and written');
  const ignored = ctx.metrics.counter('ignored_total', 'Well-formed payloads deliberately skipped (not a change event)');
  let endpoint: HttpEndpoint | undefined;
  let mounted: HttpMount | undefined;
  const headerAuthorized = (headers: Readonly<Record<string, string | string[] | undefined>>) => presentedTokens(headers, spec.tokenHeaders ?? []).some((t) => secretsEqual(t, token));

  function refuse(refusal: ReceiverRefusal, close = false): HttpRouteResponse {
    rejected.add(1, { reason: refusal.reason });
    ctx.logger.debug(`refused a ${spec.tool} request: ${refusal.message}`, { status: refusal.status, reason: refusal.reason });
    return { status: refusal.status, headers: close ? { connection: 'close' } : {}, body: { error: refusal.message } };
  }

  const mount: HttpMountOptions = {
    bodyLimit: config.maxBodyBytes,
    precheck(request) {
      if (request.method !== 'POST') return refuse(new ReceiverRefusal(405, 'method', `use POST (got ${request.method})`), true);
      if (!headerAuthorized(request.headers) && !spec.authenticateBody) return refuse(new ReceiverRefusal(401, 'unauthorized', 'missing or wrong token: send Authorization: Bearer <token> or X-Sextant-Token'), true);
      return undefined;
    },
    tooLarge(request) {
      const length = Number(headerValue(request.headers, 'content-length'));
      const size = Number.isFinite(length) && length > config.maxBodyBytes ? `body of ${length} bytes` : 'body';
      return refuse(new ReceiverRefusal(413, 'too_large', `${size} is larger than maxBodyBytes (${config.maxBodyBytes} bytes)`), true);
    },
    handle(routed) {
      const request: ReceivedRequest = {
        path: routed.query ? `${routed.path}?${routed.query}` : routed.path,
        headers: routed.headers as IncomingHttpHeaders,
        contentType: (headerValue(routed.headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase(),
        body: routed.body,
      };
      if (!headerAuthorized(routed.headers) && !spec.authenticateBody!(request, token)) {
        return refuse(new ReceiverRefusal(401, 'unauthorized', 'missing or wrong token or signature'));
      }
      let parsed: ParsedEvents;
      try {
        parsed = spec.parse(request);
      } catch (e) {
        if (e instanceof ReceiverRefusal) return refuse(e);
        return refuse(new ReceiverRefusal(400, 'invalid', `cannot read the ${spec.tool} payload: ${formatError(e)}`));
      }
      if ('ignored' in parsed) {
        ignored.add(1);
        return { status: 202, body: { accepted: 0, ignored: parsed.ignored } };
      }
      for (const event of parsed.events) ctx.sink.event(event);
      ctx.sink.flush();
      accepted.add(parsed.events.length);
      return { status: 202, body: { accepted: parsed.events.length } };
    },
  };

  function failStart(err: SextantError): never {
    ctx.status.set('error', formatError(err), err.code);
    throw err;
  }

  return {
    async start() {
      if (config.listen !== undefined) {
        endpoint = await serveHttpMount(mount, { listen: config.listen, label: 'listen', logger: ctx.logger }).catch((e: unknown) =>
          failStart(e instanceof SextantError ? e : new SextantError(ErrorCode.CONFIG_INVALID, formatError(e))),
        );
        const { host, port } = endpoint.address;
        ctx.logger.info(`${spec.tool} receiver listening on http://${host.includes(':') ? `[${host}]` : host}:${port}/`, { host, port });
      } else {
        if (!http?.available) {
          failStart(
            new SextantError(ErrorCode.CONFIG_INVALID, `${ctx.instanceId}: no listen address, and this process serves no HTTP API to mount the ${spec.tool} receiver on`, {
              hint: `set ${ctx.instanceId}.listen (e.g. 127.0.0.1:7081); an agent serves no API unless started with --port`,
            }),
          );
        }
        try {
          mounted = http.mount(ctx.instanceId, mount);
        } catch (e) {
          failStart(e instanceof SextantError ? e : new SextantError(ErrorCode.CONFIG_INVALID, formatError(e)));
        }
        ctx.logger.info(`${spec.tool} receiver mounted at ${mounted!.path}/ on the API server`, { path: mounted!.path });
      }
      ctx.status.set('ok');
    },
    address: () => endpoint?.address,
    mountPath: () => mounted?.path,
    async shutdown() {
      mounted?.close();
      mounted = undefined;
      const e = endpoint;
      endpoint = undefined;
      await e?.close();
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
