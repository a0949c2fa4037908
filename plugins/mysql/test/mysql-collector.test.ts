/**
 * The collector against real MariaDB servers (Debian package `mariadb-server`), each started by the
 * test from a private data directory on an ephemeral loopback port and stopped by pid. The
 * machine's own MariaDB (if any) and its data are never touched.
 */
import { createServer, type Server, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, freePort, needCondition, startCollector, type CollectorHarness } from '@sextant/testkit';
import { mysqlCollectorFactory } from '../src/index.js';
import { findMariadb, removeTemplate, startMariadb, type MariadbServerProcess } from './mariadb-server-process.js';

const BIN = findMariadb();
const MISSING = 'MariaDB server binaries (mariadbd, mariadb-install-db) are not installed (apt-get install mariadb-server)';
const RATE_METRICS = ['mysql.commands', 'mysql.query.count', 'mysql.query.client.count', 'mysql.query.slow.count', 'mysql.innodb.deadlocks', 'mysql.row_locks.waits', 'mysql.buffer_pool.read_requests', 'mysql.net.bytes', 'mysql.connection.count'];

const harnesses: CollectorHarness[] = [];
const servers: MariadbServerProcess[] = [];
const clients: mysql.Connection[] = [];

async function server(args: string[] = []): Promise<MariadbServerProcess> {
  const s = await startMariadb(BIN!, await freePort(), args);
  servers.push(s);
  return s;
}

/** A test client as root; retries while the server is still starting up. */
async function client(port: number, options: { user?: string; password?: string; database?: string } = {}): Promise<mysql.Connection> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: options.user ?? 'root', password: options.password, database: options.database });
      c.on('error', () => {});
      clients.push(c);
      return c;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function collector(port: number, config: Record<string, unknown> = {}, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(mysqlCollectorFactory, { config: { url: `mysql://127.0.0.1:${port}`, timeout: '5s', ...config }, clock, intervalMs: 1000 });
  harnesses.push(h);
  return h;
}

/**
 * Polls every 250 ms: InnoDB refreshes its information_schema transaction cache only when it has
 * not been read for 100 ms, so a faster poll can keep reading a stale (e.g. empty) INNODB_TRX
 * forever — what made the row-lock step fail in full-suite runs ("INNODB_TRX: []" while the
 * blocked update was still running).
 */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const c of clients.splice(0)) c.destroy();
});

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
  removeTemplate();
});

describe('mysql collector against a real MariaDB', () => {
  let primary: MariadbServerProcess;

  beforeAll(async () => {
    if (!BIN) return; // each test skips (or fails under SEXTANT_REQUIRE_ALL=1) through needCondition
    primary = await server(['--log-bin=primary-bin', '--server-id=1']);
  });

  it('shows statements, slow queries, deadlocks, row lock waits, long transactions and the buffer pool as they happen', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const admin = await client(primary.port);
    await admin.query('CREATE DATABASE app');
    await admin.query('CREATE TABLE app.items (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB');
    await admin.query('INSERT INTO app.items WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100) SELECT n, 0 FROM s');
    const a = await client(primary.port, { database: 'app' });
    const b = await client(primary.port, { database: 'app' });

    const clock = new FakeClock(Date.now());
    const h = await collector(primary.port, {}, clock);
    await h.collect();
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });

    const N = 30, K = 4;
    for (let i = 0; i < N; i++) await a.query('INSERT INTO items VALUES (?, ?)', [1000 + i, i]);
    for (let i = 0; i < K; i++) {
      await a.query('BEGIN');
      await a.query('UPDATE items SET n = n + 1 WHERE id = 1');
      await a.query('ROLLBACK');
    }
    for (let i = 0; i < 20; i++) await b.query('SELECT SUM(n) FROM items');
    await b.query('SET SESSION long_query_time = 0.05');
    await b.query('SELECT SLEEP(0.2)');
    // one deadlock between a and b
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE items SET n = 1 WHERE id = 1');
    await b.query('UPDATE items SET n = 1 WHERE id = 2');
    const crossed = await Promise.allSettled([a.query('UPDATE items SET n = 2 WHERE id = 2'), b.query('UPDATE items SET n = 2 WHERE id = 1')]);
    const victims = crossed.filter((r) => r.status === 'rejected');
    expect(victims).toHaveLength(1);
    expect(((victims[0] as PromiseRejectedResult).reason as { code?: string }).code).toBe('ER_LOCK_DEADLOCK');
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');

    clock.advance(10_000);
    await h.collect();
    const sink = h.sink;
    expect(h.lastStatus()?.state).toBe('ok');
    // rates over the 10 s (fake) interval: exactly the statements we sent (the collector sends no INSERT/ROLLBACK)
    expect(sink.last('mysql.commands', { command: 'insert' })).toBe(N / 10);
    expect(sink.last('mysql.commands', { command: 'rollback' })).toBe((K + 2) / 10);
    expect(sink.last('mysql.commands', { command: 'select' })).toBeGreaterThanOrEqual(21 / 10);
    expect(sink.last('mysql.query.slow.count')).toBe(0.1);
    expect(sink.last('mysql.innodb.deadlocks')).toBe(0.1);
    expect(sink.last('mysql.query.client.count')).toBeGreaterThan(N / 10);
    expect(sink.last('mysql.net.bytes', { direction: 'received' })).toBeGreaterThan(0);
    const hitRatio = sink.last('mysql.buffer_pool.hit_ratio')!;
    expect(hitRatio).toBeGreaterThan(0.5);
    expect(hitRatio).toBeLessThanOrEqual(1);
    expect(sink.last('mysql.buffer_pool.usage')).toBeGreaterThan(0);
    expect(sink.last('mysql.buffer_pool.limit')).toBe(16 * 1024 * 1024);
    expect(sink.last('mysql.connection.max')).toBe(151);
    expect(sink.last('mysql.threads', { kind: 'connected' })).toBe(4); // admin, a, b, collector
    expect(sink.last('mysql.connection.utilization')).toBe(4 / 151);
    expect(sink.last('mysql.uptime')).toBeGreaterThanOrEqual(0);

    // a holds a row lock, b waits for it
    await a.query('BEGIN');
    await a.query('UPDATE items SET n = 3 WHERE id = 3');
    let settled = 'still running';
    const blocked = b.query('UPDATE items SET n = 4 WHERE id = 3');
    blocked.then(
      () => (settled = 'finished without waiting'),
      (e: { code?: string }) => (settled = `failed: ${e.code}`),
    );
    // A failure says what InnoDB showed and what b's statement did (see until()).
    let seen = '';
    await until(
      'b waits for the lock',
      async () => {
        const [rows] = await admin.query('SELECT trx_state, trx_query FROM information_schema.INNODB_TRX');
        seen = JSON.stringify(rows);
        return (rows as { trx_state: string }[]).some((r) => r.trx_state === 'LOCK WAIT');
      },
      45_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; b's update ${settled}; INNODB_TRX: ${seen}`);
    });
    await new Promise((r) => setTimeout(r, 1100)); // so the open transaction and the waiting statement are measurably old
    clock.advance(10_000);
    await h.collect();
    expect(sink.last('mysql.transactions.lock_wait')).toBe(1);
    expect(sink.last('mysql.row_locks.current_waits')).toBe(1);
    expect(sink.last('mysql.row_locks.waits')).toBe(0.1); // counted when the wait began
    expect(sink.last('mysql.transaction.max_age')).toBeGreaterThanOrEqual(1);
    expect(sink.last('mysql.query.max_duration')).toBeGreaterThanOrEqual(1);
    expect(sink.last('mysql.threads', { kind: 'running' })).toBeGreaterThanOrEqual(2);
    await a.query('COMMIT');
    await blocked;
    await new Promise((r) => setTimeout(r, 200)); // InnoDB refreshes its information_schema snapshot at most every 100 ms

    clock.advance(10_000);
    await h.collect();
    expect(sink.last('mysql.transactions.lock_wait')).toBe(0);
    expect(sink.last('mysql.row_locks.current_waits')).toBe(0);
    expect(sink.last('mysql.row_locks.waits')).toBe(0);
    expect(sink.last('mysql.transaction.max_age')).toBe(0);

    const uptime = sink.of('mysql.uptime')[0];
    expect(uptime.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'mysql', 'db.system': 'mysql', 'server.address': '127.0.0.1', 'server.port': primary.port });
    for (const metric of RATE_METRICS) for (const s of sink.of(metric)) expect(s.value, metric).toBeGreaterThanOrEqual(0);
    expect(sink.rejected).toBe(0);
    expect(h.metrics.counters['values_rejected_total'] ?? 0).toBe(0);
  }, 120_000);

  it('shows replica lag and the replication threads, and a stopped SQL thread', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const replica = await server(['--server-id=2']);
    const r = await client(replica.port);
    await r.query(`CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=no`);
    await r.query('START SLAVE');
    const p = await client(primary.port);
    await p.query('CREATE DATABASE IF NOT EXISTS replicated');
    await until('replica applied the primary', async () => {
      const [rows] = await r.query("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'replicated'");
      return Number((rows as { n: number }[])[0].n) === 1;
    });

    const h = await collector(replica.port);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('mysql.replica.thread.running', { thread: 'io' })).toBe(1);
    expect(h.sink.last('mysql.replica.thread.running', { thread: 'sql' })).toBe(1);
    expect(h.sink.last('mysql.replica.time_behind_source')).toBeGreaterThanOrEqual(0);

    await r.query('STOP SLAVE SQL_THREAD');
    const behind = h.sink.of('mysql.replica.time_behind_source').length;
    await h.collect();
    expect(h.sink.last('mysql.replica.thread.running', { thread: 'sql' })).toBe(0);
    expect(h.sink.last('mysql.replica.thread.running', { thread: 'io' })).toBe(1);
    expect(h.sink.of('mysql.replica.time_behind_source')).toHaveLength(behind); // unknown, not 0
    await r.query('STOP SLAVE');

    // the primary is not a replica: no replica series
    const onPrimary = await collector(primary.port);
    await onPrimary.collect();
    expect(onPrimary.sink.of('mysql.replica.thread.running')).toHaveLength(0);
  });
});

describe('mysql collector when things go wrong', () => {
  it('reports a coded error while nothing listens, once per outage, counting every round', async () => {
    const port = await freePort();
    const h = await collector(port);
    await h.collect();
    await h.collect();
    const down = h.lastStatus()!;
    expect(down.state).toBe('error');
    expect(down.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(down.message).toContain(`is mysqld/mariadbd running and listening on 127.0.0.1:${port}?`);
    expect(h.metrics.counters['connection_errors_total']).toBe(2);
    expect(h.statuses.map((s) => s.state)).toEqual(['starting', 'error']);
    expect(h.sink.samples).toHaveLength(0);
  });

  it('tells a wrong password from a missing privilege, and never shows the password', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const s = await server();
    const admin = await client(s.port);
    await admin.query("CREATE USER 'watcher'@'127.0.0.1' IDENTIFIED BY 'w-pw-secret'");

    const wrong = await collector(s.port, { username: 'watcher', password: 'not-the-password' });
    await wrong.collect();
    expect(wrong.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(wrong.lastStatus()?.message).toContain('check username/password');

    // no PROCESS, no REPLICA MONITOR: the status metrics work, the extras say what to grant, once
    const limited = await collector(s.port, { url: `mysql://watcher@127.0.0.1:${s.port}`, password: 'w-pw-secret' });
    await limited.collect();
    const status = limited.lastStatus()!;
    expect(status.state).toBe('degraded');
    expect(status.code).toBe('SEXTANT_ERR_AUTH_FAILED');
    expect(status.message).toMatch(/GRANT (PROCESS|REPLICATION CLIENT)/);
    expect(limited.sink.last('mysql.threads', { kind: 'connected' })).toBeGreaterThanOrEqual(2);
    await limited.collect();
    await limited.collect();
    expect(limited.lastStatus()?.state).toBe('ok');

    await admin.query("GRANT PROCESS, SLAVE MONITOR ON *.* TO 'watcher'@'127.0.0.1'");
    const granted = await collector(s.port, { username: 'watcher', password: 'w-pw-secret' });
    await granted.collect();
    expect(granted.lastStatus()?.state).toBe('ok');
    expect(granted.sink.last('mysql.transactions.lock_wait')).toBe(0);

    for (const h of [wrong, limited, granted]) {
      expect(JSON.stringify([h.logger.lines, h.statuses, h.sink.samples, h.sink.events])).not.toMatch(/not-the-password|w-pw-secret/);
    }
  });

  it('survives the server stopping mid-run, then reports the restart without a negative or inflated rate', async (ctx) => {
    needCondition(ctx, BIN !== undefined, MISSING);
    const s = await server();
    const c1 = await client(s.port);
    // Uptime has a 1 s resolution: let it grow so a restart is seen going back
    await until('uptime >= 3', async () => {
      const [rows] = await c1.query("SHOW GLOBAL STATUS LIKE 'Uptime'");
      return Number((rows as { Value: string }[])[0].Value) >= 3;
    });
    const clock = new FakeClock(Date.now());
    const h = await collector(s.port, {}, clock);
    await h.collect();
    for (let i = 0; i < 10; i++) await c1.query('SELECT 1');
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');

    await s.stop({ keepData: true });
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h.metrics.counters['connection_errors_total']).toBeGreaterThanOrEqual(1);

    await s.start();
    const c2 = await client(s.port);
    for (let i = 0; i < 500; i++) await c2.query('SELECT 1');
    let before = h.sink.samples.length;
    await until('collector reconnected', async () => {
      before = h.sink.samples.length;
      clock.advance(10_000);
      await h.collect();
      return h.lastStatus()?.state === 'ok';
    });
    expect(h.sink.samples.slice(before).filter((x) => x.metric === 'mysql.commands')).toHaveLength(0);
    expect(h.metrics.counters['server_restarts_total']).toBe(1);
    expect(h.sink.events.filter((e) => e.type === 'mysql.restart')).toHaveLength(1);

    for (let i = 0; i < 20; i++) await c2.query('SELECT 1');
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('mysql.commands', { command: 'select' })).toBeGreaterThanOrEqual(2);
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
