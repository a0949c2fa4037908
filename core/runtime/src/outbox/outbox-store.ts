/**
 * Where the outbox keeps its entries so that a crash or restart loses nothing (issue 8).
 *
 * The dispatcher keeps the working set in memory and tells the store about every change; the store
 * makes it durable. Implementations: {@link MemoryOutboxStore} (no durability, when there is no
 * dataDir), {@link JournalOutboxStore} (embedded default, an fsynced JSON-lines journal) and
 * {@link RedisOutboxStore} (`sextant server --store redis://...`).
 *
 * Contract:
 * - `load()` is called once, before anything else, and returns every entry not yet settled.
 * - `enqueue()` makes new entries durable before it returns where the medium allows it (the
 *   journal fsyncs); a remote store buffers in memory and retries when it cannot write, and
 *   reports through the reporter. None of the recording methods throws.
 * - `attempted()` is best effort: losing one means a restart reuses an older attempt count.
 * - `settle()` removes an entry. Losing a settle record in a crash means the entry is delivered
 *   again after the restart (at-least-once; receivers drop duplicates by idempotency key).
 * - `close()` writes what it can and releases files and connections; safe twice.
 */
import type { OutboxEntry, OutboxSettlement } from './outbox-entry.js';

/** How a store tells the dispatcher about trouble (counted and shown in the log). */
export interface OutboxStoreReporter {
  /** A write or read failed; `op` is `enqueue`, `attempt`, `settle`, `load` or `compact`. */
  failed(op: string, error: unknown): void;
  /** Writes that failed before went through again. */
  recovered(): void;
  /** A stored record could not be used (torn line, bad JSON, missing fields) and was skipped. */
  skipped(reason: string): void;
}

export interface OutboxStore {
  /** One line for the start log: `journal /var/lib/sextant/outbox/outbox.jsonl`. */
  readonly description: string;
  /** False for the memory store: entries are lost on restart. */
  readonly durable: boolean;
  load(reporter: OutboxStoreReporter): Promise<OutboxEntry[]>;
  enqueue(entries: readonly OutboxEntry[]): void;
  attempted(entry: OutboxEntry): void;
  settle(entry: OutboxEntry, how: OutboxSettlement): void;
  /** Periodic housekeeping (compaction, retry of buffered writes); called by the dispatcher's sweep. */
  maintain?(): void;
  /** Writes not yet on durable storage (buffered while the medium is unavailable). */
  readonly unwritten?: number;
  close(): Promise<void>;
}
