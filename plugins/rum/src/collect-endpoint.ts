/**
 * The collect endpoint: serves the snippet at stable versioned URLs and takes beacons, as one
 * `HttpMountOptions` (Fastify underneath) that runs either on a port of its own (`listen:
 * host:port`, loopback by default) or mounted on the API server at `/ingest/<instance id>/`
 * (`listen: api`, through `coreServices.httpRouter`).
 *
 *   GET  /rum/v1/sextant-rum.js    the snippet for a <script> tag (IIFE)
 *   GET  /rum/v1/sextant-rum.mjs   the snippet as an ES module
 *   POST /rum/v1/collect           beacons (see beacon-intake.ts for the checks)
 *   OPTIONS /rum/v1/collect        CORS preflight, for allowed origins only
 *
 * Origin, user agent and rate limit are checked before the body is read; a `Content-Length` over
 * `maxBodyBytes` is refused at once, a chunked body that grows past it is cut off (413, connection
 * closed). No cookies are read or set; the client address is never looked at.
 */
import { createHash } from 'node:crypto';
import { serveHttpMount, type HttpEndpoint } from '@sextant/integration-kit';
import type { HttpMount, HttpMountOptions, HttpRouteRequest, HttpRouteResponse, HttpRouterService } from '@sextant/plugin-api';
import type { BeaconIntake, IntakeOutcome } from './beacon-intake.js';
import { SNIPPET_PATHS, type SnippetAssets } from './snippet-assets.js';

export interface CollectEndpointOptions {
  /** `host:port` for `listen()`. */
  readonly listen: string;
  readonly maxBodyBytes: number;
  readonly now: () => number;
}

type Head = Omit<HttpRouteRequest, 'body'>;

function header(request: Head, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class CollectEndpoint {
  private endpoint: HttpEndpoint | undefined;
  private mounted: HttpMount | undefined;
  private readonly assets: { body: Buffer; etag: string; path: string }[];
  /** What the endpoint answers, wherever it is served. */
  readonly routes: HttpMountOptions;

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
    this.routes = {
      bodyLimit: options.maxBodyBytes,
      precheck: (request) => this.precheck(request),
      tooLarge: (request) => {
        const length = Number(header(request, 'content-length'));
        const what = Number.isFinite(length) && length > options.maxBodyBytes ? `body of ${length} bytes` : 'body';
        return this.answer(this.intake.refuse('too_large', 413, `${what} is over maxBodyBytes (${options.maxBodyBytes})`), header(request, 'origin'), true);
      },
      handle: (request) => this.answer(this.intake.ingest(request.body.toString('utf8'), this.options.now()), header(request, 'origin')),
    };
  }

  /** Where its own listener is bound (after `listen()`). */
  address(): { readonly host: string; readonly port: number } | undefined {
    return this.endpoint?.address;
  }

  /** Its path on the API server (after `mountOn()`). */
  mountPath(): string | undefined {
    return this.mounted?.path;
  }

  /** Serves on `options.listen`; a port that cannot be bound rejects with SEXTANT_ERR_CONFIG_INVALID. */
  async listen(): Promise<void> {
    this.endpoint = await serveHttpMount(this.routes, { listen: this.options.listen, label: 'rum.listen', labelListenErrors: true, requestTimeoutMs: 15_000 });
  }

  /** Mounts on the runtime's HTTP server at `/ingest/<name>/`. */
  mountOn(router: HttpRouterService, name: string): void {
    this.mounted = router.mount(name, this.routes);
  }

  async close(): Promise<void> {
    this.mounted?.close();
    this.mounted = undefined;
    const e = this.endpoint;
    this.endpoint = undefined;
    await e?.close();
  }

  /** Everything but an admitted beacon is answered here, before any body byte is read. */
  private precheck(request: Head): HttpRouteResponse | undefined {
    const path = request.path;
    const origin = header(request, 'origin');
    if (path === SNIPPET_PATHS.collect) {
      if (request.method === 'POST') {
        const early = this.intake.admit(origin, header(request, 'user-agent'), this.options.now());
        return early ? this.answer(early, origin, true) : undefined;
      }
      if (request.method === 'OPTIONS') return this.preflight(origin);
      return this.answer(this.intake.refuse('method', 405, 'use POST'), undefined, true);
    }
    const asset = this.assets.find((a) => a.path === path);
    if (asset && (request.method === 'GET' || request.method === 'HEAD')) {
      const headers = {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=3600',
        etag: asset.etag,
        'access-control-allow-origin': '*',
        'x-content-type-options': 'nosniff',
      };
      if (header(request, 'if-none-match') === asset.etag) return { status: 304, headers };
      return { status: 200, headers, body: request.method === 'HEAD' ? undefined : asset.body };
    }
    return this.answer({ status: 404, reason: 'not_found', message: 'not found' }, undefined, true);
  }

  private cors(origin: string | undefined): Record<string, string> {
    return origin !== undefined && this.intake.allows(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
  }

  private preflight(origin: string | undefined): HttpRouteResponse {
    if (!this.intake.allows(origin)) return this.answer(this.intake.refuse('origin', 403, 'origin not allowed'), origin, true);
    return { status: 204, headers: { ...this.cors(origin), 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '86400' } };
  }

  private answer(outcome: IntakeOutcome, origin: string | undefined, close = false): HttpRouteResponse {
    const headers: Record<string, string> = { ...this.cors(origin), ...(close ? { connection: 'close' } : {}) };
    if (outcome.retryAfterSeconds !== undefined) headers['retry-after'] = String(outcome.retryAfterSeconds);
    if (outcome.status === 204) return { status: 204, headers };
    return { status: outcome.status, headers, body: { error: outcome.message ?? outcome.reason } };
  }
}
