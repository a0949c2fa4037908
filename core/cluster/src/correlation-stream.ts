/**
 * Every member's anomalies and events into the group's one correlation stream
 * (`{<group>:corr}:stream`, docs/architecture.md "Scale-out"), where the leader's correlators read
 * them. An entry is `k` = `a` (anomaly) or `e` (event), `m` = the member that raised it, `d` = JSON.
 * Anomalies carry the group-wide series id (the same on every member), so the correlator's
 * per-series state (confirmation, dedup) means the same series whoever raised it.
 *
 * Appends are asynchronous and in order. While Redis is unreachable, entries wait in a bounded
 * buffer (`maxBuffered`); beyond it the oldest are dropped and counted. The stream itself is
 * trimmed by the leader after each commit (MINID of what it applied) and capped at `maxLength`.
 */
import { formatError, type Anomaly, type Logger } from '@sextant/plugin-api';
import type { StoredEvent } from '@sextant/runtime';
import type { RedisLink } from './redis-link.js';

export interface CorrelationStreamOptions {
  readonly link: RedisLink;
  readonly stream: string;
  readonly memberId: string;
  /** Entries waiting for Redis at most (default 10,000). */
  readonly maxBuffered?: number;
  /** Approximate cap of the stream (default 100,000 entries). */
  readonly maxLength?: number;
  readonly logger?: Logger;
}

export type StreamItem = { readonly kind: 'a'; readonly anomaly: Anomaly } | { readonly kind: 'e'; readonly event: StoredEvent };

export class CorrelationStream {
  readonly counters = { appended: 0, dropped: 0, failures: 0 };
  private queue: string[][] = [];
  private flushing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failing = false;
  private closed = false;
  private readonly maxBuffered: number;
  private readonly maxLength: number;

  constructor(private readonly options: CorrelationStreamOptions) {
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.maxLength = options.maxLength ?? 100_000;
  }

  get pending(): number {
    return this.queue.length;
  }

  publishAnomaly(anomaly: Anomaly): void {
    this.push('a', JSON.stringify(anomaly));
  }

  publishEvent(event: StoredEvent): void {
    this.push('e', JSON.stringify(event));
  }

  private push(kind: 'a' | 'e', data: string): void {
    if (this.closed) return;
    const { stream, memberId } = this.options;
    this.queue.push(['XADD', stream, 'MAXLEN', '~', String(this.maxLength), '*', 'k', kind, 'm', memberId, 'd', data]);
    if (this.queue.length > this.maxBuffered) {
      const over = this.queue.length - this.maxBuffered;
      this.queue.splice(0, over);
      this.counters.dropped += over;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.flushing || this.retry || this.queue.length === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (!this.failing) this.schedule();
    });
  }

  /** Sends what is queued, in order (node-redis pipelines the commands of one tick). */
  private async flush(): Promise<void> {
    const batch = this.queue.slice(0, 500);
    const { link, stream } = this.options;
    const results = await Promise.allSettled(batch.map((cmd) => link.call(stream, cmd)));
    // Entries are removed up to the first failure; the rest are sent again, in order.
    let ok = 0;
    while (ok < results.length && results[ok].status === 'fulfilled') ok++;
    this.queue.splice(0, ok);
    this.counters.appended += ok;
    if (ok < results.length) {
      this.counters.failures++;
      const reason = (results[ok] as PromiseRejectedResult).reason;
      if (!this.failing) this.options.logger?.warn(`cluster: could not append to the correlation stream: ${formatError(reason)}; ${this.queue.length} anomalies/events wait (at most ${this.maxBuffered})`);
      this.failing = true;
      if (!this.closed) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.failing = false;
          this.schedule();
        }, 500);
        this.retry.unref();
      }
    } else if (this.failing) {
      this.failing = false;
      this.options.logger?.info('cluster: the correlation stream is writable again');
    }
  }

  /** Waits up to `graceMs` for what is queued to be appended, then stops. */
  async close(graceMs = 2000): Promise<void> {
    const end = Date.now() + graceMs;
    while (this.queue.length > 0 && Date.now() < end && this.options.link.isReady) {
      this.schedule();
      await (this.flushing ?? new Promise((r) => setTimeout(r, 50)));
    }
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.queue.length > 0) {
      this.counters.dropped += this.queue.length;
      this.options.logger?.warn(`cluster: ${this.queue.length} anomalies/events not appended to the correlation stream before shutdown`);
      this.queue = [];
    }
  }
}

/** Decodes one stream entry's fields; undefined for a damaged one. */
export function decodeStreamItem(fields: ReadonlyMap<string, string>): StreamItem | undefined {
  const k = fields.get('k');
  const d = fields.get('d');
  if (!d || (k !== 'a' && k !== 'e')) return undefined;
  try {
    const value = JSON.parse(d) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null) return undefined;
    if (k === 'a') {
      if (typeof value.seriesId !== 'number' || typeof value.timestamp !== 'number' || typeof value.metric !== 'string') return undefined;
      return { kind: 'a', anomaly: value as unknown as Anomaly };
    }
    if (typeof value.type !== 'string' || typeof value.timestamp !== 'number') return undefined;
    return { kind: 'e', event: value as unknown as StoredEvent };
  } catch {
    return undefined;
  }
}
