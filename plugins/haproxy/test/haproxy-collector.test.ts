/**
 * The collector against a real HAProxy (Debian package `haproxy`) started by the test on
 * ephemeral loopback ports, in front of a small node:http application server the test runs and a
 * port where nothing listens (a server that is down); plus loopback stand-ins for replies a real
 * HAProxy never sends.
 */
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, findBinary, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { haproxyCollectorFactory, querySocket } from '../src/index.js';
import { startHaproxy, type HaproxyProcess } from './haproxy-process.js';

const INSTALL = 'apt-get install haproxy';
const RATE_METRICS = ['haproxy.sessions', 'haproxy.requests', 'haproxy.responses', 'haproxy.bytes.input', 'haproxy.bytes.output', 'haproxy.checks.failed'];

const harnesses: CollectorHarness[] = [];
const standIns: { server: Server; sockets: Set<Socket> }[] = [];

async function collector(config: Record<string, unknown>, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(haproxyCollectorFactory, { config: { timeout: '2s', ...config }, clock, intervalMs: 1000 });
  harnesses.push(h);
  return h;
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A loopback server that answers every connection with `reply`. */
async function standIn(reply: string): Promise<number> {
  const sockets = new Set<Socket>();
  const s = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => socket.end(reply));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  standIns.push({ server: s, sockets });
  return (s.address() as { port: number }).port;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const { server: s, sockets } of standIns.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => s.close(r));
  }
});

describe('haproxy collector against a real HAProxy', () => {
  let haproxy: HaproxyProcess | undefined;
  let app: HttpServer | undefined;
  const ports = { front: 0, stats: 0, app: 0, dead: 0, authStats: 0 };

  beforeAll(async () => {
    if (!findBinary('haproxy')) return; // each test skips (or fails under SEXTANT_REQUIRE_ALL=1) through needBinary
    app = createHttpServer((req, res) => {
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end('app\n');
    });
    await new Promise<void>((resolve) => app!.listen(0, '127.0.0.1', resolve));
    ports.app = (app.address() as { port: number }).port;
    for (const k of ['front', 'stats', 'dead', 'authStats'] as const) ports[k] = await freePort();
    haproxy = await startHaproxy(findBinary('haproxy')!, `
global
  stats socket {{socket}} mode 600 level admin
  maxconn 500
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend web
  bind 127.0.0.1:${ports.front}
  maxconn 200
  default_backend app
backend app
  balance roundrobin
  server a 127.0.0.1:${ports.app} check inter 100ms
  server b 127.0.0.1:${ports.dead} check inter 100ms
listen stats
  bind 127.0.0.1:${ports.stats}
  stats enable
  stats uri /stats
listen stats-auth
  bind 127.0.0.1:${ports.authStats}
  stats enable
  stats uri /stats
  stats auth ops:stats-pw-secret
`, ports.stats);
    await until('server a up and b down', async () => {
      const csv = await querySocket(haproxy!.socket, 'show stat', 2000);
      return /\napp,a,[^\n]*,UP,/.test(csv) && /\napp,b,[^\n]*,DOWN,/.test(csv);
    });
  });

  afterAll(async () => {
    await haproxy?.stop();
    if (app) await new Promise((r) => app!.close(r));
  });

  it('reports requests, 5xx ratio, sessions and server health per frontend, backend and server', async (ctx) => {
    needBinary(ctx, 'haproxy', INSTALL);
    const clock = new FakeClock(Date.now());
    const h = await collector({ url: `http://127.0.0.1:${ports.stats}/stats`, proxies: ['web', 'app'] }, clock);
    await h.collect();
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });

    const OK = 20, FAIL = 5;
    for (let i = 0; i < OK; i++) expect(await get(ports.front, '/ok')).toBe(200);
    for (let i = 0; i < FAIL; i++) expect(await get(ports.front, '/fail')).toBe(500);
    clock.advance(10_000);
    await h.collect();

    const sink = h.sink;
    const web = { 'haproxy.proxy_name': 'web', 'haproxy.service_name': 'FRONTEND' };
    const backend = { 'haproxy.proxy_name': 'app', 'haproxy.service_name': 'BACKEND' };
    const a = { 'haproxy.proxy_name': 'app', 'haproxy.service_name': 'a' };
    const b = { 'haproxy.proxy_name': 'app', 'haproxy.service_name': 'b' };
    expect(sink.last('haproxy.requests', web)).toBe((OK + FAIL) / 10);
    expect(sink.last('haproxy.responses', { ...web, 'http.response.status_class': '2xx' })).toBe(OK / 10);
    expect(sink.last('haproxy.responses', { ...web, 'http.response.status_class': '5xx' })).toBe(FAIL / 10);
    expect(sink.last('haproxy.responses.error_ratio', web)).toBe(FAIL / (OK + FAIL));
    expect(sink.last('haproxy.responses.error_ratio', backend)).toBe(FAIL / (OK + FAIL));
    expect(sink.last('haproxy.responses', { ...a, 'http.response.status_class': '5xx' })).toBe(FAIL / 10);
    expect(sink.last('haproxy.sessions', a)).toBe((OK + FAIL) / 10); // b is down: everything went to a
    expect(sink.last('haproxy.bytes.input', web)).toBeGreaterThan(0);
    expect(sink.last('haproxy.sessions.limit', web)).toBe(200);
    expect(sink.last('haproxy.sessions.utilization', web)).toBe(0);
    expect(sink.last('haproxy.up', web)).toBe(1);
    expect(sink.last('haproxy.up', a)).toBe(1);
    expect(sink.last('haproxy.up', b)).toBe(0);
    expect(sink.last('haproxy.up', backend)).toBe(1);
    expect(sink.last('haproxy.active', backend)).toBe(1);
    expect(sink.last('haproxy.checks.failed', b)).toBe(0); // a down server's failed checks are not counted again
    expect(sink.last('haproxy.timing', { ...backend, phase: 'total' })).toBeGreaterThanOrEqual(0);
    // the stats listener itself was filtered out with proxies
    expect(sink.of('haproxy.sessions.count', { 'haproxy.proxy_name': 'stats' })).toHaveLength(0);
    expect(sink.of('haproxy.up')[0]!.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'haproxy', 'server.address': '127.0.0.1', 'server.port': ports.stats });

    // an interval without traffic: no error ratio rather than a made-up 0
    clock.advance(10_000);
    await h.collect();
    expect(sink.of('haproxy.responses.error_ratio', web)).toHaveLength(1);
    for (const metric of RATE_METRICS) for (const x of sink.of(metric)) expect(x.value, metric).toBeGreaterThanOrEqual(0);
    expect(h.metrics.counters['values_rejected_total'] ?? 0).toBe(0);
    expect(h.metrics.counters['rows_rejected_total'] ?? 0).toBe(0);
  });

  it('reads the stats socket, with process-wide connections', async (ctx) => {
    needBinary(ctx, 'haproxy', INSTALL);
    // three idle client connections held open on the frontend
    const held = await Promise.all([1, 2, 3].map(() => new Promise<Socket>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: ports.front }, () => resolve(s));
      s.on('error', () => {});
    })));
    const h = await collector({ socket: haproxy!.socket });
    try {
      await until('haproxy counted the connections', async () => /\nCurrConns: ([3-9]|\d\d)/.test(`\n${await querySocket(haproxy!.socket, 'show info', 2000)}`));
      await h.collect();
    } finally {
      for (const s of held) s.destroy();
    }
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('haproxy.process.connections.max')).toBe(500);
    expect(h.sink.last('haproxy.process.connections')).toBeGreaterThanOrEqual(3);
    expect(h.sink.last('haproxy.sessions.count', { 'haproxy.proxy_name': 'web', 'haproxy.service_name': 'FRONTEND' })).toBeGreaterThanOrEqual(3);
    expect(h.sink.last('haproxy.process.busy')).toBeGreaterThanOrEqual(0);
    expect(h.sink.last('haproxy.up', { 'haproxy.proxy_name': 'app', 'haproxy.service_name': 'b' })).toBe(0);
    expect(h.sink.of('haproxy.up')[0]!.resource).toMatchObject({ 'haproxy.stats_socket': haproxy!.socket });
  });

  it('tells refused credentials from a wrong stats path, and works with the right ones', async (ctx) => {
    needBinary(ctx, 'haproxy', INSTALL);
    const none = await collector({ url: `http://127.0.0.1:${ports.authStats}/stats` });
    await none.collect();
    expect(none.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    const wrong = await collector({ url: `http://127.0.0.1:${ports.authStats}/stats`, username: 'ops', password: 'nope-pw' });
    await wrong.collect();
    expect(wrong.lastStatus()?.code).toBe('SEXTANT_ERR_AUTH_FAILED');
    expect(wrong.lastStatus()?.message).toContain('stats auth');
    const right = await collector({ url: `http://127.0.0.1:${ports.authStats}/stats`, username: 'ops', password: 'stats-pw-secret' });
    await right.collect();
    expect(right.lastStatus()?.state).toBe('ok');
    expect(right.sink.last('haproxy.up', { 'haproxy.proxy_name': 'web', 'haproxy.service_name': 'FRONTEND' })).toBe(1);

    // the frontend port is not a stats page: HAProxy proxies to the app, which answers 200 with text
    const notStats = await collector({ url: `http://127.0.0.1:${ports.front}/` });
    await notStats.collect();
    expect(notStats.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_PARSE_FAILED' });
    expect(notStats.metrics.counters['replies_rejected_total']).toBe(1);
    for (const h of [none, wrong, right]) expect(JSON.stringify([h.logger.lines, h.statuses])).not.toMatch(/stats-pw-secret|nope-pw/);
  });

  it('survives HAProxy stopping mid-run and never emits a negative rate after it comes back', async (ctx) => {
    needBinary(ctx, 'haproxy', INSTALL);
    const clock = new FakeClock(Date.now());
    const h = await collector({ url: `http://127.0.0.1:${ports.stats}/stats`, proxies: ['web'] }, clock);
    await h.collect();
    for (let i = 0; i < 30; i++) await get(ports.front, '/ok');
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('haproxy.requests', { 'haproxy.proxy_name': 'web' })).toBe(3);

    await haproxy!.stop({ keepDir: true });
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h.lastStatus()?.message).toContain('is HAProxy running with its stats page');
    expect(h.metrics.counters['connection_errors_total']).toBe(1);

    await haproxy!.start();
    for (let i = 0; i < 5; i++) await get(ports.front, '/ok');
    const before = h.sink.samples.length;
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    // counters started again below their last value: a reset, so no rate for that interval
    expect(h.sink.samples.slice(before).filter((x) => x.metric === 'haproxy.requests')).toHaveLength(0);
    for (let i = 0; i < 10; i++) await get(ports.front, '/ok');
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('haproxy.requests', { 'haproxy.proxy_name': 'web' })).toBe(1);
    for (const metric of RATE_METRICS) for (const x of h.sink.of(metric)) expect(x.value, metric).toBeGreaterThanOrEqual(0);
  });
});

describe('haproxy collector when things go wrong', () => {
  it('reports a coded error when nothing listens or the socket does not exist', async () => {
    const port = await freePort();
    const page = await collector({ url: `http://127.0.0.1:${port}/stats` });
    await page.collect();
    await page.collect();
    expect(page.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(page.metrics.counters['connection_errors_total']).toBe(2);
    expect(page.statuses.map((s) => s.state)).toEqual(['starting', 'error']);

    const socket = await collector({ socket: '/nonexistent/sextant-test/admin.sock' });
    await socket.collect();
    expect(socket.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(socket.lastStatus()?.message).toContain('stats socket');
  });

  it('counts malformed rows, values and statuses and keeps the rest', async () => {
    const header = '# pxname,svname,qcur,scur,slim,stot,status,type,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,';
    const body = [
      header,
      'web,FRONTEND,,3,100,10,OPEN,0,0,1,0,0,0,0,',
      'app,s1,-1,NaN,10,5,WEIRD,2,0,0,0,0,0,0,', // negative, non-numeric, unknown status
      'app,s2,0,1,10,5,UP,2,0,0,0,0,0,0,extra,fields,',
      'app,s3,0,1,10,5,UP,9,0,0,0,0,0,0,', // unknown row type
      '',
    ].join('\n');
    const port = await standIn(`HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    const h = await collector({ url: `http://127.0.0.1:${port}/stats` });
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('haproxy.sessions.count', { 'haproxy.proxy_name': 'web' })).toBe(3);
    expect(h.sink.last('haproxy.sessions.utilization', { 'haproxy.proxy_name': 'web' })).toBe(0.03);
    expect(h.sink.of('haproxy.sessions.count', { 'haproxy.service_name': 's1' })).toHaveLength(0);
    expect(h.sink.of('haproxy.up', { 'haproxy.service_name': 's1' })).toHaveLength(0);
    expect(h.metrics.counters['rows_rejected_total']).toBe(2);
    expect(h.metrics.counters['values_rejected_total']).toBe(3);
  });

  it('limits the rows reported with maxRows', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `app,s${i},0,1,10,5,UP,2,`);
    const body = ['# pxname,svname,qcur,scur,slim,stot,status,type,', ...rows, ''].join('\n');
    const port = await standIn(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    const h = await collector({ url: `http://127.0.0.1:${port}/stats`, maxRows: 4 });
    await h.collect();
    expect(h.sink.of('haproxy.up')).toHaveLength(4);
    expect(h.metrics.counters['series_limited_total']).toBe(6);
  });

  it('refuses an HTML page, a 404 and a page that never answers', async () => {
    const html = await standIn('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\nConnection: close\r\n\r\n<html>hi</html>');
    const missing = await standIn('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    const silentServer = createServer(() => {});
    const sockets = new Set<Socket>();
    silentServer.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    standIns.push({ server: silentServer, sockets });
    const silent = (silentServer.address() as { port: number }).port;
    const expectations: [number, string][] = [[html, 'SEXTANT_ERR_PARSE_FAILED'], [missing, 'SEXTANT_ERR_CONFIG_INVALID'], [silent, 'SEXTANT_ERR_COLLECT_FAILED']];
    for (const [port, code] of expectations) {
      const h = await collector({ url: `http://127.0.0.1:${port}/stats`, timeout: '300ms' });
      await h.collect();
      expect(h.lastStatus()?.code, String(port)).toBe(code);
      expect(h.metrics.counters['replies_rejected_total']).toBe(1);
      expect(h.sink.samples).toHaveLength(0);
    }
  });

  it('shuts down cleanly, twice', async () => {
    const h = await collector({ url: `http://127.0.0.1:${await freePort()}/stats` });
    await h.shutdown();
    await h.shutdown();
    await h.collect();
    expect(h.sink.samples).toHaveLength(0);
  });
});
