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
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
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
const RPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAUTHENTICATED: 16, UNIMPLEMENTED: 12, NOT_FOUND: 5 } as const;

type Encoding = 'protobuf' | 'json';

export class OtlpHttpReceiver {
  private constructor(private readonly server: Server, readonly address: string) {}

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
    const handle = (req: IncomingMessage, res: ServerResponse) => void handleRequest(req, res, options.ingest, maxBody).catch((e: unknown) => {
      options.logger?.warn(`OTLP/HTTP: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) respondStatus(res, 500, 'json', RPC.INVALID_ARGUMENT, 'internal error');
    });
    const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle) : createHttpServer(handle);
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    return new OtlpHttpReceiver(server, `${host.includes(':') ? `[${host}]` : host}:${bound.port}`);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and closes connections. Safe twice. */
  async shutdown(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, ingest: IngestServer, maxBody: number): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const encoding: Encoding = type === 'application/json' ? 'json' : 'protobuf';
  const path = (req.url ?? '').split('?')[0];
  if (path !== OTLP_HTTP_METRICS_PATH) {
    req.resume();
    return respondStatus(res, 404, encoding, RPC.NOT_FOUND, `this receiver takes metrics only, at POST ${OTLP_HTTP_METRICS_PATH}`);
  }
  if (req.method !== 'POST') {
    req.resume();
    res.setHeader('allow', 'POST');
    return respondStatus(res, 405, encoding, RPC.UNIMPLEMENTED, `use POST ${OTLP_HTTP_METRICS_PATH}`);
  }
  if (!ingest.acceptsOtlpAuthorization(req.headers.authorization)) {
    req.resume();
    return respondStatus(res, 401, encoding, RPC.UNAUTHENTICATED, 'missing or wrong ingest token (header "Authorization: Bearer <token>")');
  }
  if (type !== 'application/x-protobuf' && type !== 'application/json') {
    req.resume();
    return respondStatus(res, 415, 'json', RPC.INVALID_ARGUMENT, `unsupported content type ${JSON.stringify(type)}; use application/x-protobuf or application/json`);
  }
  const contentEncoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
    req.resume();
    return respondStatus(res, 415, encoding, RPC.INVALID_ARGUMENT, `unsupported content encoding ${JSON.stringify(contentEncoding)}; use gzip or none`);
  }

  let body = await readCapped(req, maxBody);
  if (body === undefined) return respondStatus(res, 413, encoding, RPC.RESOURCE_EXHAUSTED, `request body over ${maxBody} bytes; lower the exporter's batch size`);
  if (contentEncoding === 'gzip') {
    try {
      body = await new Promise<Buffer>((resolve, reject) => gunzip(body!, { maxOutputLength: maxBody }, (e, out) => (e ? reject(e) : resolve(out))));
    } catch (e) {
      const tooLarge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      return tooLarge
        ? respondStatus(res, 413, encoding, RPC.RESOURCE_EXHAUSTED, `decompressed body over ${maxBody} bytes; lower the exporter's batch size`)
        : respondStatus(res, 400, encoding, RPC.INVALID_ARGUMENT, `body is not valid gzip: ${(e as Error).message}`);
    }
  }

  let protobuf: Uint8Array = body;
  if (encoding === 'json') {
    try {
      protobuf = otlpJsonToProtobuf(JSON.parse(body.toString('utf8')));
    } catch (e) {
      const message = e instanceof OtlpJsonError ? e.message : `body is not JSON: ${(e as Error).message}`;
      return respondStatus(res, 400, encoding, RPC.INVALID_ARGUMENT, `malformed ExportMetricsServiceRequest: ${message}`);
    }
  }
  const tenant = ingest.tenantOfAuthorization(req.headers.authorization);
  const result = ingest.exportOtlp(`otlp-http:${req.socket.remoteAddress ?? 'unknown'}`, protobuf, tenant >= 0 ? tenant : undefined);
  if (!result.ok) {
    if (result.refusal === 'queue-full') {
      res.setHeader('retry-after', '1');
      return respondStatus(res, 429, encoding, RPC.RESOURCE_EXHAUSTED, result.message);
    }
    return respondStatus(res, result.refusal === 'oversized' ? 413 : 400, encoding, result.refusal === 'oversized' ? RPC.RESOURCE_EXHAUSTED : RPC.INVALID_ARGUMENT, result.message);
  }
  res.statusCode = 200;
  if (encoding === 'json') {
    res.setHeader('content-type', 'application/json');
    const partial = result.rejectedPoints > 0 || result.message ? { partialSuccess: { rejectedDataPoints: String(result.rejectedPoints), errorMessage: result.message } } : {};
    res.end(JSON.stringify(partial));
  } else {
    res.setHeader('content-type', 'application/x-protobuf');
    res.end(encodeOtlpExportResponse(result.rejectedPoints, result.message));
  }
}

/** Reads at most `max` bytes; undefined (and the rest discarded) when the body is larger. */
async function readCapped(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) over = true;
    if (!over) chunks.push(chunk);
  }
  return over ? undefined : Buffer.concat(chunks);
}

function respondStatus(res: ServerResponse, httpStatus: number, encoding: Encoding, code: number, message: string): void {
  res.statusCode = httpStatus;
  if (encoding === 'json') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ code, message }));
    return;
  }
  const w = new ProtoWriter(32 + message.length * 3);
  w.tag(1, WireType.VARINT);
  w.varint(code);
  w.tag(2, WireType.LEN);
  w.string(message);
  res.setHeader('content-type', 'application/x-protobuf');
  res.end(w.finish());
}
