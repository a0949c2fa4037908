/**
 * Serves one `HttpMountOptions` (the same object a component gives `coreServices.httpRouter.mount`)
 * on a port of its own, with Fastify: for receivers configured with `listen:` (a separate port, or
 * a process that serves no API). Behaviour matches the runtime's mount: `precheck` before any body
 * byte is read, a `Content-Length` over `bodyLimit` answered by `tooLarge` at once (and the
 * connection closed), a body that grows past it while streaming cut off the same way, `handle`
 * with the raw body. Every path on the port goes to the handler (`path` is the whole URL path).
 *
 * Timeouts: headers 10 s, whole request 30 s (a slow client cannot hold a socket forever). A port
 * that cannot be bound rejects with `SEXTANT_ERR_CONFIG_INVALID` naming the address.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, SextantError, formatError, type HttpMountOptions, type HttpRouteRequest, type HttpRouteResponse, type Logger } from '@sextant/plugin-api';

export interface HttpEndpointOptions {
  /** `host:port` (`[::1]:7084` for IPv6; port 0 picks a free one). */
  readonly listen: string;
  /** The config key for error messages, e.g. `listen` or `rum.listen`. */
  readonly label: string;
  /** Whether the "cannot listen" error starts with the label (default false). */
  readonly labelListenErrors?: boolean;
  /** Where a handler's failure (a 500) is logged. */
  readonly logger?: Logger;
  readonly requestTimeoutMs?: number;
}

export interface HttpEndpoint {
  /** Where it is bound. */
  readonly address: { readonly host: string; readonly port: number };
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

/** Splits `host:port`; refuses a port over 65535 with a coded error. */
export function parseListenAddress(listen: string, label: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(colon + 1));
  if (!(colon > 0) || !Number.isInteger(port) || port < 0) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `${label}: "${listen}" is not host:port`, { hint: 'e.g. 127.0.0.1:7081 or [::1]:7081' });
  }
  if (port > 65535) throw new SextantError(ErrorCode.CONFIG_INVALID, `${label}: port ${port} is out of range`, { hint: 'use a port between 0 and 65535' });
  return { host, port };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export async function serveHttpMount(mount: HttpMountOptions, options: HttpEndpointOptions): Promise<HttpEndpoint> {
  // Fastify is loaded on first use: a process that imports this package without serving a port of
  // its own (every collector using MetricWriter) does not carry it (~19 MiB RSS measured on Node 20).
  const { default: Fastify } = await import('fastify');
  const { host, port } = parseListenAddress(options.listen, options.label);
  const app = Fastify({ logger: false, bodyLimit: Math.max(1, mount.bodyLimit), forceCloseConnections: true, requestTimeout: options.requestTimeoutMs ?? 30_000 });
  app.server.headersTimeout = 10_000;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const head = (request: FastifyRequest): Omit<HttpRouteRequest, 'body'> => {
    const url = request.url;
    const q = url.indexOf('?');
    return { method: request.method, path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: request.headers, remoteAddress: request.socket.remoteAddress ?? '' };
  };
  const tooLarge = (request: FastifyRequest): HttpRouteResponse =>
    mount.tooLarge?.(head(request)) ?? { status: 413, body: { error: { code: ErrorCode.LIMIT_EXCEEDED, message: `body is larger than ${mount.bodyLimit} bytes` } } };
  app.route({
    method: [...METHODS],
    url: '/*',
    onRequest: async (request, reply) => {
      const early = mount.precheck?.(head(request));
      if (early) return send(reply, early);
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length) && length > mount.bodyLimit) return send(reply, tooLarge(request), true);
      return undefined;
    },
    errorHandler: (error, request, reply) => {
      const code = (error as { code?: string }).code;
      if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, tooLarge(request), true);
      if (typeof (error as { statusCode?: number }).statusCode === 'number' && (error as { statusCode: number }).statusCode < 500) {
        return send(reply, { status: (error as { statusCode: number }).statusCode, body: { error: error.message } }, true);
      }
      options.logger?.error(`${options.label}: a request failed: ${formatError(error)}`);
      return send(reply, { status: 500, body: { error: 'internal error' } });
    },
    handler: async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      return send(reply, await mount.handle({ ...head(request), body }));
    },
  });
  try {
    await app.listen({ host, port });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    await app.close().catch(() => undefined);
    throw new SextantError(ErrorCode.CONFIG_INVALID, `${options.labelListenErrors ? `${options.label}: ` : ''}cannot listen on ${options.listen}: ${err.code ?? err.message}`, {
      hint: err.code === 'EADDRINUSE' ? 'another process uses this port; pick another listen port' : 'check the listen address',
    });
  }
  const a = app.server.address();
  const address = typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port };
  let closed = false;
  return {
    address,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** Sends a handler's answer; `close` ends the connection after it (an unread body may follow). */
function send(reply: FastifyReply, answer: HttpRouteResponse, close = false): FastifyReply {
  reply.code(answer.status);
  if (answer.headers) reply.headers(answer.headers);
  if (close) reply.header('connection', 'close');
  const body = answer.body;
  if (body === undefined) return reply.send();
  if (typeof body === 'string' || Buffer.isBuffer(body)) return reply.send(body);
  return reply.type('application/json').send(JSON.stringify(body));
}
