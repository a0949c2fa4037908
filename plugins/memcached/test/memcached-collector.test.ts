/**
 * The collector against real memcached processes (Debian package `memcached`), each started by
 * the test on an ephemeral loopback port and stopped by pid; plus strict stand-ins on loopback for
 * the malformed replies a real memcached never sends.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeClock, findBinary, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { memcachedCollectorFactory } from '../src/index.js';
import { MemcachedTextClient, startMemcached, type MemcachedProcess } from './memcached-process.js';

const INSTALL = 'apt-get install memcached';
const RATE_METRICS = ['memcached.commands', 'memcached.operations', 'memcached.evictions', 'memcached.network', 'memcached.connections.total', 'memcached.cpu.usage'];

const harnesses: CollectorHarness[] = [];
const servers: MemcachedProcess[] = [];
const clients: MemcachedTextClient[] = [];
const standIns: { server: Server; sockets: Set<Socket> }[] = [];

async function server(args: string[] = []): Promise<MemcachedProcess> {
  const s = await startMemcached(findBinary('memcached')!, await freePort(), args);
  servers.push(s);
  return s;
}

async function client(port: number): Promise<MemcachedTextClient> {
  const c = await MemcachedTextClient.open(port);
  clients.push(c);
  return c;
}

async function collector(port: number, config: Record<string, unknown> = {}, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(memcachedCollectorFactory, { config: { endpoint: `127.0.0.1:${port}`, timeout: '2s', ...config }, clock, intervalMs: 1000 });
  harnesses.push(h);
  return h;
}

/** A loopback TCP server that answers every request with `reply(request)` (or nothing when undefined). */
async function standIn(reply: (request: string) => string | undefined): Promise<number> {
  const sockets = new Set<Socket>();
  const s = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (d: Buffer) => {
      const answer = reply(d.toString('latin1'));
      if (answer !== undefined) socket.write(answer);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  standIns.push({ server: s, sockets });
  return (s.address() as { port: number }).port;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const c of clients.splice(0)) c.close();
  for (const { server: s, sockets } of standIns.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => s.close(r));
  }
});

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

describe('memcached collector against a real memcached', () => {
  it('reports sets, gets, hits, misses and the hit ratio for known traffic', async (ctx) => {
    needBinary(ctx, 'memcached', INSTALL);
    const s = await server(['-m', '8']);
    const c = await client(s.port);
    const clock = new FakeClock(Date.now());
    const h = await collector(s.port, {}, clock);
    await h.collect();
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });

    const N = 40, M = 30, K = 10;
    for (let i = 0; i < N; i++) expect(await c.set(`k${i}`, `value-${i}`)).toBe('STORED\r\n');
    for (let i = 0; i < M; i++) expect(await c.get(`k${i}`)).toContain(`VALUE k${i}`);
    for (let i = 0; i < K; i++) expect(await c.get(`missing${i}`)).toBe('END\r\n');
    clock.advance(10_000);
    await h.collect();

    const sink = h.sink;
    expect(sink.last('memcached.commands', { command: 'set' })).toBe(N / 10);
    expect(sink.last('memcached.commands', { command: 'get' })).toBe((M + K) / 10);
    expect(sink.last('memcached.operations', { operation: 'get', type: 'hit' })).toBe(M / 10);
    expect(sink.last('memcached.operations', { operation: 'get', type: 'miss' })).toBe(K / 10);
    expect(sink.last('memcached.operation_hit_ratio', { operation: 'get' })).toBe(M / (M + K));
    expect(sink.last('memcached.current_items')).toBe(N);
    expect(sink.last('memcached.bytes')).toBeGreaterThan(0);
    expect(sink.last('memcached.memory.limit')).toBe(8 * 1024 * 1024);
    expect(sink.last('memcached.memory.utilization')).toBeGreaterThan(0);
    expect(sink.last('memcached.memory.utilization')).toBeLessThan(0.01);
    expect(sink.last('memcached.connections.current')).toBeGreaterThanOrEqual(2); // the test client and the collector
    expect(sink.last('memcached.evictions')).toBe(0);
    expect(sink.last('memcached.network', { direction: 'received' })).toBeGreaterThan(0);
    expect(sink.of('memcached.uptime')[0]!.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'memcached', 'server.address': '127.0.0.1', 'server.port': s.port });

    // an interval without gets: no hit ratio rather than a made-up one
    clock.advance(10_000);
    await h.collect();
    expect(sink.of('memcached.operation_hit_ratio')).toHaveLength(1);
    for (const metric of RATE_METRICS) for (const x of sink.of(metric)) expect(x.value, metric).toBeGreaterThanOrEqual(0);
    expect(h.metrics.counters['values_rejected_total'] ?? 0).toBe(0);
    expect(h.metrics.counters['lines_rejected_total'] ?? 0).toBe(0);
  });

  it('shows evictions when the cache is full, and refused connections at the connection limit', async (ctx) => {
    needBinary(ctx, 'memcached', INSTALL);
    const s = await server(['-m', '2', '-I', '512k', '-c', '32']);
    const c = await client(s.port);
    const clock = new FakeClock(Date.now());
    const h = await collector(s.port, {}, clock);
    await h.collect();

    const value = 'x'.repeat(20_000);
    for (let i = 0; i < 400; i++) await c.set(`big${i}`, value); // 8 MB into a 2 MB cache
    // more connections than -c allows: memcached accepts, answers an error and closes the extra ones
    for (let i = 0; i < 40; i++) await client(s.port);
    const deadline = Date.now() + 10_000;
    while (!/STAT rejected_connections [1-9]/.test(await c.send('stats', /END\r\n$/))) {
      if (Date.now() > deadline) throw new Error('memcached never refused a connection');
      await new Promise((r) => setTimeout(r, 50));
    }
    clock.advance(10_000);
    await h.collect();

    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('memcached.evictions')).toBeGreaterThan(0);
    expect(h.sink.last('memcached.evictions.unfetched')).toBeGreaterThan(0);
    expect(h.sink.last('memcached.memory.utilization')).toBeGreaterThan(0.5);
    expect(h.sink.last('memcached.connections.max')).toBe(32);
    expect(h.sink.last('memcached.connections.rejected')).toBeGreaterThan(0);
  });
});

describe('memcached collector when things go wrong', () => {
  it('reports a coded error while nothing listens, and the restart after the server comes back', async (ctx) => {
    needBinary(ctx, 'memcached', INSTALL);
    const port = await freePort();
    const clock = new FakeClock(Date.now());
    const h = await collector(port, {}, clock);
    await h.collect();
    const down = h.lastStatus()!;
    expect(down.state).toBe('error');
    expect(down.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(down.message).toContain(`is memcached running and listening on 127.0.0.1:${port}?`);
    expect(h.metrics.counters['connection_errors_total']).toBe(1);

    const s = await startMemcached(findBinary('memcached')!, port);
    servers.push(s);
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    const c = await client(port);
    for (let i = 0; i < 5; i++) await c.get('x');
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('memcached.operations', { operation: 'get', type: 'miss' })).toBe(0.5);

    // stopped mid-run: a coded error, no crash
    await s.stop();
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(h.metrics.counters['connection_errors_total']).toBe(2);

    // back with a new pid and empty counters: an event and no rate across the restart
    await s.start();
    const c2 = await client(port);
    for (let i = 0; i < 50; i++) await c2.get('y');
    const before = h.sink.samples.length;
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.samples.slice(before).filter((x) => x.metric === 'memcached.operations')).toHaveLength(0);
    expect(h.sink.events.map((e) => e.type)).toEqual(['memcached.restart']);
    expect(h.metrics.counters['server_restarts_total']).toBe(1);
    for (let i = 0; i < 20; i++) await c2.get('y');
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('memcached.operations', { operation: 'get', type: 'miss' })).toBe(2);
    expect(h.statuses.map((x) => x.state)).toEqual(['starting', 'error', 'ok', 'error', 'ok']);
  });

  it('counts malformed lines and values and keeps the rest of the reply', async () => {
    const port = await standIn(() => 'STAT pid 7\r\nSTAT uptime 10\r\nSTAT curr_items NaN\r\nSTAT bytes -5\r\nthis is not a stat\r\nSTAT curr_connections 3\r\nEND\r\n');
    const h = await collector(port);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('memcached.connections.current')).toBe(3);
    expect(h.sink.of('memcached.current_items')).toHaveLength(0);
    expect(h.sink.of('memcached.bytes')).toHaveLength(0);
    expect(h.metrics.counters['lines_rejected_total']).toBe(1);
    expect(h.metrics.counters['values_rejected_total']).toBe(2);
  });

  it('refuses what is not memcached: another protocol, an endless reply, an error line, silence', async () => {
    const http = await standIn(() => 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    const endless = await standIn(() => 'STAT x 1\r\n'.repeat(40_000));
    const refusing = await standIn(() => 'ERROR\r\n');
    const silent = await standIn(() => undefined);
    const expectations: [number, string][] = [[http, 'SEXTANT_ERR_PARSE_FAILED'], [endless, 'SEXTANT_ERR_PARSE_FAILED'], [refusing, 'SEXTANT_ERR_COLLECT_FAILED'], [silent, 'SEXTANT_ERR_COLLECT_FAILED']];
    for (const [port, code] of expectations) {
      const h = await collector(port, { timeout: '300ms' });
      await h.collect();
      expect(h.lastStatus()?.state, String(port)).toBe('error');
      expect(h.lastStatus()?.code, String(port)).toBe(code);
      expect(h.metrics.counters['replies_rejected_total']).toBe(1);
      expect(h.sink.samples).toHaveLength(0);
    }
  });

  it('shuts down cleanly, twice, with or without start', async () => {
    const h = await collector(await freePort());
    await h.shutdown();
    await h.shutdown();
    await h.collect();
    expect(h.sink.samples).toHaveLength(0);
  });
});
