/**
 * OTLP/HTTP metrics receiver (`POST /v1/metrics`), next to the OTLP/gRPC service of
 * {@link IngestServer}, so browser and serverless SDKs (which cannot speak gRPC) can send.
 *
 * Both encodings of the specification are accepted — `application/x-protobuf` and
 * `application/json` (translated to the same protobuf request, see otlp-json.ts) — plain or
 * `Content-Encoding: gzip`. Requests are handed to the IngestServer (same tokens, queue, series
 * limits, counters), so an OTLP/HTTP sender is one more source (`otlp-http:<peer address>`).
 *
 * Answers follow OTLP/HTTP: 200 with an ExportMetricsServiceResponse (partial success when points
 * were refused) in the request's encoding; 400 malformed; 401 missing/wrong token; 404 other paths
 * (traces, logs); 405 other methods; 413 too large; 415 unsupported content type or encoding;
 * 429 queue full with `Retry-After` (retryable). Error bodies are a google.rpc.Status
 * (`code`, `message`) in the request's encoding.
 *
 * Served by Fastify on a port of its own (not mounted on the API: OTLP senders expect 4318):
 * path, method, token, content type and content encoding are checked in `onRequest`, before any
 * body byte is read, in that order; the body is read by Fastify's content-type parsers (raw bytes
 * for both encodings) under `bodyLimit` (a larger `Content-Length` or stream gets 413), then
 * gunzipped under the same limit, decoded and handed to the IngestServer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, SextantError, type Logger } from '@sextant/plugin-api';
import type { IngestServer } from './ingest-server.js';
import { OtlpJsonError, otlpJsonToProtobuf } from './otlp-json.js';
import { encodeOtlpExportResponse } from './otlp-metrics.js';
import { ProtoWriter, WireType } from './protobuf-wire.js';
import { isLoopbackHost, type ServerTlsOptions } from './transport-security.js';

/** The OTLP/HTTP metrics path. */
export const OTLP_HTTP_METRICS_PATH = '/v1/metrics';

export interface OtlpHttpReceiverOptions {
  /** `host:port` to listen on (OTLP/HTTP's usual port is 4318); port 0 picks a free one. */
  readonly address: string;
  /** The ingest server that takes the requests (and checks tokens). */
  readonly ingest: IngestServer;
  /** HTTPS. Without it the receiver only listens on a loopback address. */
  readonly tls?: ServerTlsOptions;
  /** Largest body accepted, compressed and decompressed, in bytes. Default 4 MiB. */
  readonly maxBodyBytes?: number;
  readonly logger?: Logger;
}

// google.rpc.Code values used in Status bodies
const RPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAUTHENTICATED: 16, UNIMPLEMENTED: 12, NOT_FOUND: 5, INTERNAL: 13 } as const;

type Encoding = 'protobuf' | 'json';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

function mediaType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The encoding answers use: the request's (JSON for JSON requests, protobuf otherwise). */
function encodingOf(request: FastifyRequest): Encoding {
  return mediaType(request.headers) === JSON_TYPE ? 'json' : 'protobuf';
}

export class OtlpHttpReceiver {
  private closed = false;
  private constructor(private readonly app: FastifyInstance, readonly address: string) {}

  static async start(options: OtlpHttpReceiverOptions): Promise<OtlpHttpReceiver> {
    const sep = options.address.lastIndexOf(':');
    const host = options.address.slice(0, sep).replace(/^\[|\]$/g, '');
    const port = Number(options.address.slice(sep + 1));
    if (sep < 0 || !Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `OTLP/HTTP address must be host:port (got ${JSON.stringify(options.address)})`, { hint: 'e.g. 127.0.0.1:4318' });
    }
    if (!options.tls && !isLoopbackHost(host)) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `OTLP/HTTP without TLS only listens on a loopback address (got ${host})`, { hint: 'give TLS options or listen on 127.0.0.1' });
    }
    const maxBody = options.maxBodyBytes ?? 4 << 20;
    // Fastify is loaded here, not with the package: an agent importing the protocol for its
    // IngestClient does not carry it (issue 20).
    const { default: Fastify } = await import('fastify');
    const app = Fastify({
      logger: false,
      bodyLimit: maxBody,
      forceCloseConnections: true,
      requestTimeout: 30_000,
      ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    }) as unknown as FastifyInstance;
    configure(app, options.ingest, maxBody, options.logger);
    try {
      await app.listen({ host, port });
    } catch (e) {
      await app.close().catch(() => undefined);
      const err = e as NodeJS.ErrnoException;
      throw new SextantError(ErrorCode.CONFIG_INVALID, `OTLP/HTTP cannot listen on ${options.address}: ${err.code ?? err.message}`, {
        hint: err.code === 'EADDRINUSE' ? 'another process uses this port; pick another address' : 'check the address',
        cause: e,
      });
    }
    const bound = app.server.address() as AddressInfo;
    return new OtlpHttpReceiver(app, `${host.includes(':') ? `[${host}]` : host}:${bound.port}`);
  }

  get port(): number {
    return (this.app.server.address() as AddressInfo).port;
  }

  /** Stops listening and closes connections. Safe twice. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.app.close();
  }
}

function configure(app: FastifyInstance, ingest: IngestServer, maxBody: number, logger: Logger | undefined): void {
  // both encodings arrive as raw bytes: JSON is translated by otlp-json.ts (its errors name the field)
  app.removeAllContentTypeParsers();
  const raw = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body);
  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, raw);
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, raw);

  // everything a request can be refused for without its body, in the order of the module comment
  app.addHook('onRequest', async (request, reply) => {
    const encoding = encodingOf(request);
    const q = request.url.indexOf('?');
    const path = q < 0 ? request.url : request.url.slice(0, q);
    if (path !== OTLP_HTTP_METRICS_PATH) return status(reply, 404, encoding, RPC.NOT_FOUND, `this receiver takes metrics only, at POST ${OTLP_HTTP_METRICS_PATH}`);
    if (request.method !== 'POST') return status(reply.header('allow', 'POST'), 405, encoding, RPC.UNIMPLEMENTED, `use POST ${OTLP_HTTP_METRICS_PATH}`);
    if (!ingest.acceptsOtlpAuthorization(request.headers.authorization)) {
      return status(reply, 401, encoding, RPC.UNAUTHENTICATED, 'missing or wrong ingest token (header "Authorization: Bearer <token>")');
    }
    const type = mediaType(request.headers);
    if (type !== PROTOBUF && type !== JSON_TYPE) {
      return status(reply, 415, 'json', RPC.INVALID_ARGUMENT, `unsupported content type ${JSON.stringify(type)}; use application/x-protobuf or application/json`);
    }
    const contentEncoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
      return status(reply, 415, encoding, RPC.INVALID_ARGUMENT, `unsupported content encoding ${JSON.stringify(contentEncoding)}; use gzip or none`);
    }
    return undefined;
  });

  // Fastify's own refusals (body over the limit, a Content-Length that lies, a client that aborts)
  app.setErrorHandler((error, request, reply) => {
    const encoding = encodingOf(request);
    const code = (error as { code?: string }).code;
    const httpStatus = (error as { statusCode?: number }).statusCode;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return status(reply.header('connection', 'close'), 413, encoding, RPC.RESOURCE_EXHAUSTED, `request body over ${maxBody} bytes; lower the exporter's batch size`);
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return status(reply, 415, 'json', RPC.INVALID_ARGUMENT, `unsupported content type; use ${PROTOBUF} or ${JSON_TYPE}`);
    if (typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus < 500) return status(reply.header('connection', 'close'), httpStatus, encoding, RPC.INVALID_ARGUMENT, (error as Error).message);
    logger?.warn(`OTLP/HTTP: ${error instanceof Error ? error.message : String(error)}`);
    return status(reply, 500, encoding, RPC.INTERNAL, 'internal error');
  });
  app.setNotFoundHandler((request, reply) => status(reply, 404, encodingOf(request), RPC.NOT_FOUND, `this receiver takes metrics only, at POST ${OTLP_HTTP_METRICS_PATH}`));

  app.post(OTLP_HTTP_METRICS_PATH, async (request, reply) => {
    const encoding = encodingOf(request);
    let body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (String(request.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
      try {
        body = await new Promise<Buffer>((resolve, reject) => gunzip(body, { maxOutputLength: maxBody }, (e, out) => (e ? reject(e) : resolve(out))));
      } catch (e) {
        const tooLarge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        return tooLarge
          ? status(reply, 413, encoding, RPC.RESOURCE_EXHAUSTED, `decompressed body over ${maxBody} bytes; lower the exporter's batch size`)
          : status(reply, 400, encoding, RPC.INVALID_ARGUMENT, `body is not valid gzip: ${(e as Error).message}`);
      }
    }
    let protobuf: Uint8Array = body;
    if (encoding === 'json') {
      try {
        protobuf = otlpJsonToProtobuf(JSON.parse(body.toString('utf8')));
      } catch (e) {
        const message = e instanceof OtlpJsonError ? e.message : `body is not JSON: ${(e as Error).message}`;
        return status(reply, 400, encoding, RPC.INVALID_ARGUMENT, `malformed ExportMetricsServiceRequest: ${message}`);
      }
    }
    const tenant = ingest.tenantOfAuthorization(request.headers.authorization);
    const result = ingest.exportOtlp(`otlp-http:${request.socket.remoteAddress ?? 'unknown'}`, protobuf, tenant >= 0 ? tenant : undefined);
    if (!result.ok) {
      if (result.refusal === 'queue-full') return status(reply.header('retry-after', '1'), 429, encoding, RPC.RESOURCE_EXHAUSTED, result.message);
      const oversized = result.refusal === 'oversized';
      return status(reply, oversized ? 413 : 400, encoding, oversized ? RPC.RESOURCE_EXHAUSTED : RPC.INVALID_ARGUMENT, result.message);
    }
    reply.code(200);
    if (encoding === 'json') {
      const partial = result.rejectedPoints > 0 || result.message ? { partialSuccess: { rejectedDataPoints: String(result.rejectedPoints), errorMessage: result.message } } : {};
      return reply.type(JSON_TYPE).send(JSON.stringify(partial));
    }
    return reply.type(PROTOBUF).send(toBuffer(encodeOtlpExportResponse(result.rejectedPoints, result.message)));
  });
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Answers with a google.rpc.Status body in `encoding`. */
function status(reply: FastifyReply, httpStatus: number, encoding: Encoding, code: number, message: string): FastifyReply {
  reply.code(httpStatus);
  if (encoding === 'json') return reply.type(JSON_TYPE).send(JSON.stringify({ code, message }));
  const w = new ProtoWriter(32 + message.length * 3);
  w.tag(1, WireType.VARINT);
  w.varint(code);
  w.tag(2, WireType.LEN);
  w.string(message);
  return reply.type(PROTOBUF).send(toBuffer(w.finish()));
}
