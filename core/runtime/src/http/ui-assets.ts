/**
 * Serves the web UI (@sextant/ui's built files) from the API server: `/` and `/index.html` are the
 * page, `/assets/<name>` its hashed scripts and styles. Files are read once and kept in memory with
 * a gzip copy (the whole UI is a few hundred KB); hashed assets are cached by browsers for a year,
 * the page is revalidated every time so a new version shows at once.
 *
 * Only names inside the assets folder are served (no `..`, no sub-folders); anything else is 404.
 * When the UI has not been built, `/` answers 503 with the command that builds it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  json: 'application/json; charset=utf-8',
  woff2: 'font/woff2',
};

/** The page may load only its own files and talk only to this server. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface CachedFile {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly type: string;
}

/** A response ready to send: the route handler copies it onto Fastify's reply. */
export interface ServedFile {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: Buffer | string;
}

export class UiAssets {
  private readonly cache = new Map<string, CachedFile | null>();

  /** `dir`: the folder with index.html and assets/, or undefined when no UI is installed. */
  constructor(private readonly dir: string | undefined) {}

  /** GET / and /index.html; `acceptEncoding` is the request's Accept-Encoding header. */
  page(acceptEncoding: string | undefined): ServedFile {
    const file = this.load('index.html');
    if (!file) {
      const text = 'Sextant web UI is not built. Build it with `npm run build -w @sextant/ui` (or `npm run build`); the API is at /api/v1/.\n';
      return { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }, body: text };
    }
    return this.serve(acceptEncoding, file, 'no-cache');
  }

  /** GET /assets/<name> */
  asset(name: string, acceptEncoding: string | undefined): ServedFile {
    const file = /^[A-Za-z0-9._-]+$/.test(name) && !name.startsWith('.') ? this.load(`assets/${name}`) : undefined;
    if (!file) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }, body: 'not found\n' };
    return this.serve(acceptEncoding, file, 'public, max-age=31536000, immutable');
  }

  private load(relative: string): CachedFile | undefined {
    if (!this.dir) return undefined;
    const cached = this.cache.get(relative);
    if (cached !== undefined) return cached ?? undefined;
    let file: CachedFile | null = null;
    try {
      const body = readFileSync(join(this.dir, relative));
      const ext = relative.slice(relative.lastIndexOf('.') + 1);
      file = { body, gzip: gzipSync(body), type: CONTENT_TYPES[ext] ?? 'application/octet-stream' };
    } catch {
      // Missing (not built, or an unknown name): remembered only for hashed assets, so a later
      // build of index.html is picked up without a restart.
      if (relative === 'index.html') return undefined;
    }
    this.cache.set(relative, file);
    return file ?? undefined;
  }

  private serve(acceptEncoding: string | undefined, file: CachedFile, cacheControl: string): ServedFile {
    const gzip = /\bgzip\b/.test(acceptEncoding ?? '');
    const body = gzip ? file.gzip : file.body;
    return {
      status: 200,
      headers: {
        'content-type': file.type,
        'content-length': body.length,
        'cache-control': cacheControl,
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        ...SECURITY_HEADERS,
      },
      body,
    };
  }
}
