/**
 * The embedded durable outbox: a journal in `<dataDir>/outbox/` survives stops and crashes, and
 * torn or malformed journal records are skipped and counted, never fatal.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { JournalOutboxStore, type OutboxEntry, type RuntimeConfigInput } from '../src/index.js';
import { TestReceiver, incidentUpdate, notifierPlugin, runFor, runUntilDelivered, script, sequencesByIncident } from './outbox-support.js';

const dirs: string[] = [];
const receivers: TestReceiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sextant-outbox-'));
  dirs.push(d);
  return d;
}

async function receiver(): Promise<TestReceiver> {
  const r = new TestReceiver();
  await r.start();
  receivers.push(r);
  return r;
}

async function start(clock: FakeClock, config: RuntimeConfigInput): Promise<TestRuntime> {
  const t = await startTestRuntime({ plugins: [notifierPlugin], clock, config });
  expect(t.problems).toEqual([]);
  await t.runtime.dispatcher.ready();
  return t;
}

const journalLines = (dir: string) => readFileSync(join(dir, 'outbox', 'outbox.jsonl'), 'utf8').split('\n').filter(Boolean);

describe('journal outbox', () => {
  it('has the update on disk before publishIncident returns', async () => {
    const dir = dataDir();
    script('never', () => new Promise(() => {}));
    const t = await start(new FakeClock(), { dataDir: dir, notifiers: { 'scripted/x': { script: 'never' } } });
    try {
      t.runtime.pipeline.publishIncident(incidentUpdate('inc-d', 1));
      const lines = journalLines(dir).map((l) => JSON.parse(l) as { op: string; entry?: OutboxEntry });
      expect(lines.filter((l) => l.op === 'enqueue').map((l) => l.entry!.key)).toEqual(['inc-d:1']);
    } finally {
      await t.runtime.dispatcher.close(10);
      await t.stop();
    }
  });

  it('delivers after a restart what a stopped runtime could not, exactly once and in order', async () => {
    const dir = dataDir();
    const r = await receiver();
    await r.setMode('fail-500');
    const config = { dataDir: dir, notifiers: { 'http-post/ops': { url: r.url } }, notifications: { backoff: { initial: '1s', max: '5s' } } };
    const first = await start(new FakeClock(), config);
    for (const [id, seq] of [['a', 1], ['b', 1], ['a', 2], ['b', 2], ['a', 3]] as const) first.runtime.pipeline.publishIncident(incidentUpdate(id, seq));
    await runFor(first.runtime, first.runtime.clock as FakeClock, 20_000);
    expect(r.requests.length).toBeGreaterThan(2);
    expect(first.runtime.dispatcher.pending).toBe(5);
    await first.stop();

    await r.setMode('ok');
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 5));
    const second = await start(clock, config);
    try {
      expect(second.runtime.telemetry.value('sextant_outbox_restored_total')).toBe(5);
      await runUntilDelivered(second.runtime, clock, 60_000);
      expect(second.runtime.dispatcher.pending).toBe(0);
      expect(r.accepted.map((x) => x.key).sort()).toEqual(['a:1', 'a:2', 'a:3', 'b:1', 'b:2']);
      expect(r.duplicates).toEqual([]);
      expect(sequencesByIncident(r.accepted)).toEqual(new Map([['a', [1, 2, 3]], ['b', [1, 2]]]));
      // Attempt counts survive the restart: the receiver sees attempt > 1 for what failed before.
      expect(r.accepted.find((x) => x.key === 'a:1')!.attempt).toBeGreaterThan(1);
    } finally {
      await second.stop();
    }
  });

  it('loses nothing when the runtime is dropped without stop() (a crash) mid-delivery', async () => {
    const dir = dataDir();
    const failing = script('crash-failing', () => ({ ok: false, retryable: true, error: 'HTTP 503' }));
    const crashedClock = new FakeClock();
    const crashed = await start(crashedClock, { dataDir: dir, notifiers: { 'scripted/x': { script: 'crash-failing' } } });
    crashed.runtime.pipeline.publishIncident(incidentUpdate('c', 1));
    crashed.runtime.pipeline.publishIncident(incidentUpdate('c', 2));
    crashed.runtime.pipeline.publishIncident(incidentUpdate('d', 1));
    await runFor(crashed.runtime, crashedClock, 3000);
    expect(failing.length).toBeGreaterThan(0);
    // No stop(), no close(): its timers never run again and its journal is left as a crash leaves it.

    const delivered = script('crash-ok', () => ({ ok: true }));
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 1));
    const t = await start(clock, { dataDir: dir, notifiers: { 'scripted/x': { script: 'crash-ok' } } });
    try {
      await runUntilDelivered(t.runtime, clock, 30_000);
      expect(delivered.map((n) => n.idempotencyKey).sort()).toEqual(['c:1', 'c:2', 'd:1']);
      expect(delivered.filter((n) => n.update.incident.id === 'c').map((n) => n.update.sequence)).toEqual([1, 2]);
    } finally {
      await t.stop();
      await crashed.stop();
    }
  });

  it('expires on restart what is older than the expiry, counted', async () => {
    const dir = dataDir();
    script('exp-fail', () => ({ ok: false, retryable: true, error: 'down' }));
    const config = (name: string) => ({ dataDir: dir, notifiers: { 'scripted/x': { script: name } }, notifications: { expiry: '1h' } });
    const first = await start(new FakeClock(), config('exp-fail'));
    first.runtime.pipeline.publishIncident(incidentUpdate('old', 1));
    await first.stop();
    const calls = script('exp-ok', () => ({ ok: true }));
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 2));
    const second = await start(clock, config('exp-ok'));
    try {
      await runFor(second.runtime, clock, 11_000);
      expect(calls).toEqual([]);
      expect(second.runtime.telemetry.value('sextant_notifications_expired_total', { notifier: 'scripted/x' })).toBe(1);
      expect(second.runtime.dispatcher.pending).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it('skips torn, malformed and unknown journal records with a counter and delivers the valid ones', async () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'outbox'), { recursive: true });
    const t0 = Date.UTC(2026, 0, 1);
    const entry = (key: string, seq: number) => ({ notifier: 'scripted/x', key, incidentId: 'j', sequence: seq, update: incidentUpdate('j', seq), enqueuedAt: t0, attempts: 2, nextAttemptAt: t0 });
    writeFileSync(
      join(dir, 'outbox', 'outbox.jsonl'),
      [
        JSON.stringify({ op: 'header', format: 'sextant-outbox-journal', version: 1 }),
        JSON.stringify({ op: 'enqueue', entry: entry('j:1', 1) }),
        'this is not json',
        JSON.stringify({ op: 'launch-missiles' }),
        JSON.stringify({ op: 'enqueue', entry: { ...entry('j:2', 2), sequence: 'two' } }),
        JSON.stringify({ op: 'settle', id: 'scripted/x nope:1', how: 'delivered' }),
        JSON.stringify({ op: 'enqueue', entry: entry('j:3', 3) }),
        '{"op":"enqueue","entry":{"notifier":"scripted/x","key":"j:4"', // torn by a crash
      ].join('\n'),
    );
    const calls = script('journal-ok', () => ({ ok: true }));
    const clock = new FakeClock(t0 + 1000);
    const t = await start(clock, { dataDir: dir, notifiers: { 'scripted/x': { script: 'journal-ok' } } });
    try {
      expect(t.runtime.telemetry.value('sextant_outbox_records_skipped_total')).toBe(4);
      await runUntilDelivered(t.runtime, clock, 10_000);
      expect(calls.map((c) => [c.idempotencyKey, c.attempt])).toEqual([['j:1', 3], ['j:3', 1 + 2]]);
    } finally {
      await t.stop();
    }
    // Compacted at load: a clean journal with only what is still live.
    expect(journalLines(dir).every((l) => JSON.parse(l))).toBeTruthy();
  });

  it('keeps delivering from memory, with a counter, when the outbox directory cannot be used', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'outbox'), 'a file where the outbox directory should be');
    const calls = script('no-dir', () => ({ ok: true }));
    const clock = new FakeClock();
    const t = await start(clock, { dataDir: dir, notifiers: { 'scripted/x': { script: 'no-dir' } } });
    try {
      t.runtime.pipeline.publishIncident(incidentUpdate('m', 1));
      await runUntilDelivered(t.runtime, clock, 5000);
      expect(calls.map((c) => c.idempotencyKey)).toEqual(['m:1']);
      expect(t.runtime.telemetry.sum('sextant_outbox_store_errors_total')).toBeGreaterThanOrEqual(2);
      expect(t.runtime.telemetry.value('sextant_outbox_store_errors_total', { op: 'load' })).toBe(1);
    } finally {
      await t.stop();
    }
  });

  it('compacts the journal once settled records pile up, keeping every live entry', async () => {
    const dir = join(dataDir(), 'outbox');
    const reporter = { failed: (op: string, e: unknown) => { throw new Error(`${op}: ${String(e)}`); }, recovered() {}, skipped() {} };
    const store = new JournalOutboxStore(dir, { compactAfter: 10 });
    await store.load(reporter);
    const entries: OutboxEntry[] = Array.from({ length: 40 }, (_, i) => ({
      notifier: 'n', key: `k:${i}`, incidentId: 'k', sequence: i, update: incidentUpdate('k', i), enqueuedAt: 1, attempts: 0, nextAttemptAt: 1,
    }));
    store.enqueue(entries);
    for (const e of entries.slice(0, 35)) {
      e.attempts = 1;
      store.attempted(e);
      store.settle(e, 'delivered');
    }
    await store.close();
    expect(readFileSync(join(dir, 'outbox.jsonl'), 'utf8').split('\n').filter(Boolean).length).toBeLessThan(40);
    const reopened = new JournalOutboxStore(dir);
    const live = await reopened.load(reporter);
    await reopened.close();
    expect(live.map((e) => e.key)).toEqual(['k:35', 'k:36', 'k:37', 'k:38', 'k:39']);
  });
});
