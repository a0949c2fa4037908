/**
 * Outbox figures for tools/bench: `run()` returns machine-readable numbers.
 * - journal_enqueues_per_s: single-entry enqueues, each fsynced (the durable path of every incident update)
 * - journal_batch100_entries_per_s: entries/s when one update fans out to 100 notifiers (one fsync per update)
 * - journal_replay_ms_10k: load() of a journal holding 10,000 live entries (restart time)
 * - journal_bytes_per_entry: journal size per live entry for a small incident
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentUpdate } from '@sextant/plugin-api';
import { JournalOutboxStore } from './journal-outbox-store.js';
import type { OutboxEntry } from './outbox-entry.js';
import type { OutboxStoreReporter } from './outbox-store.js';

const reporter: OutboxStoreReporter = { failed() {}, recovered() {}, skipped() {} };

function entry(i: number, notifier = 'webhook/ops'): OutboxEntry {
  const update: IncidentUpdate = {
    change: 'updated',
    sequence: i,
    incident: {
      id: `inc-${i % 50}`, title: 'checkout latency p90 rose 8x after deploy of payments 2.4.1', status: 'open', impact: 'business', severity: 'critical',
      openedAt: 1_767_225_600_000, updatedAt: 1_767_225_600_000 + i, entities: ['service:checkout', 'service:payments'], anomalyIds: ['a1', 'a2'], eventIds: ['e1'],
      causes: [{ entity: 'service:payments', score: 0.8, summary: 'deployed 2 minutes before', evidence: ['deploy 2.4.0 -> 2.4.1'] }],
      timeline: [{ timestamp: 1_767_225_600_000, kind: 'anomaly', message: 'latency 8x above normal' }], suppressed: [],
    },
  };
  return { notifier, key: `inc-${i % 50}:${i}`, incidentId: `inc-${i % 50}`, sequence: i, update, enqueuedAt: 1_767_225_600_000, attempts: 0, nextAttemptAt: 1_767_225_600_000 };
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-outbox-bench-'));
  try {
    const single = new JournalOutboxStore(join(dir, 'single'), { compactAfter: 1_000_000 });
    await single.load(reporter);
    const n = 500;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) single.enqueue([entry(i)]);
    const singleMs = performance.now() - t0;
    await single.close();

    const fan = new JournalOutboxStore(join(dir, 'fan'), { compactAfter: 1_000_000 });
    await fan.load(reporter);
    const updates = 50;
    t0 = performance.now();
    for (let i = 0; i < updates; i++) fan.enqueue(Array.from({ length: 100 }, (_, k) => entry(i, `webhook/n${k}`)));
    const fanMs = performance.now() - t0;
    await fan.close();

    const big = new JournalOutboxStore(join(dir, 'big'), { compactAfter: 1_000_000 });
    await big.load(reporter);
    for (let i = 0; i < 10_000; i += 500) big.enqueue(Array.from({ length: 500 }, (_, k) => entry(i + k)));
    await big.close();
    const bytes = statSync(join(dir, 'big', 'outbox.jsonl')).size;
    const reopened = new JournalOutboxStore(join(dir, 'big'));
    t0 = performance.now();
    const live = await reopened.load(reporter);
    const replayMs = performance.now() - t0;
    await reopened.close();
    if (live.length !== 10_000) throw new Error(`replay returned ${live.length} entries`);

    return {
      journal_enqueues_per_s: Math.round((n / singleMs) * 1000),
      journal_batch100_entries_per_s: Math.round(((updates * 100) / fanMs) * 1000),
      journal_replay_ms_10k: Math.round(replayMs),
      journal_bytes_per_entry: Math.round(bytes / 10_000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
