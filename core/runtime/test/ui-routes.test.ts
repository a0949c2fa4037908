/**
 * What the web UI needs from the API server besides the JSON API: the live stream
 * (GET /api/v1/stream), the list of silences (GET /api/v1/silences) and the UI's static files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '@sextant/runtime';
import { FakeClock, startTestRuntime, type TestRuntime } from '@sextant/testkit';

const TOKEN = 'a-test-token-of-sufficient-length';
let rt: TestRuntime | undefined;
let api: ApiServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await api?.close();
  api = undefined;
  await rt?.stop();
  rt = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(options: Partial<ConstructorParameters<typeof ApiServer>[1]> = {}, clock = new FakeClock()): Promise<string> {
  rt = await startTestRuntime({ plugins: [], clock, config: { server: { token: TOKEN } } });
  api = new ApiServer(rt.runtime, { host: '127.0.0.1', port: 0, token: TOKEN, logger: rt.runtime.logger, ...options });
  return (await api.listen()).url;
}

/** Reads server-sent events until `until` returns true for the list so far (or 10 s pass). */
async function readEvents(url: string, until: (events: { event: string; data: any }[]) => boolean, during?: () => void): Promise<{ event: string; data: any }[]> {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/stream`, { signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const events: { event: string; data: any }[] = [];
  let buffer = '';
  const deadline = Date.now() + 10_000;
  let triggered = false;
  try {
    while (Date.now() < deadline && !until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
      if (!triggered && events.some((e) => e.event === 'hello')) {
        triggered = true;
        during?.();
      }
    }
  } finally {
    controller.abort();
  }
  return events;
}

describe('GET /api/v1/stream', () => {
  it('pushes hello with the server clock, then anomalies, incidents, events and sample ticks as they happen', async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const url = await serve({ live: { tickMs: 50 } }, clock);
    const pipeline = rt!.runtime.pipeline;
    const id = rt!.runtime.registry.intern({ metric: 'db.latency', unit: 'ms', type: 'gauge', resource: { 'service.name': 'db' }, attributes: {} }, 'test');
    const events = await readEvents(
      url,
      (list) => ['anomaly', 'incident', 'event'].every((k) => list.some((e) => e.event === k)) && list.some((e) => e.event === 'tick' && e.data.samples > 0),
      () => {
        pipeline.ingest({ length: 1, series: Uint32Array.of(id), timestamps: Float64Array.of(clock.now()), values: Float64Array.of(12) } as never, 'test');
        pipeline.raiseAnomaly({ seriesId: id, detector: 'test', kind: 'spike', timestamp: clock.now(), value: 900, expected: 10, lower: 5, upper: 15, score: 0.99, severity: 'critical', message: 'db.latency spiked' }, 'test');
        pipeline.publishIncident({ change: 'opened', sequence: 1, incident: { id: 'inc-1', title: 'db slow', status: 'open', impact: 'user', severity: 'critical', openedAt: clock.now(), updatedAt: clock.now(), entities: [], anomalyIds: [], eventIds: [], causes: [], timeline: [], suppressed: [] }, notify: false });
        pipeline.ingestEvent({ type: 'deploy', title: 'db 2.0', timestamp: clock.now(), resource: { 'service.name': 'db' } }, 'test');
      },
    );
    expect(events[0]).toEqual({ event: 'hello', data: { now: Date.UTC(2026, 5, 1) } });
    expect(events.find((e) => e.event === 'anomaly')!.data).toMatchObject({ metric: 'db.latency', resource: { 'service.name': 'db' }, message: 'db.latency spiked' });
    expect(events.find((e) => e.event === 'incident')!.data).toMatchObject({ change: 'opened', notify: false, incident: { id: 'inc-1' } });
    expect(events.find((e) => e.event === 'event')!.data).toMatchObject({ type: 'deploy', title: 'db 2.0' });
    const tick = events.find((e) => e.event === 'tick' && e.data.samples > 0)!.data;
    expect(tick).toMatchObject({ now: Date.UTC(2026, 5, 1), series: 1, samples: 1 });
    // The client left: the stream lets go of the pipeline.
    await expect.poll(() => (api as unknown as { live: { clientCount: number } }).live.clientCount, { timeout: 10_000 }).toBe(0);
  });

  it('refuses clients beyond the limit with 503 and a hint, instead of holding unbounded connections', async () => {
    const url = await serve({ live: { maxClients: 1 } });
    const first = new AbortController();
    const open = await fetch(`${url}/api/v1/stream`, { signal: first.signal });
    expect(open.status).toBe(200);
    const second = await fetch(`${url}/api/v1/stream`);
    expect(second.status).toBe(503);
    expect(((await second.json()) as { error: { hint: string } }).error.hint).toMatch(/close other/);
    first.abort();
  });
});

describe('GET /api/v1/silences', () => {
  it('lists silences and maintenance windows created through the API, newest first, active until they end', async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const url = await serve({}, clock);
    const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    expect((await post('/api/v1/silences', { match: { 'service.name': 'db' }, duration: '1h', comment: 'db migration' })).status).toBe(201);
    clock.advance(60_000);
    expect((await post('/api/v1/maintenance', { match: { 'host.name': 'web-1' }, duration: '2h' })).status).toBe(201);
    const list = async () => ((await (await fetch(`${url}/api/v1/silences`)).json()) as { silences: { kind: string; comment: string; active: boolean; until: number; match: object }[] }).silences;
    const now = await list();
    expect(now.map((s) => [s.kind, s.active])).toEqual([['maintenance', true], ['silence', true]]);
    expect(now[1]).toMatchObject({ comment: 'db migration', match: { 'service.name': 'db' }, until: Date.UTC(2026, 5, 1) + 3_600_000 });
    clock.advance(3_600_000);
    expect((await list()).map((s) => [s.kind, s.active])).toEqual([['maintenance', true], ['silence', false]]);
  });
});

describe('GET /api/v1/autodiscovery', () => {
  it('lists each container with the plugins autodiscovery starts for it and why, and whether the instance runs', async () => {
    const { collectorsExtensionPoint, createCollectorFactory, createPlugin } = await import('@sextant/plugin-api');
    const { z } = await import('zod');
    const factory = createCollectorFactory({ type: 'shop', stability: 'alpha', description: 'shop', configSchema: z.object({ url: z.string().optional() }), defaults: {}, create: () => ({ collect() {}, shutdown() {} }) });
    const plugin = createPlugin({ pluginId: 'shop', deps: { c: collectorsExtensionPoint }, register: ({ c }) => c.addFactory(factory) });
    rt = await startTestRuntime({
      plugins: [{ plugin, packageName: '@test/plugin-shop', version: '1.0.0', manifest: { plugin: './plugin.js', protocol: [1], provides: ['collector'], discovery: [{ factory: 'shop', images: ['*/shop', 'shop'] }] } }],
      config: { autodiscovery: { enabled: false } } as never,
    });
    api = new ApiServer(rt.runtime, { host: '127.0.0.1', port: 0, logger: rt.runtime.logger, ui: false });
    const url = (await api.listen()).url;
    const container = (id: string, name: string, image: string) => ({ id: `container:${id}`, type: 'container', name, attributes: { 'container.id': id, 'container.name': name, 'sextant.container.image.ref': image, 'sextant.container.state': 'running' } });
    rt.runtime.pipeline.applyTopology({ upsertEntities: [container('a'.repeat(64), 'shop-1', 'acme/shop:2.1'), container('b'.repeat(64), 'cache', 'redis:7')] });
    const body = (await (await fetch(`${url}/api/v1/autodiscovery`)).json()) as { enabled: boolean; containers: { name: string; explain: string[]; matches: { pluginId: string; key: string; reason: string; instanceState?: string }[] }[] };
    expect(body.enabled).toBe(false);
    const shop = body.containers.find((c) => c.name === 'shop-1')!;
    expect(shop.matches).toHaveLength(1);
    expect(shop.matches[0]).toMatchObject({ pluginId: 'shop', key: `shop/c-${'a'.repeat(12)}` });
    expect(shop.matches[0].instanceState).toBeUndefined();
    expect(shop.matches[0].reason).toMatch(/shop/);
    const cache = body.containers.find((c) => c.name === 'cache')!;
    expect(cache.matches).toEqual([]);
    expect(cache.explain.join('\n')).toMatch(/no plugin matched/);
  });
});

describe('the web UI files', () => {
  function fakeBuild(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sextant-ui-assets-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("ui")');
    writeFileSync(join(dir, 'secret.txt'), 'not an asset');
    return dir;
  }

  it('serves the page (revalidated) and hashed assets (cached for a year, gzip when asked) with a same-origin content security policy', async () => {
    const url = await serve({ ui: fakeBuild() });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<div id="app">');
    const { request } = await import('node:http');
    const raw = await new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request(`${url}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(raw.status).toBe(200);
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers['cache-control']).toContain('immutable');
    expect(gunzipSync(raw.body).toString()).toBe('console.log("ui")');
  });

  it('answers 404 for anything outside the assets folder, however the path is spelled', async () => {
    const url = await serve({ ui: fakeBuild() });
    for (const path of ['/assets/..%2Fsecret.txt', '/assets/..%2F..%2Fpackage.json', '/assets/.hidden', '/assets/missing.js', '/secret.txt', '/assets/%2e%2e%2fsecret.txt']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(404);
    }
  });

  it('says how to build the UI when it is not built, and serves no UI when turned off', async () => {
    const missing = join(tmpdir(), `sextant-ui-missing-${process.pid}`);
    let url = await serve({ ui: missing });
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build -w @sextant/ui');
    await api!.close();
    await rt!.stop();
    url = await serve({ ui: false });
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/api/v1/silences`)).status).toBe(200);
  });
});
