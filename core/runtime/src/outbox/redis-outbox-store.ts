/**
 * The outbox in Redis, for `sextant server --store redis://...` (docs/architecture.md, "Notification delivery").
 *
 * Layout (prefix default `sextant:outbox:`):
 *   <prefix>entries   hash        field `<notifier> <key>` -> the entry as JSON (attempts, nextAttemptAt included)
 *   <prefix>due       sorted set  member `<notifier> <key>`, score = next attempt time (ms), for tools and a
 *                                 future shared scheduler
 *
 * Writes are asynchronous: changes are marked dirty and flushed in one MULTI per burst. While Redis
 * is unavailable the dirty set is the in-memory buffer: it keeps only the latest state per entry
 * (an entry enqueued and delivered during the outage costs nothing), is retried with capped backoff
 * and when the connection comes back, and every failure is reported. The dispatcher keeps
 * delivering from memory meanwhile, so a Redis outage delays durability, never delivery. What
 * is not yet written when the process dies is lost with it: a window of milliseconds in normal
 * operation, the whole outage while Redis is down.
 *
 * `load()` waits until Redis answers (updates that arrive meanwhile are buffered): delivering
 * before the stored entries are known could overtake an older update of the same incident.
 *
 * One server owns one prefix: two servers loading the same prefix would both deliver everything.
 * node-redis (`redis` on npm) is imported when the store loads, so distributions without Redis
 * do not need it.
 */
import { invalidEntryReason, outboxEntryId, type OutboxEntry, type OutboxSettlement } from './outbox-entry.js';
import type { OutboxStore, OutboxStoreReporter } from './outbox-store.js';

export interface RedisOutboxStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...`. */
  readonly url: string;
  /** Key prefix (default `sextant:outbox:`). */
  readonly prefix?: string;
  /** Largest delay between flush retries while Redis is unavailable, ms (default 5000). */
  readonly maxRetryDelayMs?: number;
}

/** The node-redis calls this store uses (so tests and callers can see what is needed). */
interface RedisConnection {
  connect(): Promise<unknown>;
  on(event: 'error' | 'ready', listener: (arg?: unknown) => void): unknown;
  hGetAll(key: string): Promise<Record<string, string>>;
  multi(): RedisMulti;
  close(): Promise<void>;
  destroy(): void;
  readonly isReady: boolean;
}
interface RedisMulti {
  hSet(key: string, field: string, value: string): RedisMulti;
  hDel(key: string, field: string): RedisMulti;
  zAdd(key: string, member: { score: number; value: string }): RedisMulti;
  zRem(key: string, member: string): RedisMulti;
  exec(): Promise<unknown>;
}

const silentReporter: OutboxStoreReporter = { failed() {}, recovered() {}, skipped() {} };

export class RedisOutboxStore implements OutboxStore {
  readonly durable = true;
  readonly description: string;
  private readonly entriesKey: string;
  private readonly dueKey: string;
  private readonly maxRetryDelayMs: number;
  private client: RedisConnection | undefined;
  private reporter: OutboxStoreReporter = silentReporter;
  /** Latest state per entry id not yet in Redis: the entry to write, or null to delete. */
  private dirty = new Map<string, OutboxEntry | null>();
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private failing = false;
  private loaded = false;
  private closed = false;

  constructor(private readonly options: RedisOutboxStoreOptions) {
    const prefix = options.prefix ?? 'sextant:outbox:';
    this.entriesKey = `${prefix}entries`;
    this.dueKey = `${prefix}due`;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
    this.description = `redis ${redactUrl(options.url)} (${prefix}*)`;
  }

  get unwritten(): number {
    return this.dirty.size;
  }

  async load(reporter: OutboxStoreReporter): Promise<OutboxEntry[]> {
    this.reporter = reporter;
    const { createClient } = await import('redis');
    const client = createClient({
      url: this.options.url,
      // Commands fail at once while disconnected; the dirty set is the buffer, not node-redis' queue.
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 6), this.maxRetryDelayMs), connectTimeout: 5000 },
    }) as unknown as RedisConnection;
    this.client = client;
    let down = false;
    client.on('error', (e) => {
      if (!down) reporter.failed('connect', e);
      down = true;
    });
    client.on('ready', () => {
      down = false;
      if (this.loaded) this.scheduleFlush();
    });
    await client.connect();
    let raw: Record<string, string> = {};
    for (;;) {
      try {
        raw = await client.hGetAll(this.entriesKey);
        break;
      } catch (e) {
        if (this.closed) return [];
        reporter.failed('load', e);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const entries: OutboxEntry[] = [];
    for (const [id, json] of Object.entries(raw)) {
      let value: unknown;
      try {
        value = JSON.parse(json);
      } catch {
        reporter.skipped(`${this.entriesKey} field ${id}: not JSON`);
        continue;
      }
      const reason = invalidEntryReason(value);
      if (reason) reporter.skipped(`${this.entriesKey} field ${id}: ${reason}`);
      else if (!this.dirty.has(id)) entries.push(value as OutboxEntry);
    }
    this.loaded = true;
    this.scheduleFlush();
    return entries;
  }

  enqueue(entries: readonly OutboxEntry[]): void {
    for (const entry of entries) this.mark(outboxEntryId(entry), entry);
  }

  attempted(entry: OutboxEntry): void {
    this.mark(outboxEntryId(entry), entry);
  }

  settle(entry: OutboxEntry, _how: OutboxSettlement): void {
    this.mark(outboxEntryId(entry), null);
  }

  maintain(): void {
    if (this.dirty.size > 0) this.scheduleFlush();
  }

  private mark(id: string, state: OutboxEntry | null): void {
    if (this.closed) return;
    this.dirty.delete(id); // re-insert so the Map's order follows the latest change
    this.dirty.set(id, state);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed || !this.loaded || this.retryTimer) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Writes the dirty set in one MULTI; on failure puts back what was not superseded meanwhile. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.dirty.size === 0 || !this.client) return Promise.resolve();
    const batch = this.dirty;
    this.dirty = new Map();
    this.flushing = (async () => {
      try {
        const multi = this.client!.multi();
        for (const [id, entry] of batch) {
          if (entry) multi.hSet(this.entriesKey, id, JSON.stringify(entry)).zAdd(this.dueKey, { score: entry.nextAttemptAt, value: id });
          else multi.hDel(this.entriesKey, id).zRem(this.dueKey, id);
        }
        await multi.exec();
        this.retryDelayMs = 0;
        if (this.failing) {
          this.failing = false;
          this.reporter.recovered();
        }
      } catch (e) {
        for (const [id, entry] of batch) if (!this.dirty.has(id)) this.dirty.set(id, entry);
        this.failing = true;
        this.reporter.failed(batch.values().next().value === null ? 'settle' : 'enqueue', e);
        this.retryDelayMs = Math.min(this.maxRetryDelayMs, Math.max(100, this.retryDelayMs * 2));
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.scheduleFlush();
          }, this.retryDelayMs);
          this.retryTimer.unref();
        }
      } finally {
        this.flushing = undefined;
      }
      if (this.dirty.size > 0 && !this.failing) this.scheduleFlush();
    })();
    return this.flushing;
  }

  /** Tries a last flush (bounded to `graceMs`) and disconnects. Safe twice. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.client?.isReady && this.loaded) {
      await withGrace(this.flushing ?? Promise.resolve(), graceMs);
      if (this.dirty.size > 0) await withGrace(this.flush(), graceMs);
    }
    this.closed = true;
    if (this.dirty.size > 0) this.reporter.failed('close', new Error(`${this.dirty.size} outbox change(s) not written to Redis before shutdown`));
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (client.isReady) await client.close();
      else client.destroy();
    } catch {
      client.destroy();
    }
  }
}

async function withGrace(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis (unparseable url)';
  }
}
