/**
 * The collect endpoint over real HTTP on loopback, fed what the Internet will send it: oversized,
 * malformed, replayed, cross-origin and bot-flood payloads, out-of-range numbers. Each is refused
 * with the right 4xx and counted; nothing is stored from it; good beacons before and after are
 * counted exactly; the listener keeps serving.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { FakeClock, resolveConfig, startCollector, startTestRuntime, type CollectorHarness } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { plugin, rumCollectorFactory, type RumCollector } from '../src/index.js';
import { SNIPPET_PATHS } from '../src/snippet-assets.js';
// @ts-expect-error plain JS build script without types
import { buildSnippet } from '../build-snippet.mjs';

const SHOP = 'https://shop.example.com';
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One raw HTTP request (node:http, so headers such as Origin and User-Agent are exactly ours). */
function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? SNIPPET_PATHS.collect,
        headers: { ...(body && !options.chunked ? { 'content-length': String(body.byteLength) } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? resolve({ status: 413, headers: {}, body: 'connection closed by server' }) : reject(e)));
    if (body && options.chunked) {
      // streamed without Content-Length: the cap must be enforced while reading
      for (let i = 0; i < body.byteLength; i += 16_384) req.write(body.subarray(i, i + 16_384));
      req.end();
    } else req.end(body);
  });
}

let beaconCounter = 0;
function beacon(events: unknown[], overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: 1, sid: 'session0001', pid: `page${String(++beaconCounter).padStart(8, '0')}`, seq: 0, page: 'product', ev: events, ...overrides });
}
const BEACON_HEADERS = { origin: SHOP, 'user-agent': BROWSER_UA, 'content-type': 'text/plain;charset=UTF-8' };
const post = (port: number, body: string | Buffer, headers: Record<string, string> = BEACON_HEADERS) => send(port, { body, headers });

beforeAll(async () => {
  await buildSnippet();
});

describeCollectorConformance(rumCollectorFactory, {
  config: { listen: '127.0.0.1:0', allowedOrigins: [SHOP] },
  invalid: { config: { listen: '127.0.0.1:0', allowedOrigins: ['https://shop.example.com/path'] }, path: 'rum.allowedOrigins' },
});

describe('configuration', () => {
  it('needs the allowed origins and says what an origin looks like', async () => {
    await expect(resolveConfig(rumCollectorFactory, {})).rejects.toThrow(/rum.allowedOrigins/);
    await expect(resolveConfig(rumCollectorFactory, { allowedOrigins: ['shop.example.com'] })).rejects.toThrow(/scheme:\/\/host\[:port\]/);
    const c = await resolveConfig(rumCollectorFactory, { allowedOrigins: [SHOP], sessionWindow: '15m' });
    expect(c).toMatchObject({ listen: '127.0.0.1:7090', maxBodyBytes: 65536, sampleRate: 1, sessionWindow: 900_000, defaultCurrency: 'USD' });
  });
});

describe('topology', () => {
  it('reports the site as a service that calls its backends, so the correlator can join their incidents', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], config: { collectors: { rum: { listen: '127.0.0.1:0', allowedOrigins: [SHOP], serviceName: 'shop-web', calls: ['checkout-api', 'catalog-api'] } } } });
    try {
      expect(rt.problems).toEqual([]);
      expect(rt.runtime.topology.entity('service:shop-web')).toMatchObject({ type: 'service', name: 'shop-web' });
      expect(rt.runtime.topology.edges({ from: 'service:shop-web', type: 'calls' }).map((e) => e.to).sort()).toEqual(['service:catalog-api', 'service:checkout-api']);
      // and every RUM series belongs to that entity
      expect(rt.runtime.topology.entityOf({ 'service.name': 'shop-web', 'sextant.impact': 'business' })).toBe('service:shop-web');
    } finally {
      await rt.stop();
    }
  });
});

describe('collect endpoint', () => {
  let h: CollectorHarness | undefined;
  let clock: FakeClock;
  afterEach(async () => {
    await h?.shutdown();
    h = undefined;
  });
  async function start(config: Record<string, unknown> = {}): Promise<{ port: number; rum: RumCollector }> {
    clock = new FakeClock(Date.UTC(2026, 0, 1));
    h = await startCollector(rumCollectorFactory, { clock, config: { listen: '127.0.0.1:0', allowedOrigins: [SHOP], ...config } });
    const rum = h.collector as RumCollector;
    return { port: rum.address()!.port, rum };
  }
  /** One collection round after exactly one minute: per-minute figures equal counts. */
  async function minute(): Promise<void> {
    clock.advance(60_000);
    await h!.collect();
  }
  const last = (metric: string, attributes?: Record<string, string>) => h!.sink.of(metric, attributes).filter((s) => attributes || !('page' in s.attributes)).at(-1)?.value;

  it('serves the snippet at its versioned URLs, cacheable, without cookies', async () => {
    const { port } = await start();
    const js = await send(port, { method: 'GET', path: SNIPPET_PATHS.script });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toContain('sendBeacon');
    expect(js.headers['set-cookie']).toBeUndefined();
    expect((await send(port, { method: 'GET', path: SNIPPET_PATHS.script, headers: { 'if-none-match': String(js.headers.etag) } })).status).toBe(304);
    const mjs = await send(port, { method: 'GET', path: SNIPPET_PATHS.module });
    expect(mjs.status).toBe(200);
    expect(mjs.body).toMatch(/export\s*\{/);
    expect((await send(port, { method: 'GET', path: '/rum/v1/../../etc/passwd' })).status).toBe(404);
  });

  it('accepts a good beacon with CORS headers for its origin and turns it into series', async () => {
    const { port, rum } = await start();
    const ok = await post(port, beacon([{ t: 'view' }, { t: 'nav', dcl: 120, load: 340 }, { t: 'vital', n: 'LCP', v: 900 }, { t: 'ec', n: 'purchase', value: 42.5, currency: 'EUR', tid: 'T-1' }]));
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(SHOP);
    expect(ok.headers['set-cookie']).toBeUndefined();
    const pre = await send(port, { method: 'OPTIONS', headers: { origin: SHOP, 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-methods']).toBe('POST');
    await minute();
    expect(rum.intake.accepted).toBe(1);
    expect(last('rum.page_views', { page: 'product' })).toBe(1);
    // DDSketch's promise: within 1% of the true value
    expect(Math.abs(last('rum.load', { page: 'product', quantile: 'p50' })! / 340 - 1)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(last('rum.lcp', { quantile: 'p95' })! / 900 - 1)).toBeLessThanOrEqual(0.01);
    expect(last('rum.revenue.total', { currency: 'EUR' })).toBe(42.5);
    expect(last('rum.orders')).toBe(1);
  });

  it('refuses oversized, malformed, replayed, cross-origin and bot payloads with 4xx, counts them and keeps serving', async () => {
    const { port, rum } = await start({ maxBodyBytes: 4096 });
    const good = beacon([{ t: 'view' }, { t: 'ec', n: 'purchase', value: 10, currency: 'EUR', tid: 'T-good' }]);
    expect((await post(port, good)).status).toBe(204);

    const huge = beacon([{ t: 'view', pad: 'x'.repeat(10_000) }]);
    expect((await post(port, huge)).status).toBe(413);
    expect((await send(port, { body: huge, headers: BEACON_HEADERS, chunked: true })).status).toBe(413);
    expect((await post(port, '{"v":1,"sid":')).status).toBe(400);
    expect((await post(port, '\u0000\u0001binary')).status).toBe(400);
    expect((await post(port, '')).status).toBe(400);
    expect((await post(port, JSON.stringify([1, 2, 3]))).status).toBe(400);
    expect((await post(port, beacon([{ t: 'view' }], { v: 2 }))).status).toBe(400);
    expect((await post(port, beacon([{ t: 'view' }], { sid: 'x' }))).status).toBe(400);
    expect((await post(port, beacon([]))).status).toBe(400);
    expect((await post(port, beacon(Array(101).fill({ t: 'view' })))).status).toBe(400);
    expect((await post(port, beacon([{ t: 'view' }], { page: 'p'.repeat(201) }))).status).toBe(400);

    const replay = await post(port, good);
    expect(replay.status).toBe(409);

    const evil = await post(port, beacon([{ t: 'ec', n: 'purchase', value: 999, tid: 'T-evil' }]), { ...BEACON_HEADERS, origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    expect((await post(port, beacon([{ t: 'view' }]), { 'user-agent': BROWSER_UA })).status).toBe(403); // no Origin: a script
    expect((await send(port, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await send(port, { method: 'GET', path: SNIPPET_PATHS.collect })).status).toBe(405);

    for (let i = 0; i < 200; i++) {
      const r = await post(port, beacon([{ t: 'view' }, { t: 'ec', n: 'purchase', value: 1, tid: `T-bot-${i}` }]), { ...BEACON_HEADERS, 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
      expect(r.status).toBe(403);
    }
    expect((await post(port, beacon([{ t: 'view' }]), { origin: SHOP })).status).toBe(403); // no user agent at all

    expect(rum.intake.refused).toEqual({ too_large: 2, malformed: 3, invalid: 6, replayed: 1, origin: 3, method: 1, bot: 201 });
    expect(h!.metrics.counters.rejected_total).toBe(217);

    // still serving, and only the good beacons counted
    expect((await post(port, beacon([{ t: 'view' }, { t: 'ec', n: 'purchase', value: 5, currency: 'EUR', tid: 'T-after' }]))).status).toBe(204);
    await minute();
    expect(last('rum.orders.total')).toBe(2);
    expect(last('rum.revenue.total', { currency: 'EUR' })).toBe(15);
    expect(last('rum.page_views', { page: 'product' })).toBe(2);
  });

  it('drops out-of-range numbers inside a good beacon, counts them, and keeps the rest', async () => {
    const { port } = await start({ maxOrderValue: 10_000 });
    const body = beacon([
      { t: 'view' },
      { t: 'vital', n: 'LCP', v: 1e999 }, // JSON for Infinity
      { t: 'vital', n: 'INP', v: -5 },
      { t: 'vital', n: 'CLS', v: '0.1' },
      { t: 'vital', n: 'FID', v: 10 },
      { t: 'nav', dcl: 100, load: 1e12 },
      { t: 'ec', n: 'purchase', value: 1e9, tid: 'T-huge' },
      { t: 'ec', n: 'purchase', value: -1, tid: 'T-neg' },
      { t: 'ec', n: 'purchase', value: 20, currency: 'euro', tid: 'T-cur' },
      { t: 'ec', n: 'login' },
      { t: 'ec', n: 'purchase', value: 12.34, currency: 'EUR', tid: 'T-ok' },
      { t: 'vital', n: 'TTFB', v: 80 },
      null,
    ]);
    expect((await post(port, body)).status).toBe(204);
    await minute();
    expect(h!.metrics.counters.events_dropped_total).toBe(10);
    expect(last('rum.orders.total')).toBe(1);
    expect(last('rum.revenue.total', { currency: 'EUR' })).toBe(12.34);
    expect(h!.sink.of('rum.lcp')).toEqual([]);
    expect(h!.sink.of('rum.load')).toEqual([]);
    expect(Math.abs(last('rum.ttfb', { quantile: 'p50' })! / 80 - 1)).toBeLessThanOrEqual(0.01);
    expect(h!.sink.rejected).toBe(0); // nothing non-finite reached the sink
  });

  it('counts a purchase replayed under a new beacon number once (transaction_id)', async () => {
    const { port } = await start();
    const purchase = { t: 'ec', n: 'purchase', value: 30, currency: 'EUR', tid: 'T-42' };
    expect((await post(port, beacon([purchase], { pid: 'pageAAAA0001', seq: 0 }))).status).toBe(204);
    expect((await post(port, beacon([purchase], { pid: 'pageAAAA0001', seq: 1 }))).status).toBe(204);
    await minute();
    expect(last('rum.orders.total')).toBe(1);
    expect(last('rum.revenue.total', { currency: 'EUR' })).toBe(30);
    expect(h!.metrics.counters.events_skipped_total).toBe(1);
  });

  it('rate-limits per origin with 429 and Retry-After', async () => {
    const { port, rum } = await start({ rateLimit: { perSecond: 2, burst: 5 } });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await post(port, beacon([{ t: 'view' }]));
      statuses.push(r.status);
      if (r.status === 429) retryAfter = String(r.headers['retry-after']);
    }
    expect(statuses).toEqual([204, 204, 204, 204, 204, 429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    clock.advance(1000); // two tokens back
    expect((await post(port, beacon([{ t: 'view' }]))).status).toBe(204);
    expect(rum.intake.refused.rate_limited).toBe(3);
  });

  it('samples timings by session but never page views, errors or orders', async () => {
    const { port } = await start({ sampleRate: 0 });
    expect((await post(port, beacon([{ t: 'view' }, { t: 'err' }, { t: 'vital', n: 'LCP', v: 800 }, { t: 'ec', n: 'purchase', value: 9, tid: 'T-s' }]))).status).toBe(204);
    await minute();
    expect(h!.sink.of('rum.lcp')).toEqual([]);
    expect(last('rum.page_views', { page: 'product' })).toBe(1);
    expect(last('rum.errors', { page: 'product' })).toBe(1);
    expect(last('rum.revenue.total', { currency: 'USD' })).toBe(9);
  });

  it('keeps page cardinality bounded: ids collapse, pages past maxPages count as "other"', async () => {
    const { port } = await start({ maxPages: 2 });
    for (const page of ['/product/123?ref=mail', '/product/456', '/cart', '/a', '/b']) expect((await post(port, beacon([{ t: 'view' }], { page }))).status).toBe(204);
    await minute();
    const pages = new Set(h!.sink.of('rum.page_views').map((s) => s.attributes.page).filter(Boolean));
    expect([...pages].sort()).toEqual(['/cart', '/product/:id', 'other']);
    expect(last('rum.page_views', { page: '/product/:id' })).toBe(2);
    expect(last('rum.page_views', { page: 'other' })).toBe(2);
  });
});

describe('rum mounted on the API server (listen: api)', () => {
  it('serves the snippet, the CORS preflight and beacons under /ingest/<instance>/, with the same refusals and counters', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], api: true, config: { collectors: { rum: { listen: 'api', allowedOrigins: [SHOP] } } } });
    try {
      const port = Number(new URL(rt.url!).port);
      const collect = `/ingest/rum${SNIPPET_PATHS.collect}`;
      expect(rt.runtime.statuses().find((s) => s.id === 'rum')?.state).toBe('ok');
      const js = await send(port, { method: 'GET', path: `/ingest/rum${SNIPPET_PATHS.script}` });
      expect(js.status).toBe(200);
      expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
      const pre = await send(port, { method: 'OPTIONS', path: collect, headers: { origin: SHOP } });
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe(SHOP);
      const ok = await send(port, { path: collect, body: beacon([{ t: 'view' }]), headers: BEACON_HEADERS });
      expect(ok.status).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe(SHOP);
      expect((await send(port, { path: collect, body: 'x'.repeat(70_000), headers: BEACON_HEADERS })).status).toBe(413);
      expect((await send(port, { path: collect, body: beacon([{ t: 'view' }]), headers: { ...BEACON_HEADERS, origin: 'https://evil.example' } })).status).toBe(403);
      expect((await send(port, { method: 'GET', path: collect })).status).toBe(405);
      expect(rt.runtime.telemetry.sum('sextant_plugin_beacons_total')).toBe(1);
      expect(rt.runtime.telemetry.sum('sextant_plugin_rejected_total', { reason: 'too_large' })).toBe(1);
      expect(rt.runtime.telemetry.sum('sextant_plugin_rejected_total', { reason: 'origin' })).toBe(1);
    } finally {
      await rt.stop();
    }
  });

  it('fails start with a hint when listen is api but the process serves no API', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], config: { server: { enabled: false }, collectors: { rum: { listen: 'api', allowedOrigins: [SHOP] } } } });
    try {
      const status = rt.runtime.statuses().find((s) => s.id === 'rum');
      expect(status?.state).toBe('error');
      expect(status?.message).toMatch(/listen is "api", but this process serves no HTTP API/);
    } finally {
      await rt.stop();
    }
  });
});
