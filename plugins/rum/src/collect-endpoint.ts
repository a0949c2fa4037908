/**
 * The collect endpoint's HTTP listener (loopback by default): serves the snippet at stable
 * versioned URLs and takes beacons.
 *
 *   GET  /rum/v1/sextant-rum.js    the snippet for a <script> tag (IIFE)
 *   GET  /rum/v1/sextant-rum.mjs   the snippet as an ES module
 *   POST /rum/v1/collect           beacons (see beacon-intake.ts for the checks)
 *   OPTIONS /rum/v1/collect        CORS preflight, for allowed origins only
 *
 * No cookies are read or set; the client address is never looked at.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { BeaconIntake, IntakeOutcome } from './beacon-intake.js';
import { SNIPPET_PATHS, type SnippetAssets } from './snippet-assets.js';

export interface CollectEndpointOptions {
  readonly listen: string;
  readonly maxBodyBytes: number;
  readonly now: () => number;
}

function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const port = Number(listen.slice(colon + 1));
  if (port > 65535) throw new SextantError(ErrorCode.CONFIG_INVALID, `rum.listen: port ${port} is out of range`, { hint: 'use a port between 0 and 65535' });
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class CollectEndpoint {
  private server: Server | undefined;
  private bound: { host: string; port: number } | undefined;
  private readonly assets: { body: Buffer; etag: string; path: string }[];

  constructor(
    private readonly intake: BeaconIntake,
    snippet: SnippetAssets,
    private readonly options: CollectEndpointOptions,
  ) {
    const etag = (b: Buffer) => `"${createHash('sha256').update(b).digest('base64url').slice(0, 16)}"`;
    this.assets = [
      { path: SNIPPET_PATHS.script, body: snippet.script, etag: etag(snippet.script) },
      { path: SNIPPET_PATHS.module, body: snippet.module, etag: etag(snippet.module) },
    ];
  }

  address(): { readonly host: string; readonly port: number } | undefined {
    return this.bound;
  }

  async listen(): Promise<void> {
    const { host, port } = parseListen(this.options.listen);
    const s = createServer((req, res) => this.handle(req, res));
    s.headersTimeout = 10_000;
    s.requestTimeout = 15_000;
    s.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, () => {
        s.off('error', reject);
        resolve();
      });
    }).catch((e: NodeJS.ErrnoException) => {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `rum.listen: cannot listen on ${this.options.listen}: ${e.code ?? e.message}`, {
        hint: e.code === 'EADDRINUSE' ? 'another process uses this port; pick another listen port' : 'check the listen address',
      });
    });
    this.server = s;
    const a = s.address();
    this.bound = typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === SNIPPET_PATHS.collect) {
      if (req.method === 'POST') return this.collect(req, res);
      if (req.method === 'OPTIONS') return this.preflight(req, res);
      return this.reply(res, this.intake.refuse('method', 405, 'use POST'), undefined, true);
    }
    const asset = this.assets.find((a) => a.path === path);
    if (asset && (req.method === 'GET' || req.method === 'HEAD')) {
      const headers = {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=3600',
        etag: asset.etag,
        'access-control-allow-origin': '*',
        'x-content-type-options': 'nosniff',
      };
      if (header(req, 'if-none-match') === asset.etag) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': asset.body.byteLength });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    this.reply(res, { status: 404, reason: 'not_found', message: 'not found' }, undefined, true);
  }

  private cors(origin: string | undefined): Record<string, string> {
    return origin !== undefined && this.intake.allows(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
  }

  private preflight(req: IncomingMessage, res: ServerResponse): void {
    const origin = header(req, 'origin');
    if (!this.intake.allows(origin)) return this.reply(res, this.intake.refuse('origin', 403, 'origin not allowed'), origin, true);
    res.writeHead(204, { ...this.cors(origin), 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '86400' }).end();
  }

  private reply(res: ServerResponse, outcome: IntakeOutcome, origin: string | undefined, close = false): void {
    if (res.headersSent) return;
    const headers: Record<string, string> = { ...this.cors(origin), ...(close ? { connection: 'close' } : {}) };
    if (outcome.retryAfterSeconds !== undefined) headers['retry-after'] = String(outcome.retryAfterSeconds);
    if (outcome.status === 204) {
      res.writeHead(204, headers).end();
      return;
    }
    res.writeHead(outcome.status, { ...headers, 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: outcome.message ?? outcome.reason }));
  }

  private collect(req: IncomingMessage, res: ServerResponse): void {
    const origin = header(req, 'origin');
    const early = this.intake.admit(origin, header(req, 'user-agent'), this.options.now());
    if (early) {
      req.resume();
      return this.reply(res, early, origin, true);
    }
    const max = this.options.maxBodyBytes;
    const length = Number(header(req, 'content-length'));
    if (Number.isFinite(length) && length > max) {
      req.resume();
      return this.reply(res, this.intake.refuse('too_large', 413, `body of ${length} bytes is over maxBodyBytes (${max})`), origin, true);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > max) {
        done = true;
        chunks.length = 0;
        this.reply(res, this.intake.refuse('too_large', 413, `body is over maxBodyBytes (${max})`), origin, true);
        res.on('finish', () => req.destroy());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      this.reply(res, this.intake.ingest(body.toString('utf8'), this.options.now()), origin);
    });
    req.on('error', () => {
      done = true;
    });
  }
}
