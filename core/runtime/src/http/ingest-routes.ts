/**
 * `coreServices.httpRouter`: components mount handlers under `/ingest/<name>/` of the API server
 * (see @sextant/plugin-api http-router.ts for the contract). The runtime owns one `IngestRoutes`
 * (the table of mounts); the API server installs it as one Fastify wildcard route, so mounts can
 * come and go while the server runs (Fastify's own routes are fixed once it listens) and exist
 * before it listens.
 *
 * Per request, in order: find the mount (longest name that prefixes the path; 404 otherwise),
 * `precheck` before any body byte is read, a `Content-Length` over the mount's limit is answered by
 * `tooLarge` at once, the body is read through a counter that stops at the limit (`tooLarge` again),
 * then `handle`.
 */
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, SextantError, formatError, type HttpMount, type HttpMountOptions, type HttpRouteRequest, type HttpRouteResponse, type HttpRouterService, type Logger } from '@sextant/plugin-api';

/** Largest body limit a mount may ask for. */
export const MAX_MOUNT_BODY_BYTES = 64 * 1024 * 1024;

const NAME_RE = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;
const PREFIX = '/ingest/';

interface Mount {
  readonly name: string;
  readonly options: HttpMountOptions;
}

/** Marks a body that went over its mount's limit while streaming. */
class MountBodyTooLarge extends Error {
  readonly statusCode = 413;
  readonly code = 'SEXTANT_ERR_LIMIT_EXCEEDED';
}

declare module 'fastify' {
  interface FastifyRequest {
    sextantMount?: Mount;
  }
}

export class IngestRoutes implements HttpRouterService {
  private readonly mounts = new Map<string, Mount>();

  /** `available`: whether an HTTP server will serve the mounts (the runtime's `server.enabled`). */
  constructor(private readonly isAvailable: () => boolean, private readonly logger: Logger) {}

  get available(): boolean {
    return this.isAvailable();
  }

  get size(): number {
    return this.mounts.size;
  }

  mount(name: string, options: HttpMountOptions): HttpMount {
    if (!this.available) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `${name}: this process serves no HTTP API to mount a receiver on`, {
        hint: 'give the component its own listen address (listen: 127.0.0.1:PORT), or turn the API on (server.enabled, or --port on an agent)',
      });
    }
    if (!NAME_RE.test(name) || name.split('/').some((part) => part === '.' || part === '..')) throw new SextantError(ErrorCode.CONFIG_INVALID, `cannot mount "${name}": use letters, digits, '.', '_', '-' and '/'`);
    if (this.mounts.has(name)) throw new SextantError(ErrorCode.CONFIG_INVALID, `${PREFIX}${name} is already mounted`, { hint: 'instance ids are unique; is the same component started twice?' });
    if (!(options.bodyLimit >= 0 && options.bodyLimit <= MAX_MOUNT_BODY_BYTES)) throw new SextantError(ErrorCode.CONFIG_INVALID, `${name}: bodyLimit must be 0..${MAX_MOUNT_BODY_BYTES} bytes`);
    const mount: Mount = { name, options };
    this.mounts.set(name, mount);
    return {
      path: `${PREFIX}${name}`,
      close: () => {
        if (this.mounts.get(name) === mount) this.mounts.delete(name);
      },
    };
  }

  /** The mount a URL path belongs to and the path below it. */
  private find(pathname: string): { mount: Mount; rest: string } | undefined {
    if (!pathname.startsWith(PREFIX)) return undefined;
    const tail = pathname.slice(PREFIX.length);
    let best: Mount | undefined;
    for (const m of this.mounts.values()) {
      if ((tail === m.name || tail.startsWith(`${m.name}/`)) && (!best || m.name.length > best.name.length)) best = m;
    }
    return best ? { mount: best, rest: tail.slice(best.name.length) || '/' } : undefined;
  }

  /** Installs the wildcard route on the API server (an encapsulated Fastify plugin). */
  install(app: FastifyInstance): void {
    void app.register(async (scope) => {
      // The body reaches the handler as bytes; the mount decides what it means.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_MOUNT_BODY_BYTES }, (_req, body, done) => done(null, body));
      scope.route({
        method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        url: `${PREFIX}*`,
        bodyLimit: MAX_MOUNT_BODY_BYTES,
        onRequest: async (request, reply) => {
          const split = splitUrl(request.url);
          const found = this.find(split.pathname);
          if (!found) {
            return reply.code(404).send({ error: { code: ErrorCode.BAD_REQUEST, message: `nothing is mounted at ${split.pathname}`, hint: 'receivers mount at /ingest/<instance id>/; see GET /api/v1/plugins' } });
          }
          request.sextantMount = found.mount;
          const head = headOf(request, found.rest, split.query);
          const early = found.mount.options.precheck?.(head);
          if (early) return send(reply, early);
          const length = Number(request.headers['content-length']);
          if (Number.isFinite(length) && length > found.mount.options.bodyLimit) return send(reply, tooLarge(found.mount, head), true);
          return undefined;
        },
        preParsing: async (request, _reply, payload) => {
          const limit = request.sextantMount!.options.bodyLimit;
          let size = 0;
          const counted = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              size += chunk.length;
              if (size > limit) cb(new MountBodyTooLarge(`body is larger than ${limit} bytes`));
              else cb(null, chunk);
            },
          });
          payload.on('error', (e) => counted.destroy(e));
          return payload.pipe(counted);
        },
        errorHandler: (error, request, reply) => {
          const mount = request.sextantMount;
          const split = splitUrl(request.url);
          if (mount && (error instanceof MountBodyTooLarge || (error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE')) {
            return send(reply, tooLarge(mount, headOf(request, this.find(split.pathname)?.rest ?? '/', split.query)), true);
          }
          this.logger.error(`${request.method} ${split.pathname} failed: ${formatError(error)}`);
          return reply.code(500).send({ error: { code: ErrorCode.INTERNAL, message: 'internal error; see the server log' } });
        },
        handler: async (request, reply) => {
          const mount = request.sextantMount!;
          const split = splitUrl(request.url);
          const rest = this.find(split.pathname)?.rest ?? '/';
          const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const routed: HttpRouteRequest = { ...headOf(request, rest, split.query), body };
          const answer = await mount.options.handle(routed);
          return send(reply, answer);
        },
      });
    });
  }
}

function splitUrl(url: string): { pathname: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { pathname: url, query: '' } : { pathname: url.slice(0, q), query: url.slice(q + 1) };
}

function headOf(request: FastifyRequest, path: string, query: string): Omit<HttpRouteRequest, 'body'> {
  return { method: request.method, path, query, headers: request.headers, remoteAddress: request.socket.remoteAddress ?? '' };
}

function tooLarge(mount: Mount, head: Omit<HttpRouteRequest, 'body'>): HttpRouteResponse {
  return (
    mount.options.tooLarge?.(head) ?? {
      status: 413,
      body: { error: { code: ErrorCode.LIMIT_EXCEEDED, message: `body is larger than the ${mount.options.bodyLimit} byte limit of ${PREFIX}${mount.name}` } },
    }
  );
}

/** Sends a handler's answer; `close` ends the connection after it (an unread body may follow). */
function send(reply: FastifyReply, answer: HttpRouteResponse, close = false): FastifyReply {
  reply.code(answer.status);
  if (answer.headers) reply.headers(answer.headers);
  if (close) reply.header('connection', 'close');
  const body = answer.body;
  if (body === undefined) return reply.send();
  if (typeof body === 'string' || Buffer.isBuffer(body)) return reply.send(body);
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
}
