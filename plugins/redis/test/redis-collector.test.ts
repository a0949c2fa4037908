/**
 * The collector against real redis-server processes (Debian package `redis-server`), each started
 * by the test on an ephemeral loopback port and stopped by pid.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { FakeClock, findBinary, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { COLLECTOR_CLIENT_NAME, redisCollectorFactory } from '../src/index.js';
import { startRedisServer, type RedisServerProcess } from './redis-server-process.js';

const INSTALL = 'apt-get install redis-server';
const RATE_METRICS = ['redis.commands.processed', 'redis.keyspace.hits', 'redis.keyspace.misses', 'redis.keys.expired', 'redis.keys.evicted', 'redis.net.input', 'redis.net.output', 'redis.connections.received', 'redis.cpu.time'];

type TestClient = ReturnType<typeof createClient>;

async function connect(port: number, options: { database?: number; password?: string; username?: string } = {}): Promise<TestClient> {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, ...options });
  client.on('error', () => {});
  await client.connect();
  return client as TestClient;
}

/** Polls `check` until it returns true (bounded), for server-side state that settles asynchronously. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const harnesses: CollectorHarness[] = [];
const servers: RedisServerProcess[] = [];
const clients: TestClient[] = [];

async function collector(port: number, config: Record<string, unknown> = {}, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(redisCollectorFactory, { config: { url: `redis://127.0.0.1:${port}`, timeout: '2s', ...config }, clock, intervalMs: 1000 });
  harnesses.push(h);
  return h;
}

async function server(port: number, args: string[] = []): Promise<RedisServerProcess> {
  const s = await startRedisServer(findBinary('redis-server')!, port, args);
  servers.push(s);
  return s;
}

async function client(port: number, options: Parameters<typeof connect>[1] = {}): Promise<TestClient> {
  const c = await connect(port, options);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const c of clients.splice(0)) c.destroy();
});

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

describe('redis collector against a real redis-server', () => {
  let primary: RedisServerProcess;

  beforeAll(async () => {
    if (!findBinary('redis-server')) return; // each test skips (or fails under SEXTANT_REQUIRE_ALL=1) through needBinary
    primary = await server(await freePort());
  });

  it('reports keyspace hits, misses, hit ratio, keys per db, slowlog and latency for known traffic', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const port = primary.port;
    const db0 = await client(port);
    const db3 = await client(port, { database: 3 });
    await db0.flushAll();
    await db0.configSet('slowlog-log-slower-than', '0');
    await db0.configSet('latency-monitor-threshold', '1');
    await db0.configSet('slowlog-max-len', '1024');
    await db0.sendCommand(['SLOWLOG', 'RESET']);
    await db0.sendCommand(['LATENCY', 'RESET']);

    const clock = new FakeClock(Date.now());
    const h = await collector(port, { slowlog: { maxEntries: 1000 } }, clock);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');

    const N = 40, TTL_N = 15, M = 30, K = 10;
    for (let i = 0; i < N; i++) await db0.set(`k${i}`, 'v', i < TTL_N ? { EX: 3600 } : undefined);
    for (let i = 0; i < M; i++) await db0.get(`k${i % N}`);
    for (let i = 0; i < K; i++) await db0.get(`missing${i}`);
    for (let i = 0; i < 7; i++) await db3.set(`d3-${i}`, 'v', i < 3 ? { PX: 3_600_000 } : undefined);
    await db0.sendCommand(['DEBUG', 'SLEEP', '0.05']);
    // instantaneous_ops_per_sec is sampled by the server every 100 ms; wait until it saw the traffic
    await until('instantaneous_ops_per_sec > 0', async () => {
      await db0.ping();
      return /instantaneous_ops_per_sec:[1-9]/.test(await db0.info('stats'));
    });

    clock.advance(10_000);
    await h.collect();
    const sink = h.sink;
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });
    // rates over the 10 s (fake) interval: exactly the lookups we made
    expect(sink.last('redis.keyspace.hits')).toBe(M / 10);
    expect(sink.last('redis.keyspace.misses')).toBe(K / 10);
    expect(sink.last('redis.keyspace.hit_ratio')).toBe(M / (M + K));
    expect(sink.last('redis.commands.processed')).toBeGreaterThan((N + M + K + 7) / 10);
    expect(sink.last('redis.commands')).toBeGreaterThan(0);
    expect(sink.last('redis.db.keys', { db: '0' })).toBe(N);
    expect(sink.last('redis.db.expires', { db: '0' })).toBe(TTL_N);
    expect(sink.last('redis.db.keys', { db: '3' })).toBe(7);
    expect(sink.last('redis.db.expires', { db: '3' })).toBe(3);
    expect(sink.last('redis.clients.connected')).toBeGreaterThanOrEqual(3);
    expect(sink.last('redis.memory.used')).toBeGreaterThan(0);
    expect(sink.last('redis.memory.rss')).toBeGreaterThan(0);
    expect(sink.last('redis.uptime')).toBeGreaterThanOrEqual(0);
    expect(sink.last('redis.role', { role: 'primary' })).toBe(1);
    expect(sink.last('redis.role', { role: 'replica' })).toBe(0);
    expect(sink.last('redis.rdb.last_bgsave.status')).toBe(1);
    expect(sink.last('redis.aof.enabled')).toBe(0);
    expect(sink.last('redis.rdb.changes_since_last_save')).toBeGreaterThanOrEqual(N + 7);
    expect(sink.last('redis.rdb.last_save.age')).toBeGreaterThanOrEqual(0);
    expect(sink.last('redis.slowlog.length')).toBeGreaterThan(N);
    expect(sink.last('redis.latency.latest', { event: 'command' })).toBeGreaterThanOrEqual(50);

    // the resource says what produced the data
    const used = sink.of('redis.memory.used')[0];
    expect(used.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'redis', 'db.system': 'redis', 'server.address': '127.0.0.1', 'server.port': port });
    expect(used).toMatchObject({ unit: 'By', type: 'gauge', kind: 'memory' });

    // slowlog entries became events: every SET and the DEBUG SLEEP, none of the collector's own calls
    const slow = sink.events.filter((e) => e.type === 'slowlog');
    const byCommand = (c: string) => slow.filter((e) => e.attributes?.['db.operation.name'] === c).length;
    expect(byCommand('SET')).toBe(N + 7);
    expect(byCommand('GET')).toBe(M + K);
    expect(byCommand('DEBUG')).toBe(1);
    expect(slow.filter((e) => e.attributes?.['redis.client.name'] === COLLECTOR_CLIENT_NAME)).toHaveLength(0);
    expect(byCommand('SLOWLOG') + byCommand('LATENCY')).toBe(2); // only the test's own SLOWLOG RESET and LATENCY RESET
    const debug = slow.find((e) => e.attributes?.['db.operation.name'] === 'DEBUG')!;
    expect(debug.attributes?.['redis.slowlog.duration_us']).toBeGreaterThanOrEqual(50_000);
    expect(debug.title).toMatch(/slow redis command DEBUG took \d+(\.\d+)? ms on 127\.0\.0\.1:\d+/);
    // keys and values never leave the server
    expect(JSON.stringify(slow)).not.toMatch(/k1|missing|d3-/);

    // the next round emits only newer entries
    await db0.set('one-more', 'v');
    clock.advance(10_000);
    await h.collect();
    const after = sink.events.filter((e) => e.type === 'slowlog');
    expect(after.length - slow.length).toBe(1);
    expect(new Set(after.map((e) => e.id)).size).toBe(after.length);
    expect(h.metrics.counters['slowlog_events_total']).toBe(after.length);
    // no lookups in that interval: no hit ratio sample rather than a made-up one
    expect(sink.of('redis.keyspace.hit_ratio')).toHaveLength(1);
    expect(sink.rejected).toBe(0);
  });

  it('shows role, connected replicas and replication lag for a primary and its replica', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const replica = await server(await freePort(), ['--replicaof', '127.0.0.1', String(primary.port)]);
    const p = await client(primary.port);
    const r = await client(replica.port);
    await until('replica link up', async () => /master_link_status:up/.test(await r.info('replication')));
    await p.set('replicated', 'x');
    await until('replica caught up', async () => (await r.get('replicated')) === 'x');

    const onPrimary = await collector(primary.port);
    await onPrimary.collect();
    const onReplica = await collector(replica.port);
    await onReplica.collect();

    expect(onPrimary.sink.last('redis.slaves.connected')).toBe(1);
    expect(onPrimary.sink.last('redis.replication.offset')).toBeGreaterThan(0);
    const lag = onPrimary.sink.of('redis.replication.lag');
    expect(lag).toHaveLength(1);
    expect(lag[0].attributes).toEqual({ replica: `127.0.0.1:${replica.port}` });
    expect(lag[0].value).toBeGreaterThanOrEqual(0);

    expect(onReplica.sink.last('redis.role', { role: 'replica' })).toBe(1);
    expect(onReplica.sink.last('redis.role', { role: 'primary' })).toBe(0);
    expect(onReplica.sink.last('redis.replication.master_link.status')).toBe(1);
    expect(onReplica.sink.last('redis.db.keys', { db: '0' })).toBeGreaterThanOrEqual(1);

    // the replica goes away: the primary reports no replica and no stale lag
    await replica.stop();
    await until('primary noticed', async () => /connected_slaves:0/.test(await p.info('replication')));
    await onPrimary.collect();
    expect(onPrimary.sink.last('redis.slaves.connected')).toBe(0);
    expect(onPrimary.sink.of('redis.replication.lag')).toHaveLength(1);
  });
});

describe('redis collector when things go wrong', () => {
  it('reports a coded error with the fix while redis is down, and recovers when it comes up', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const port = await freePort();
    const h = await collector(port);
    await h.collect();
    const down = h.lastStatus()!;
    expect(down.state).toBe('error');
    expect(down.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(down.message).toContain(`is redis-server running on 127.0.0.1:${port}? check url`);
    expect(h.metrics.counters['connection_errors_total']).toBeGreaterThanOrEqual(1);
    expect(h.sink.samples).toHaveLength(0);

    await server(port);
    await until('collector reconnected', async () => {
      await h.collect();
      return h.lastStatus()?.state === 'ok';
    });
    expect(h.sink.last('redis.uptime')).toBeGreaterThanOrEqual(0);
    expect(h.statuses.map((s) => s.state)).toEqual(['starting', 'error', 'ok']);
  });

  it('never emits a negative or inflated rate when the server restarts', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const port = await freePort();
    const first = await server(port);
    const clock = new FakeClock(Date.now());
    const h = await collector(port, {}, clock);
    const c1 = await connect(port);
    for (let i = 0; i < 50; i++) await c1.get('x');
    await h.collect();
    clock.advance(10_000);
    for (let i = 0; i < 20; i++) await c1.get('x');
    await h.collect();
    expect(h.sink.last('redis.keyspace.misses')).toBe(2);
    c1.destroy();

    await first.stop();
    await server(port);
    const c2 = await client(port);
    // more lookups after the restart than before it: a naive delta would look like a normal rate
    for (let i = 0; i < 200; i++) await c2.get('x');
    const before = h.sink.samples.length;
    await until('collector reconnected', async () => {
      clock.advance(10_000);
      await h.collect();
      return h.lastStatus()?.state === 'ok';
    });
    const roundAfterRestart = h.sink.samples.slice(before);
    expect(roundAfterRestart.filter((s) => s.metric === 'redis.keyspace.misses')).toHaveLength(0);
    expect(h.metrics.counters['server_restarts_total']).toBe(1);
    expect(h.sink.events.filter((e) => e.type === 'redis.restart')).toHaveLength(1);

    for (let i = 0; i < 30; i++) await c2.get('x');
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('redis.keyspace.misses')).toBe(3);
    for (const metric of RATE_METRICS) for (const s of h.sink.of(metric)) expect(s.value, metric).toBeGreaterThanOrEqual(0);
  });

  it('reports SEXTANT_ERR_AUTH_FAILED with the fix for a wrong password, and works with the right one', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const secret = 'hunter2-very-secret';
    const s = await server(await freePort(), ['--requirepass', secret]);

    const wrong = await collector(s.port, { password: 'not-the-password' });
    await wrong.collect();
    const status = wrong.lastStatus()!;
    expect(status.state).toBe('error');
    expect(status.code).toBe('SEXTANT_ERR_AUTH_FAILED');
    expect(status.message).toContain('check password/username');

    const none = await collector(s.port);
    await none.collect();
    expect(none.lastStatus()?.code).toBe('SEXTANT_ERR_AUTH_FAILED');

    const right = await collector(s.port, { password: secret });
    await right.collect();
    expect(right.lastStatus()?.state).toBe('ok');
    expect(right.sink.last('redis.memory.used')).toBeGreaterThan(0);

    // the password never shows up in logs, statuses or data
    for (const h of [wrong, none, right]) {
      expect(JSON.stringify([h.logger.lines, h.statuses, h.sink.samples, h.sink.events])).not.toContain(secret);
      expect(JSON.stringify([h.logger.lines, h.statuses])).not.toContain('not-the-password');
    }
  });

  it('works as a least-privilege ACL user and tells which permission is missing', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const s = await server(await freePort());
    const admin = await client(s.port);
    await admin.sendCommand(['ACL', 'SETUSER', 'sextant', 'on', '>monitor-pw', '-@all', '+info', '+ping', '+slowlog', '+latency', '+client|setname']);
    await admin.sendCommand(['ACL', 'SETUSER', 'no-slowlog', 'on', '>pw2', '-@all', '+info', '+ping', '+latency', '+client|setname']);
    await admin.configSet('slowlog-log-slower-than', '0');
    await admin.set('a', '1');

    const h = await collector(s.port, { username: 'sextant', password: 'monitor-pw' });
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.events.some((e) => e.type === 'slowlog' && e.attributes?.['db.operation.name'] === 'SET')).toBe(true);

    const limited = await collector(s.port, { username: 'no-slowlog', password: 'pw2' });
    await limited.collect();
    const status = limited.lastStatus()!;
    expect(status.state).toBe('degraded');
    expect(status.message).toMatch(/refused SLOWLOG/);
    expect(status.message).toMatch(/grant the ACL user slowlog/);
    expect(limited.sink.last('redis.memory.used')).toBeGreaterThan(0);
    // slowlog is switched off after the refusal: the next round is clean
    await limited.collect();
    expect(limited.lastStatus()?.state).toBe('ok');

    const wrongUser = await collector(s.port, { username: 'sextant', password: 'nope' });
    await wrongUser.collect();
    expect(wrongUser.lastStatus()?.code).toBe('SEXTANT_ERR_AUTH_FAILED');
  });

  it('explains a TLS URL pointed at a plain port', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const s = await server(await freePort());
    const h = await startCollector(redisCollectorFactory, { config: { url: `rediss://127.0.0.1:${s.port}`, timeout: '2s' }, intervalMs: 1000 });
    harnesses.push(h);
    await h.collect();
    const status = h.lastStatus()!;
    expect(status.state).toBe('error');
    expect(status.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(status.message).toMatch(/TLS/);
  });

  it('shuts down cleanly, twice, with or without start', async () => {
    const h = await collector(await freePort());
    await h.shutdown();
    await h.shutdown();
    await h.collect();
    const created = await redisCollectorFactory.create({
      config: h.config as never,
      instanceId: 'redis/unstarted',
      logger: h.logger,
      clock: { now: Date.now, setTimeout: () => () => {} },
      status: { set: () => {} },
      metrics: h.metrics,
      signal: new AbortController().signal,
      dataDir: undefined,
      sink: h.sink,
      hostResource: {},
      intervalMs: 1000,
    });
    await created.shutdown();
    await created.shutdown();
  });
});
