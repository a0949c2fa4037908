/**
 * The collector against a real nginx (apt-get install nginx-light): real traffic with known
 * statuses, bodies and delays, asserted through what the collector emits. A FakeClock drives the
 * rate windows (exactly 10 s per round) so counts can be checked exactly.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appendFile, copyFile, readFile, rename, stat, truncate } from 'node:fs/promises';
import { FakeClock, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { DEFAULT_LOG_FORMAT, nginxCollectorFactory } from '../src/index.js';
import { createNginx, type NginxFixture } from './nginx-fixture.js';

const INSTALL = 'apt-get install nginx-light';
const fixtures: NginxFixture[] = [];
const harnesses: CollectorHarness[] = [];

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const f of fixtures.splice(0)) await f.dispose();
});
afterAll(async () => {
  for (const f of fixtures.splice(0)) await f.dispose();
});

async function nginx(ctx: { skip: (note?: string) => void }, port?: number, start = true): Promise<NginxFixture> {
  const bin = needBinary(ctx, 'nginx', INSTALL);
  const f = await createNginx(bin, DEFAULT_LOG_FORMAT, port);
  fixtures.push(f);
  if (start) await f.start();
  return f;
}

async function collector(config: Record<string, unknown>, clock = new FakeClock()) {
  const h = await startCollector(nginxCollectorFactory, { config, clock, hostResource: { 'host.name': 'test-host' } });
  harnesses.push(h);
  return { h, clock };
}

/** Sends `n` sequential GETs; returns the response body bytes received. */
async function drive(base: string, path: string | ((i: number) => string), n: number): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const res = await fetch(base + (typeof path === 'string' ? path : path(i)), { redirect: 'manual' });
    bytes += (await res.arrayBuffer()).byteLength;
  }
  return bytes;
}

/** Waits until `file` holds at least `n` lines (nginx logs after the response is sent). */
async function waitForLines(file: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.split('\n').length - 1 >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never reached ${n} lines`);
}

const last = (h: CollectorHarness, metric: string, attrs?: Record<string, string>) => h.sink.last(metric, attrs);

describe('nginx collector against a real nginx', () => {
  it('reports connections and request rates from stub_status, with the resource attributes', async (ctx) => {
    const ngx = await nginx(ctx);
    const { h, clock } = await collector({ url: `${ngx.base}/nginx_status` });
    await h.collect();
    expect(last(h, 'nginx.up')).toBe(1);
    expect(last(h, 'nginx.requests')).toBeUndefined(); // no rate from a single reading
    await drive(ngx.base, '/ok', 20);
    clock.advance(10_000);
    await h.collect();
    expect(last(h, 'nginx.requests')).toBeCloseTo(2.1, 9); // 20 requests + the status read itself, over 10 s
    expect(last(h, 'nginx.connections.dropped')).toBe(0);
    expect(last(h, 'nginx.connections.accepted')).toBeGreaterThanOrEqual(0);
    expect(last(h, 'nginx.connections_current', { state: 'active' })).toBeGreaterThanOrEqual(1);
    expect(last(h, 'nginx.connections_current', { state: 'writing' })).toBeGreaterThanOrEqual(1);
    const s = h.sink.of('nginx.up')[0];
    expect(s.resource).toEqual({ 'host.name': 'test-host', 'service.name': 'nginx', 'server.address': '127.0.0.1', 'server.port': ngx.port });
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('finds the status page on the common paths when only host and port are given', async (ctx) => {
    const ngx = await nginx(ctx);
    const { h } = await collector({ host: '127.0.0.1', port: ngx.port, paths: ['/status', '/stub_status', '/nginx_status'] });
    await h.collect();
    expect(last(h, 'nginx.up')).toBe(1);
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('turns real traffic into the right status-class rates, bytes, latency quantiles and top URLs', async (ctx) => {
    const ngx = await nginx(ctx);
    const { h, clock } = await collector({ accessLog: { path: ngx.logPath, topN: 3 }, serviceName: 'shop-edge' });
    let bytes = 0;
    bytes += await drive(ngx.base, '/ok', 30);
    bytes += await drive(ngx.base, (i) => `/users/${i + 100}?session=${i}`, 5);
    bytes += await drive(ngx.base, '/missing', 5);
    bytes += await drive(ngx.base, (i) => `/boom/${i}`, 3);
    bytes += await drive(ngx.base, '/moved', 2);
    bytes += await drive(ngx.base, '/slow/50', 10);
    bytes += await drive(ngx.base, '/slow/200', 10);
    await waitForLines(ngx.logPath, 65);
    clock.advance(10_000);
    await h.collect();

    const byClass = (c: string) => last(h, 'nginx.http.requests', { 'http.response.status_class': c });
    expect([byClass('1xx'), byClass('2xx'), byClass('3xx'), byClass('4xx'), byClass('5xx')]).toEqual([0, 5.5, 0.2, 0.5, 0.3]);
    expect(last(h, 'nginx.http.response.body.size')).toBeCloseTo(bytes / 10, 9);

    // 45 instant requests, 10 that sleep 50 ms upstream, 10 that sleep 200 ms. Sleeps give hard
    // lower bounds; upper bounds stay loose because a busy machine can only make requests slower.
    const q = (metric: string, quantile: string) => last(h, metric, { quantile })!;
    expect(q('nginx.http.request.duration', '0.5')).toBeLessThan(0.05); // rank 33 of 65: an instant one
    expect(q('nginx.http.request.duration', '0.9')).toBeGreaterThanOrEqual(0.2 * 0.99); // rank 59: a 200 ms one
    expect(q('nginx.http.request.duration', '0.99')).toBeGreaterThanOrEqual(q('nginx.http.request.duration', '0.9'));
    expect(q('nginx.http.request.duration', '0.99')).toBeLessThan(5);
    // only the 20 proxied requests have an upstream time
    expect(q('nginx.http.upstream.duration', '0.5')).toBeGreaterThanOrEqual(0.05 * 0.99); // rank 10 of 20
    expect(q('nginx.http.upstream.duration', '0.9')).toBeGreaterThanOrEqual(0.2 * 0.99); // rank 18 of 20
    expect(q('nginx.http.upstream.duration', '0.9')).toBeLessThan(5);

    const event = h.sink.events.find((e) => e.type === 'nginx.top_urls')!;
    expect(event.attributes).toMatchObject({
      'nginx.top_urls.requests': 65,
      'nginx.top_urls.slowest.1.url.template': '/slow/{id}',
      'nginx.top_urls.slowest.1.requests': 20,
      'nginx.top_urls.erroring.1.url.template': '/boom/{id}',
      'nginx.top_urls.erroring.1.errors': 3,
    });
    expect(event.resource['service.name']).toBe('shop-edge');
    expect(last(h, 'nginx.http.route.requests', { 'url.template': '/slow/{id}' })).toBe(2);
    expect(last(h, 'nginx.http.route.errors', { 'url.template': '/boom/{id}' })).toBeCloseTo(0.3, 9);
    expect(last(h, 'nginx.http.route.duration.p90', { 'url.template': '/slow/{id}' })).toBeGreaterThanOrEqual(0.19);
    // bounded cardinality: ids and query strings never reach url.template
    const templates = new Set(h.sink.descriptors.map((d) => d.attributes['url.template']).filter(Boolean));
    expect([...templates].every((t) => !/\d|\?/.test(String(t)))).toBe(true);
    expect(templates.size).toBeLessThanOrEqual(6);
    expect(h.metrics.counters.log_lines_total).toBe(65);
    expect(h.metrics.counters.log_lines_malformed_total ?? 0).toBe(0);

    // a quiet round: every class is reported as 0, no quantiles are made up
    const durationSamples = h.sink.of('nginx.http.request.duration').length;
    clock.advance(10_000);
    await h.collect();
    expect(byClass('2xx')).toBe(0);
    expect(h.sink.of('nginx.http.request.duration').length).toBe(durationSamples);
  });

  it('reports nginx down at start as an error with a hint, then ok once it comes up', async (ctx) => {
    const port = await freePort();
    const ngx = await nginx(ctx, port, false);
    const { h } = await collector({ url: `${ngx.base}/nginx_status` });
    await h.collect();
    const down = h.lastStatus()!;
    expect(down.state).toBe('error');
    expect(down.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(down.message).toMatch(/cannot reach nginx at .*ECONNREFUSED.*start nginx/);
    expect(last(h, 'nginx.up')).toBe(0);
    expect(h.metrics.counters.stub_status_errors_total).toBe(1);
    await ngx.start();
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(last(h, 'nginx.up')).toBe(1);
  });

  it('never reports a negative rate when nginx restarts and its counters reset', async (ctx) => {
    const ngx = await nginx(ctx);
    const { h, clock } = await collector({ url: `${ngx.base}/nginx_status` });
    await h.collect();
    await drive(ngx.base, '/ok', 10);
    clock.advance(10_000);
    await h.collect();
    expect(last(h, 'nginx.requests')).toBeCloseTo(1.1, 9);
    await ngx.stop();
    await ngx.start();
    await drive(ngx.base, '/ok', 3);
    clock.advance(10_000);
    await h.collect(); // counters went from ~12 back to 4: no rate this round
    await drive(ngx.base, '/ok', 5);
    clock.advance(10_000);
    await h.collect();
    for (const m of ['nginx.requests', 'nginx.connections.accepted', 'nginx.connections.handled', 'nginx.connections.dropped']) {
      for (const s of h.sink.of(m)) expect(s.value).toBeGreaterThanOrEqual(0);
    }
    expect(h.sink.of('nginx.requests').map((s) => s.value)).toEqual([1.1, 0.6].map((v) => expect.closeTo(v, 9)));
    expect(h.metrics.counters.counter_resets_total).toBe(1);
  });

  it('follows a rename rotation with nginx -s reopen without losing lines', async (ctx) => {
    const ngx = await nginx(ctx);
    const { h, clock } = await collector({ accessLog: { path: ngx.logPath } });
    await drive(ngx.base, '/ok', 5);
    await waitForLines(ngx.logPath, 5);
    clock.advance(10_000);
    await h.collect();
    await rename(ngx.logPath, `${ngx.logPath}.1`);
    await drive(ngx.base, '/missing', 7); // still written to the renamed file
    await waitForLines(`${ngx.logPath}.1`, 12);
    await ngx.reopen();
    for (let i = 0; i < 100 && !(await stat(ngx.logPath).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // the worker reopens after the master
    await drive(ngx.base, (i) => `/boom/${i}`, 4);
    await waitForLines(ngx.logPath, 4);
    clock.advance(10_000);
    await h.collect();
    const byClass = (c: string) => last(h, 'nginx.http.requests', { 'http.response.status_class': c });
    expect([byClass('2xx'), byClass('4xx'), byClass('5xx')]).toEqual([0, 0.7, 0.4]);
    expect(h.metrics.counters.log_rotations_total).toBe(1);
    expect(h.metrics.counters.log_lines_total).toBe(16);
  });

  it('follows a copytruncate rotation', async (ctx) => {
    const ngx = await nginx(ctx);
    const { h, clock } = await collector({ accessLog: { path: ngx.logPath } });
    await drive(ngx.base, '/ok', 40);
    await waitForLines(ngx.logPath, 40);
    clock.advance(10_000);
    await h.collect();
    await copyFile(ngx.logPath, `${ngx.logPath}.1`);
    await truncate(ngx.logPath, 0);
    await drive(ngx.base, '/missing', 6);
    await waitForLines(ngx.logPath, 6);
    clock.advance(10_000);
    await h.collect();
    const byClass = (c: string) => last(h, 'nginx.http.requests', { 'http.response.status_class': c });
    expect([byClass('2xx'), byClass('4xx')]).toEqual([0, 0.6]);
    expect(h.metrics.counters.log_rotations_total).toBe(1);
  });

  it('counts malformed log lines without crashing, and says so when nothing matches', async (ctx) => {
    const ngx = await nginx(ctx);
    const { h, clock } = await collector({ accessLog: { path: ngx.logPath } });
    await drive(ngx.base, '/ok', 10);
    await waitForLines(ngx.logPath, 10);
    await appendFile(ngx.logPath, 'garbage\n\u0000\u0001\u0002\n127.0.0.1 - - [x] "GET / HTTP/1.1" 9999 1 "-" "-" 0.1 -\n');
    clock.advance(10_000);
    await h.collect();
    expect(last(h, 'nginx.http.requests', { 'http.response.status_class': '2xx' })).toBe(1);
    expect(h.metrics.counters.log_lines_malformed_total).toBe(3);
    expect(h.lastStatus()?.state).toBe('ok');
    await appendFile(ngx.logPath, 'not an access log line\n'.repeat(20));
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'degraded', code: 'SEXTANT_ERR_PARSE_FAILED' });
    expect(h.lastStatus()?.message).toMatch(/accessLog.format/);
    expect(h.metrics.counters.log_lines_malformed_total).toBe(23);
  });

  it('reports a malformed, a missing and a forbidden status page as errors with a fix, without crashing', async (ctx) => {
    const ngx = await nginx(ctx);
    const garbage = await collector({ url: `${ngx.base}/garbage_status` });
    await garbage.h.collect();
    expect(garbage.h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_PARSE_FAILED' });
    expect(garbage.h.lastStatus()?.message).toMatch(/did not return a stub_status page: expected a non-negative integer.*stub_status;/);
    expect(last(garbage.h, 'nginx.up')).toBe(0);
    const missing = await collector({ url: `${ngx.base}/missing` });
    await missing.h.collect();
    expect(missing.h.lastStatus()?.message).toMatch(/answered HTTP 404.*location = \/nginx_status \{ stub_status;/);
    expect(missing.h.metrics.counters.stub_status_errors_total).toBe(1);
    const forbidden = await collector({ url: `${ngx.base}/private_status` });
    await forbidden.h.collect();
    expect(forbidden.h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(forbidden.h.lastStatus()?.message).toMatch(/HTTP 403.*allow the agent/);
  });
});
