/**
 * The Redis outbox store against a real redis-server started here on an ephemeral port (with an
 * append-only file, so a restart of the server keeps its data like a production Redis would).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { FakeClock, findBinary, freePort, needBinary, waitForPort } from '@sextant/testkit';
import { RedisOutboxStore, Runtime, validateRuntimeConfig, type OutboxStore } from '../src/index.js';
import { incidentUpdate, notifierPlugin, runUntilDelivered, script } from './outbox-support.js';

let port = 0;
let dir = '';
let server: ChildProcess | undefined;
const runtimes: Runtime[] = [];

async function startRedis(): Promise<void> {
  const bin = findBinary('redis-server')!;
  server = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], { stdio: 'ignore' });
  await waitForPort(port);
}

async function stopRedis(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  if (!findBinary('redis-server')) return;
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'sextant-outbox-redis-'));
  await startRedis();
});

afterAll(async () => {
  for (const rt of runtimes) await rt.stop();
  await stopRedis();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startRuntime(clock: FakeClock, store: OutboxStore, scriptName: string): Promise<Runtime> {
  const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { port: 0 }, notifiers: { 'scripted/x': { script: scriptName } }, notifications: { backoff: { initial: '1s', max: '5s' } } });
  const rt = await Runtime.load({
    config: loaded.config!,
    builtins: [{ plugin: notifierPlugin, packageName: 'test:outbox', version: '0.0.0' }],
    log: { level: 'silent' },
    clock,
    hostResource: { 'host.name': 'test-host' },
    outboxStore: store,
  });
  runtimes.push(rt);
  expect(await rt.start()).toEqual([]);
  await rt.dispatcher.ready();
  return rt;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function redisCounts(prefix: string): Promise<{ entries: number; due: number }> {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  try {
    return { entries: await client.hLen(`${prefix}entries`), due: await client.zCard(`${prefix}due`) };
  } finally {
    client.destroy();
  }
}

describe('redis outbox store', () => {
  it('keeps undelivered notifications in Redis across a restart of the runtime', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    const prefix = 'test1:outbox:';
    script('redis-down-receiver', () => ({ ok: false, retryable: true, error: 'HTTP 503' }));
    const store = new RedisOutboxStore({ url: `redis://127.0.0.1:${port}`, prefix });
    const first = await startRuntime(new FakeClock(), store, 'redis-down-receiver');
    first.pipeline.publishIncident(incidentUpdate('r', 1));
    first.pipeline.publishIncident(incidentUpdate('r', 2));
    first.pipeline.publishIncident(incidentUpdate('s', 1));
    await until('the store to write', () => store.unwritten === 0);
    expect(await redisCounts(prefix)).toEqual({ entries: 3, due: 3 });
    await first.stop();

    const delivered = script('redis-ok', () => ({ ok: true }));
    const clock = new FakeClock();
    const store2 = new RedisOutboxStore({ url: `redis://127.0.0.1:${port}`, prefix });
    const second = await startRuntime(clock, store2, 'redis-ok');
    expect(second.telemetry.value('sextant_outbox_restored_total')).toBe(3);
    await runUntilDelivered(second, clock, 30_000);
    expect(delivered.map((n) => n.idempotencyKey).sort()).toEqual(['r:1', 'r:2', 's:1']);
    expect(delivered.filter((n) => n.update.incident.id === 'r').map((n) => n.update.sequence)).toEqual([1, 2]);
    await until('settled entries to leave Redis', async () => store2.unwritten === 0 && (await redisCounts(prefix)).entries === 0);
    expect(await redisCounts(prefix)).toEqual({ entries: 0, due: 0 });
  });

  it('buffers in memory while Redis is down, keeps delivering, and writes everything once Redis is back', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    const prefix = 'test2:outbox:';
    const calls = script('redis-partial', (n) => (n.update.incident.id === 'live' ? { ok: true } : { ok: false, retryable: true, error: 'HTTP 503' }));
    const clock = new FakeClock();
    const store = new RedisOutboxStore({ url: `redis://127.0.0.1:${port}`, prefix, maxRetryDelayMs: 300 });
    const rt = await startRuntime(clock, store, 'redis-partial');
    rt.pipeline.publishIncident(incidentUpdate('p', 1));
    await until('the first write', () => store.unwritten === 0);

    await stopRedis();
    rt.pipeline.publishIncident(incidentUpdate('p', 2));
    rt.pipeline.publishIncident(incidentUpdate('q', 1));
    rt.pipeline.publishIncident(incidentUpdate('live', 1));
    await runUntilDelivered(rt, clock, 3000);
    await until('a failed write to be counted', () => rt.telemetry.sum('sextant_outbox_store_errors_total') > 0);
    // Delivery does not wait for Redis; what is still pending stays buffered.
    expect(calls.some((n) => n.idempotencyKey === 'live:1')).toBe(true);
    expect(store.unwritten).toBeGreaterThanOrEqual(2);

    await startRedis();
    await until('the buffer to be written after Redis came back', () => store.unwritten === 0);
    expect(await redisCounts(prefix)).toEqual({ entries: 3, due: 3 }); // p:1 p:2 q:1; live:1 was delivered
    await rt.stop();

    const delivered = script('redis-ok-2', () => ({ ok: true }));
    const clock2 = new FakeClock();
    const rt2 = await startRuntime(clock2, new RedisOutboxStore({ url: `redis://127.0.0.1:${port}`, prefix }), 'redis-ok-2');
    await runUntilDelivered(rt2, clock2, 30_000);
    expect(delivered.map((n) => n.idempotencyKey).sort()).toEqual(['p:1', 'p:2', 'q:1']);
  });

  it('skips malformed entries found in Redis with a counter', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    const prefix = 'test3:outbox:';
    const client = createClient({ url: `redis://127.0.0.1:${port}` });
    await client.connect();
    const t0 = Date.UTC(2026, 0, 1);
    const good = { notifier: 'scripted/x', key: 'g:1', incidentId: 'g', sequence: 1, update: incidentUpdate('g', 1), enqueuedAt: t0, attempts: 0, nextAttemptAt: t0 };
    await client.hSet(`${prefix}entries`, { 'scripted/x g:1': JSON.stringify(good), 'scripted/x bad:1': '{not json', 'scripted/x bad:2': JSON.stringify({ ...good, key: 'bad:2', sequence: 'NaN' }) });
    client.destroy();
    const delivered = script('redis-ok-3', () => ({ ok: true }));
    const clock = new FakeClock(t0 + 1000);
    const rt = await startRuntime(clock, new RedisOutboxStore({ url: `redis://127.0.0.1:${port}`, prefix }), 'redis-ok-3');
    expect(rt.telemetry.value('sextant_outbox_records_skipped_total')).toBe(2);
    await runUntilDelivered(rt, clock, 5000);
    expect(delivered.map((n) => n.idempotencyKey)).toEqual(['g:1']);
  });
});
