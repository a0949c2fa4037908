/**
 * The embedded outbox store: an append-only journal of JSON lines in `<dataDir>/outbox/outbox.jsonl`.
 *
 * Records, one per line:
 *   {"op":"header","format":"sextant-outbox-journal","version":1}
 *   {"op":"enqueue","entry":{...OutboxEntry}}                       fsynced before enqueue() returns
 *   {"op":"attempt","id":"<notifier> <key>","attempts":3,"nextAttemptAt":1767225600000}
 *   {"op":"settle","id":"<notifier> <key>","how":"delivered"}
 *
 * Replay folds the records in order; a line that is not valid JSON or not a known record (a line
 * torn by a crash mid-write, a hand edit) is skipped and reported, never fatal. Only enqueue records
 * are fsynced: a lost attempt or settle record costs a stale attempt count or one duplicate
 * delivery after a crash, never a lost notification.
 *
 * Compaction rewrites the live entries to `outbox.jsonl.tmp`, fsyncs it and renames it over the
 * journal (atomic on POSIX), at load and whenever settled records outnumber live ones and exceed
 * `compactAfter`. One process per data directory: two runtimes on the same dataDir would deliver
 * everything twice.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatError } from '@sextant/plugin-api';
import { invalidEntryReason, outboxEntryId, type OutboxEntry, type OutboxSettlement } from './outbox-entry.js';
import type { OutboxStore, OutboxStoreReporter } from './outbox-store.js';

export interface JournalOutboxStoreOptions {
  /** Rewrite the journal once this many records describe settled entries (default 1000). */
  readonly compactAfter?: number;
}

const HEADER = JSON.stringify({ op: 'header', format: 'sextant-outbox-journal', version: 1 });

const silentReporter: OutboxStoreReporter = { failed() {}, recovered() {}, skipped() {} };

export class JournalOutboxStore implements OutboxStore {
  readonly durable = true;
  readonly description: string;
  readonly file: string;
  private readonly tmpFile: string;
  private readonly compactAfter: number;
  private fd: number | undefined;
  private reporter: OutboxStoreReporter = silentReporter;
  private readonly live = new Map<string, OutboxEntry>();
  /** Records in the journal file (header excluded). */
  private records = 0;
  /** Text that could not be written yet (disk full, I/O error), retried before the next write. */
  private backlog = '';
  private closed = false;

  /** `dir` is the outbox folder (`<dataDir>/outbox`); it is created when missing. */
  constructor(readonly dir: string, options: JournalOutboxStoreOptions = {}) {
    this.file = join(dir, 'outbox.jsonl');
    this.tmpFile = `${this.file}.tmp`;
    this.description = `journal ${this.file}`;
    this.compactAfter = Math.max(1, options.compactAfter ?? 1000);
  }

  get unwritten(): number {
    return this.backlog ? this.backlog.split('\n').filter(Boolean).length : 0;
  }

  async load(reporter: OutboxStoreReporter): Promise<OutboxEntry[]> {
    this.reporter = reporter;
    mkdirSync(this.dir, { recursive: true });
    rmSync(this.tmpFile, { force: true });
    let clean = false;
    if (existsSync(this.file)) {
      const text = readFileSync(this.file, 'utf8');
      clean = this.replay(text) && text.endsWith('\n');
    }
    // A journal with settled or unreadable records is rewritten at load; that also cuts off a
    // line torn by a crash, so the next append starts on a fresh line.
    if (clean || !this.compact()) this.fd = openSync(this.file, 'a');
    return [...this.live.values()];
  }

  /** Folds the journal into `live`; true when every record was usable and none is settled. */
  private replay(text: string): boolean {
    let usable = 0;
    let header = false;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.reporter.skipped(`unparseable line (${line.length} bytes), probably torn by a crash`);
        continue;
      }
      if (typeof record !== 'object' || record === null) {
        this.reporter.skipped('record is not an object');
        continue;
      }
      switch (record.op) {
        case 'header':
          if (record.version !== 1) this.reporter.skipped(`header of unknown journal version ${String(record.version)}`);
          else header = true;
          break;
        case 'enqueue': {
          const reason = invalidEntryReason(record.entry);
          if (reason) this.reporter.skipped(`enqueue record: ${reason}`);
          else {
            const entry = record.entry as OutboxEntry;
            this.live.set(outboxEntryId(entry), entry);
            usable++;
          }
          break;
        }
        case 'attempt': {
          const entry = typeof record.id === 'string' ? this.live.get(record.id) : undefined;
          if (entry && Number.isInteger(record.attempts) && Number.isFinite(record.nextAttemptAt)) {
            entry.attempts = record.attempts as number;
            entry.nextAttemptAt = record.nextAttemptAt as number;
          }
          usable++;
          break;
        }
        case 'settle':
          if (typeof record.id === 'string') this.live.delete(record.id);
          usable++;
          break;
        default:
          this.reporter.skipped(`unknown record op ${JSON.stringify(record.op)}`);
      }
    }
    this.records = usable;
    return header && usable === this.live.size && text.split('\n').filter((l) => l.trim() !== '').length === usable + 1;
  }

  enqueue(entries: readonly OutboxEntry[]): void {
    if (this.closed || entries.length === 0) return;
    let text = '';
    for (const entry of entries) {
      this.live.set(outboxEntryId(entry), entry);
      text += `${JSON.stringify({ op: 'enqueue', entry })}\n`;
    }
    this.append(text, entries.length, 'enqueue', true);
  }

  attempted(entry: OutboxEntry): void {
    if (this.closed) return;
    const line = JSON.stringify({ op: 'attempt', id: outboxEntryId(entry), attempts: entry.attempts, nextAttemptAt: entry.nextAttemptAt });
    this.append(`${line}\n`, 1, 'attempt', false);
  }

  settle(entry: OutboxEntry, how: OutboxSettlement): void {
    if (this.closed) return;
    const id = outboxEntryId(entry);
    this.live.delete(id);
    this.append(`${JSON.stringify({ op: 'settle', id, how })}\n`, 1, 'settle', false);
    this.maintain();
  }

  maintain(): void {
    if (this.closed) return;
    if (this.backlog) this.append('', 0, 'retry', true);
    const settled = this.records - this.live.size;
    if (settled >= this.compactAfter && settled > this.live.size) this.compact();
  }

  private append(text: string, records: number, op: string, sync: boolean): void {
    this.records += records;
    const hadBacklog = this.backlog !== '';
    // A failed write may have left a partial line: start the retried text on a fresh line.
    const out = hadBacklog ? `\n${this.backlog}${text}` : text;
    if (out === '') return;
    try {
      if (this.fd === undefined) this.fd = openSync(this.file, 'a');
      writeSync(this.fd, out);
      if (sync) fsyncSync(this.fd);
      this.backlog = '';
      if (hadBacklog) this.reporter.recovered();
    } catch (e) {
      this.backlog = hadBacklog ? this.backlog + text : text;
      this.reporter.failed(op, e);
    }
  }

  /** Rewrites the journal with only the live entries. Returns false when it could not. */
  private compact(): boolean {
    try {
      let text = `${HEADER}\n`;
      for (const entry of this.live.values()) text += `${JSON.stringify({ op: 'enqueue', entry })}\n`;
      const tmp = openSync(this.tmpFile, 'w');
      try {
        writeSync(tmp, text);
        fsyncSync(tmp);
      } finally {
        closeSync(tmp);
      }
      renameSync(this.tmpFile, this.file);
      this.syncDirectory();
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = openSync(this.file, 'a');
      this.records = this.live.size;
      // Everything live is in the new file, including what the backlog held.
      this.backlog = '';
      return true;
    } catch (e) {
      this.reporter.failed('compact', e);
      rmSync(this.tmpFile, { force: true });
      return false;
    }
  }

  private syncDirectory(): void {
    try {
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch {
      // some filesystems refuse fsync on a directory; the rename is still atomic
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.backlog) this.append('', 0, 'retry', true);
    this.closed = true;
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch (e) {
        this.reporter.failed('close', new Error(formatError(e)));
      }
      this.fd = undefined;
    }
  }
}
