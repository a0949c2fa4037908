/**
 * The collector against real PostgreSQL clusters (Debian package `postgresql`), each created by
 * the test with initdb in a temporary directory, run on an ephemeral loopback port and stopped by
 * pid. The machine's own PostgreSQL (if any) and its data are never touched.
 */
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, freePort, needCondition, startCollector, type CollectorHarness } from '@sextant/testkit';
import { COLLECTOR_APPLICATION_NAME, postgresqlCollectorFactory } from '../src/index.js';
import { findPostgresBin, startPostgres, SUPERUSER_PASSWORD, type PostgresServerProcess } from './postgres-server-process.js';

const BIN = findPostgresBin();
const MISSING = 'PostgreSQL server binaries (initdb, postgres) are not installed (apt-get install postgresql)';
const RATE_METRICS = ['postgresql.commits', 'postgresql.rollbacks', 'postgresql.blocks_read', 'postgresql.blocks_hit', 'postgresql.tup_inserted', 'postgresql.tup_returned', 'postgresql.deadlocks', 'postgresql.bgwriter.checkpoint.count', 'postgresql.bgwriter.buffers.writes'];

/** A transaction that reads a table: PostgreSQL publishes a session's commit count only once it touched a relation. */
const READ = 'SELECT count(*) FROM pg_class';

const harnesses: CollectorHarness[] = [];
const servers: PostgresServerProcess[] = [];
const clients: pg.Client[] = [];

async function server(options: Parameters<typeof startPostgres>[2] = {}): Promise<PostgresServerProcess> {
  // short deadlock_timeout so the deadlock test does not wait the default 1 s; no autovacuum so
  // the per-database counters move only with the test's own traffic
  const s = await startPostgres(BIN!, await freePort(), { ...options, settings: { deadlock_timeout: '100ms', autovacuum: 'off', ...options.settings } });
  servers.push(s);
  return s;
}

/** A test client as the superuser; retries while the server is still starting up. */
async function client(port: number, database = 'postgres', options: { password?: string; user?: string } = {}): Promise<pg.Client> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const c = new pg.Client({ host: '127.0.0.1', port, database, user: options.user ?? 'postgres', password: options.password ?? SUPERUSER_PASSWORD, application_name: 'sextant-test' });
    c.on('error', () => {});
    try {
      await c.connect();
      clients.push(c);
      return c;
    } catch (error) {
      await c.end().catch(() => {});
      if (Date.now() > deadline || (error as { code?: string }).code !== '57P03') throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function collector(port: number, config: Record<string, unknown> = {}, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(postgresqlCollectorFactory, {
    config: { url: `postgresql://127.0.0.1:${port}/postgres`, password: SUPERUSER_PASSWORD, timeout: '5s', ...config },
    clock,
    intervalMs: 1000,
  });
  harnesses.push(h);
  return h;
}

/** Polls `check` until it returns true (bounded), for server state that settles asynchronously. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Backends publish their cumulative statistics with a delay (up to 10 s when busy): make each
 * session publish now (PostgreSQL 15+ flushes when it goes idle after this call, before answering).
 */
async function flushStats(...sessions: pg.Client[]): Promise<void> {
  for (const s of sessions) await s.query('SELECT pg_stat_force_next_flush()');
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const c of clients.splice(0)) await c.end().catch(() => {});
});

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

describe('postgresql collector against a real PostgreSQL', () => {
  let primary: PostgresServerProcess;

  beforeAll(async () => {
    if (!BIN) return; // each test skips (or fails under SEXTANT_REQUIRE_ALL=1) through needCondition
    primary = await server();
  });

  it('shows transactions, rows, cache hits, deadlocks, lock waits and long transactions as they happen', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const admin = await client(primary.port);
    await admin.query('CREATE DATABASE app');
    const a = await client(primary.port, 'app');
    const b = await client(primary.port, 'app');
    await a.query('CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL)');
    await a.query('INSERT INTO items SELECT g, 0 FROM generate_series(1, 100) g');
    await flushStats(a, b);

    const clock = new FakeClock(Date.now());
    const h = await collector(primary.port, {}, clock);
    await h.collect();
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });

    // N committed transactions, K rolled back, reads, and one deadlock between a and b
    const N = 30, K = 6;
    for (let i = 0; i < N; i++) await a.query('INSERT INTO items VALUES ($1, $2)', [1000 + i, i]);
    for (let i = 0; i < K; i++) {
      await a.query('BEGIN');
      await a.query('UPDATE items SET n = n + 1 WHERE id = 1');
      await a.query('ROLLBACK');
    }
    for (let i = 0; i < 20; i++) await b.query('SELECT sum(n) FROM items');
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE items SET n = 1 WHERE id = 1');
    await b.query('UPDATE items SET n = 1 WHERE id = 2');
    const crossed = await Promise.allSettled([a.query('UPDATE items SET n = 2 WHERE id = 2'), b.query('UPDATE items SET n = 2 WHERE id = 1')]);
    const victims = crossed.filter((r) => r.status === 'rejected');
    expect(victims).toHaveLength(1);
    expect(((victims[0] as PromiseRejectedResult).reason as { code?: string }).code).toBe('40P01');
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
    await flushStats(a, b);

    clock.advance(10_000);
    await h.collect();
    const sink = h.sink;
    const app = { 'postgresql.database.name': 'app' };
    expect(h.lastStatus()?.state).toBe('ok');
    // rates over the 10 s (fake) interval: exactly the rows and the deadlock we made
    expect(sink.last('postgresql.tup_inserted', app)).toBe(N / 10);
    expect(sink.last('postgresql.deadlocks', app)).toBe(0.1);
    expect(sink.last('postgresql.commits', app)).toBeGreaterThanOrEqual(N / 10);
    expect(sink.last('postgresql.rollbacks', app)).toBeGreaterThanOrEqual((K + 2) / 10);
    expect(sink.last('postgresql.tup_returned', app)).toBeGreaterThan(0);
    const hitRatio = sink.last('postgresql.cache.hit_ratio', app)!;
    expect(hitRatio).toBeGreaterThan(0.5);
    expect(hitRatio).toBeLessThanOrEqual(1);
    expect(sink.last('postgresql.db_size', app)).toBeGreaterThan(1_000_000);
    expect(sink.last('postgresql.database.xid_age', app)).toBeGreaterThan(0);
    expect(sink.last('postgresql.backends', app)).toBe(2);
    expect(sink.last('postgresql.deadlocks', { 'postgresql.database.name': 'postgres' })).toBe(0);
    // templates are not databases anyone works in
    expect(sink.of('postgresql.commits', { 'postgresql.database.name': 'template1' })).toHaveLength(0);
    expect(sink.last('postgresql.connection.max')).toBe(100);
    expect(sink.last('postgresql.role', { role: 'primary' })).toBe(1);
    expect(sink.last('postgresql.role', { role: 'replica' })).toBe(0);
    expect(sink.last('postgresql.uptime')).toBeGreaterThan(0);

    // a transaction holds a row lock and another session waits for it
    await a.query('BEGIN');
    await a.query('UPDATE items SET n = 3 WHERE id = 3');
    const blocked = b.query('UPDATE items SET n = 4 WHERE id = 3');
    await until('b waits for the lock', async () => {
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`);
      return rows[0].n === 1;
    });
    await new Promise((r) => setTimeout(r, 1100)); // so the open transaction is measurably old
    clock.advance(10_000);
    await h.collect();
    expect(sink.last('postgresql.connections.waiting')).toBe(1);
    expect(sink.last('postgresql.locks.waiting')).toBeGreaterThanOrEqual(1);
    expect(sink.last('postgresql.database.locks', { mode: 'RowExclusiveLock' })).toBeGreaterThanOrEqual(2);
    expect(sink.last('postgresql.transaction.max_age')).toBeGreaterThanOrEqual(1);
    expect(sink.last('postgresql.query.max_duration')).toBeGreaterThanOrEqual(1);
    expect(sink.last('postgresql.connections', { state: 'idle_in_transaction' })).toBe(1);
    expect(sink.last('postgresql.connections', { state: 'active' })).toBe(1);
    // 3 test sessions + the collector's own, of max_connections = 100
    expect(sink.last('postgresql.connection.utilization')).toBe(4 / 100);
    await a.query('COMMIT');
    await blocked;

    clock.advance(10_000);
    await h.collect();
    expect(sink.last('postgresql.connections.waiting')).toBe(0);
    expect(sink.last('postgresql.locks.waiting')).toBe(0);
    expect(sink.last('postgresql.connections', { state: 'idle_in_transaction' })).toBe(0);
    expect(sink.last('postgresql.transaction.max_age')).toBe(0);

    // the collector's own session is named and never counted as client activity
    const { rows: own } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [COLLECTOR_APPLICATION_NAME]);
    expect(own[0].n).toBe(1);

    // the resource says what produced the data
    const size = sink.of('postgresql.db_size')[0];
    expect(size.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'postgresql', 'db.system': 'postgresql', 'server.address': '127.0.0.1', 'server.port': primary.port });
    expect(size).toMatchObject({ unit: 'By', type: 'gauge' });
    for (const metric of RATE_METRICS) for (const s of sink.of(metric)) expect(s.value, metric).toBeGreaterThanOrEqual(0);
    expect(sink.rejected).toBe(0);
    expect(h.metrics.counters['values_rejected_total'] ?? 0).toBe(0);
  });

  it('limits per-database series to the configured databases', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const h = await collector(primary.port, { databases: ['postgres'] });
    await h.collect();
    expect(new Set(h.sink.of('postgresql.db_size').map((s) => s.attributes['postgresql.database.name']))).toEqual(new Set(['postgres']));

    const capped = await collector(primary.port, { maxDatabases: 1 });
    await capped.collect();
    expect(capped.sink.of('postgresql.db_size')).toHaveLength(1);
    expect(capped.metrics.counters['series_limited_total']).toBeGreaterThanOrEqual(1);
  });

  it('shows role and replication lag on a primary and its streaming standby', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const standby = await server({ standbyOf: primary.port });
    const admin = await client(primary.port);
    await until('standby streaming: ' + standby.output(), async () => {
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming' AND replay_lsn IS NOT NULL`);
      return rows[0].n === 1;
    });
    await admin.query('CREATE TABLE IF NOT EXISTS replicated (v int)');
    await admin.query('INSERT INTO replicated SELECT generate_series(1, 1000)');

    const onPrimary = await collector(primary.port);
    await onPrimary.collect();
    const delay = onPrimary.sink.of('postgresql.replication.data_delay');
    expect(delay).toHaveLength(1);
    expect(delay[0].attributes['replication.client']).toMatch(/@127\.0\.0\.1$/);
    expect(delay[0].value).toBeGreaterThanOrEqual(0);
    expect(onPrimary.sink.of('postgresql.wal.lag').map((s) => s.attributes.operation).sort()).toEqual(['flush', 'replay', 'write']);

    const onStandby = await collector(standby.port);
    await onStandby.collect();
    expect(onStandby.lastStatus()?.state).toBe('ok');
    expect(onStandby.sink.last('postgresql.role', { role: 'replica' })).toBe(1);
    expect(onStandby.sink.last('postgresql.role', { role: 'primary' })).toBe(0);
    expect(onStandby.sink.last('postgresql.replica.replay_delay')).toBeGreaterThanOrEqual(0);
    expect(onStandby.sink.last('postgresql.replica.pending')).toBeGreaterThanOrEqual(0);
    expect(onStandby.sink.of('postgresql.replication.data_delay')).toHaveLength(0);

    await standby.stop();
    await until('primary noticed', async () => {
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_replication');
      return rows[0].n === 0;
    });
    await onPrimary.collect();
    expect(onPrimary.sink.of('postgresql.replication.data_delay')).toHaveLength(1); // no new sample for a gone standby
  });
});

describe('postgresql collector when things go wrong', () => {
  it('reports a coded error while nothing listens, and recovers when the server comes up', async () => {
    const port = await freePort();
    const h = await collector(port);
    await h.collect();
    const down = h.lastStatus()!;
    expect(down.state).toBe('error');
    expect(down.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(down.message).toContain(`is postgres running and listening on 127.0.0.1:${port}?`);
    expect(h.metrics.counters['connection_errors_total']).toBe(1);
    await h.collect();
    expect(h.metrics.counters['connection_errors_total']).toBe(2);
    expect(h.statuses.map((s) => s.state)).toEqual(['starting', 'error']);
    expect(h.sink.samples).toHaveLength(0);
  });

  it('tells a wrong password, an unknown database and a refused role apart, and never shows the password', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const s = await server();
    const wrong = await collector(s.port, { password: 'not-the-password' });
    await wrong.collect();
    expect(wrong.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(wrong.lastStatus()?.message).toContain('check username/password');

    const nodb = await collector(s.port, { url: `postgresql://127.0.0.1:${s.port}/nope` });
    await nodb.collect();
    expect(nodb.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONFIG_INVALID' });
    expect(nodb.lastStatus()?.message).toContain('has no database "nope"');

    const admin = await client(s.port);
    await admin.query(`CREATE ROLE watcher LOGIN PASSWORD 'w-pw'`);
    // a role without pg_monitor works but cannot see other sessions' state
    const plain = await collector(s.port, { url: `postgresql://watcher@127.0.0.1:${s.port}/postgres`, password: 'w-pw' });
    await plain.collect();
    expect(plain.lastStatus()?.state).toBe('ok');
    expect(plain.sink.last('postgresql.connections', { state: 'unknown' })).toBeGreaterThanOrEqual(1);
    await admin.query('GRANT pg_monitor TO watcher');
    await plain.collect();
    expect(plain.sink.last('postgresql.connections', { state: 'unknown' })).toBe(0);
    expect(plain.sink.last('postgresql.connections', { state: 'idle' })).toBeGreaterThanOrEqual(1);

    for (const h of [wrong, nodb, plain]) {
      expect(JSON.stringify([h.logger.lines, h.statuses, h.sink.samples, h.sink.events])).not.toMatch(/not-the-password|w-pw|sextant-test-pw/);
    }
  });

  it('survives the server stopping mid-run, then reports the restart without a negative or inflated rate', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const s = await server();
    const clock = new FakeClock(Date.now());
    const h = await collector(s.port, {}, clock);
    const c1 = await client(s.port);
    await h.collect();
    for (let i = 0; i < 10; i++) await c1.query(READ);
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');

    await s.stop({ keepData: true });
    clock.advance(10_000);
    await h.collect();
    const down = h.lastStatus()!;
    expect(down.state).toBe('error');
    expect(down.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(h.metrics.counters['connection_errors_total']).toBeGreaterThanOrEqual(1);

    await s.start();
    const c2 = await client(s.port);
    for (let i = 0; i < 200; i++) await c2.query(READ);
    await flushStats(c2);
    let before = h.sink.samples.length;
    await until('collector reconnected', async () => {
      before = h.sink.samples.length;
      clock.advance(10_000);
      await h.collect();
      return h.lastStatus()?.state === 'ok';
    });
    // the first round after the restart has no rate (PostgreSQL 15 keeps counters over a clean
    // shutdown but drops them after a crash; either way the interval spans a restart)
    expect(h.sink.samples.slice(before).filter((x) => x.metric === 'postgresql.commits')).toHaveLength(0);
    expect(h.metrics.counters['server_restarts_total']).toBe(1);
    expect(h.sink.events.filter((e) => e.type === 'postgresql.restart')).toHaveLength(1);
    for (let i = 0; i < 20; i++) await c2.query(READ);
    await flushStats(c2);
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('postgresql.commits', { 'postgresql.database.name': 'postgres' })).toBeGreaterThan(0);
    for (const metric of RATE_METRICS) for (const x of h.sink.of(metric)) expect(x.value, metric).toBeGreaterThanOrEqual(0);
  });

  it('gives a coded error, not a crash, when something else answers on the port', async () => {
    const sockets = new Set<Socket>();
    const garbage: Server = createServer((socket) => {
      sockets.add(socket);
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const port = (garbage.address() as { port: number }).port;
    try {
      const h = await collector(port, { timeout: '1s' });
      await h.collect();
      expect(h.lastStatus()?.state).toBe('error');
      expect(h.lastStatus()?.code).toMatch(/^SEXTANT_ERR_(CONNECTION|COLLECT)_FAILED$/);
      expect(h.metrics.counters['connection_errors_total']).toBe(1);
      await h.collect();
      expect(h.metrics.counters['connection_errors_total']).toBe(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => garbage.close(r));
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
