/**
 * The receiving side of partitioned ingest: what agents send to any member is split by partition
 * and appended to each partition's Redis Stream, one entry per partition per batch, carrying this
 * member's id and a batch sequence (`s`, `q`) so the owner can drop an entry appended twice, and
 * the agent's source id (`o`) for the owner's per-source counters.
 *
 * Order: entries of one partition are appended in the order the batches arrived (one promise
 * chain per partition), so a sequence is never overtaken by a later one.
 *
 * Redis unavailable: appends are retried with capped backoff while up to `maxBufferedSamples`
 * samples wait in memory; a batch that would exceed the bound is dropped and counted
 * (`sextant_cluster_samples_dropped_total{reason="buffer_full"}`). Until the wait is over, the
 * batch's promise is pending, which holds the IngestServer's queue and slows agents down first.
 */
import { randomBytes } from 'node:crypto';
import type { Logger, SampleBatch, SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';
import type { ClusterKeys } from './cluster-keys.js';
import type { GroupSeriesRegistry } from './group-series-registry.js';
import type { LocalSeriesMap } from './local-series-map.js';
import type { RedisLink } from './redis-link.js';
import { encodeSamples } from './sample-entry.js';

export interface AppenderCounters {
  /** Samples appended to partition streams. */
  appended: number;
  /** Entries appended. */
  entries: number;
  /** Samples dropped because the buffer bound was hit, or at shutdown while Redis was down. */
  droppedBufferFull: number;
  droppedShutdown: number;
  /** Append attempts that failed and were retried. */
  retries: number;
}

interface PartPart {
  readonly p: number;
  readonly origin: string;
  readonly locals: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** Settles the batch's promise for this part (sent or dropped). */
  done?: () => void;
}

/** Most samples in one stream entry (several received batches are coalesced up to this). */
const MAX_ENTRY_SAMPLES = 20_000;

export interface PartitionAppenderOptions {
  readonly link: RedisLink;
  readonly keys: ClusterKeys;
  readonly series: LocalSeriesMap;
  readonly registry: GroupSeriesRegistry;
  readonly memberId: string;
  /** The group's data epoch (PartitionLeases.epoch), stamped on entries so stale series indices are recognised. */
  readonly epoch?: () => string | undefined;
  /**
   * How long a partition's pump waits for more samples before appending a small entry, ms
   * (default 10). Per-entry costs (a command, a read, a pipeline call) dominate small entries; this
   * trades a few ms of latency for fewer, larger entries.
   */
  readonly lingerMs?: number;
  /** Samples waiting for Redis at most (default 1,000,000, about 40 MB). */
  readonly maxBufferedSamples?: number;
  readonly logger?: Logger;
}

export class PartitionAppender {
  readonly counters: AppenderCounters = { appended: 0, entries: 0, droppedBufferFull: 0, droppedShutdown: 0, retries: 0 };
  private seq = 0;
  private buffered = 0;
  private readonly maxBuffered: number;
  private internChain: Promise<void> = Promise.resolve();
  /** Per partition: parts waiting to be appended, in arrival order, and whether a pump runs. */
  private readonly queues: PartPart[][];
  private readonly pumping: Uint8Array;
  private readonly idle: Promise<void>[];
  private closed = false;
  private failing = false;
  private readonly counts: Uint32Array;
  /**
   * Source of this appender's entries: the member id plus a per-process nonce, because sequences
   * restart at 1 when a member restarts under the same id and must not look like duplicates.
   */
  readonly source: string;

  constructor(private readonly options: PartitionAppenderOptions) {
    this.maxBuffered = options.maxBufferedSamples ?? 1_000_000;
    this.queues = Array.from({ length: options.keys.partitions }, () => []);
    this.pumping = new Uint8Array(options.keys.partitions);
    this.idle = Array.from({ length: options.keys.partitions }, () => Promise.resolve());
    this.counts = new Uint32Array(options.keys.partitions);
    this.source = `${options.memberId}/${randomBytes(4).toString('hex')}`;
  }

  /** Samples waiting to be appended. */
  get pending(): number {
    return this.buffered;
  }

  /**
   * Appends a batch whose series ids are this member's registry ids. The batch is copied before
   * this returns; the promise settles when every entry is in Redis (or was dropped and counted).
   */
  append(batch: SampleBatch, origin: string): Promise<void> {
    const n = batch.length;
    if (n === 0) return Promise.resolve();
    if (this.closed) {
      this.counters.droppedShutdown += n;
      return Promise.resolve();
    }
    if (this.buffered + n > this.maxBuffered) {
      this.counters.droppedBufferFull += n;
      return Promise.resolve();
    }
    this.buffered += n;
    const { series } = this.options;
    const P = this.options.keys.partitions;
    const counts = this.counts;
    counts.fill(0);
    const partOf = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const p = series.partitionOf(batch.series[i]);
      partOf[i] = p;
      counts[p]++;
    }
    const parts: PartPart[] = [];
    const slot = new Int32Array(P).fill(-1);
    for (let p = 0; p < P; p++) {
      if (counts[p] === 0) continue;
      slot[p] = parts.length;
      parts.push({ p, origin, locals: new Uint32Array(counts[p]), timestamps: new Float64Array(counts[p]), values: new Float64Array(counts[p]) });
    }
    const fill = new Uint32Array(parts.length);
    for (let i = 0; i < n; i++) {
      const k = slot[partOf[i]];
      const j = fill[k]++;
      const part = parts[k];
      part.locals[j] = batch.series[i];
      part.timestamps[j] = batch.timestamps[i];
      part.values[j] = batch.values[i];
    }
    const sent = parts.map((part) => new Promise<void>((resolve) => (part.done = resolve)));
    // Interning is serialised so batches reach each partition's queue in arrival order.
    this.internChain = this.internChain.then(async () => {
      await this.internMissing(parts);
      for (const part of parts) {
        this.queues[part.p].push(part);
        if (!this.pumping[part.p]) this.idle[part.p] = this.pump(part.p);
      }
    });
    return Promise.all(sent).then(() => undefined);
  }

  /**
   * Appends what waits for partition `p`, one entry at a time: whatever queued up while the
   * previous entry was in flight goes into the next one (up to MAX_ENTRY_SAMPLES), so a busy
   * member writes fewer, larger entries.
   */
  private async pump(p: number): Promise<void> {
    this.pumping[p] = 1;
    const queue = this.queues[p];
    try {
      while (queue.length > 0) {
        const linger = this.options.lingerMs ?? 10;
        if (linger > 0 && !this.closed && queue.reduce((a, q) => a + q.locals.length, 0) < MAX_ENTRY_SAMPLES / 10) await new Promise((r) => setTimeout(r, linger));
        let n = 0;
        let k = 0;
        while (k < queue.length && (k === 0 || n + queue[k].locals.length <= MAX_ENTRY_SAMPLES)) n += queue[k++].locals.length;
        const taken = queue.splice(0, k);
        await this.send(p, taken, ++this.seq);
        for (const part of taken) {
          this.buffered -= part.locals.length;
          part.done?.();
        }
      }
    } finally {
      this.pumping[p] = 0;
    }
  }

  private async internMissing(parts: readonly PartPart[]): Promise<void> {
    const { series } = this.options;
    const work: { p: number; locals: number[]; items: { key: string; descriptor: SeriesDescriptor }[] }[] = [];
    for (const part of parts) {
      let w: (typeof work)[number] | undefined;
      const seen = new Set<number>();
      for (const local of part.locals) {
        if (series.indexOf(local) >= 0 || seen.has(local)) continue;
        seen.add(local);
        const d = series.registry.describe(local);
        if (!d) continue;
        if (!w) work.push((w = { p: part.p, locals: [], items: [] }));
        w.locals.push(local);
        w.items.push({ key: seriesKey(d), descriptor: d });
      }
    }
    await Promise.all(
      work.map((w) =>
        this.retry(async () => {
          const idx = await this.options.registry.intern(w.p, w.items);
          w.locals.forEach((local, i) => series.setIndex(local, idx[i]));
        }),
      ),
    );
  }

  /**
   * One entry: the parts' samples in order, `o` = JSON runs `[[origin, count], ...]` so the owner
   * counts samples per agent source as a single server would.
   */
  private async send(p: number, parts: readonly PartPart[], seq: number): Promise<void> {
    const { series, keys, link } = this.options;
    let total = 0;
    for (const part of parts) total += part.locals.length;
    const idx = new Uint32Array(total);
    const ts = new Float64Array(total);
    const vs = new Float64Array(total);
    const runs: [string, number][] = [];
    let m = 0;
    for (const part of parts) {
      const before = m;
      // A series the registry refused to describe cannot be interned; its samples are not sent.
      for (let i = 0; i < part.locals.length; i++) {
        const x = series.indexOf(part.locals[i]);
        if (x < 0) continue;
        idx[m] = x;
        ts[m] = part.timestamps[i];
        vs[m] = part.values[i];
        m++;
      }
      if (m === before) continue;
      const last = runs[runs.length - 1];
      if (last && last[0] === part.origin) last[1] += m - before;
      else runs.push([part.origin, m - before]);
    }
    if (m === 0) return;
    const payload = encodeSamples(idx, ts, vs, m);
    const stream = keys.stream(p);
    // Read with the indices above, synchronously: an entry carries the epoch its indices belong to.
    const epoch = this.options.epoch?.();
    const ok = await this.retry(() => link.call(stream, ['XADD', stream, '*', 's', this.source, 'q', String(seq), 'o', JSON.stringify(runs), ...(epoch ? ['e', epoch] : []), 'd', payload]));
    if (ok) {
      this.counters.appended += m;
      this.counters.entries++;
    } else this.counters.droppedShutdown += m;
  }

  /** Runs `fn` until it succeeds (true) or the appender closes (false). */
  private async retry(fn: () => Promise<unknown>): Promise<boolean> {
    let delay = 50;
    for (;;) {
      try {
        await fn();
        if (this.failing) this.options.logger?.info('cluster: appending to the partition streams works again');
        this.failing = false;
        return true;
      } catch (e) {
        if (this.closed) return false;
        this.counters.retries++;
        if (!this.failing) this.options.logger?.warn(`cluster: appending to the partition streams failed: ${e instanceof Error ? e.message : String(e)}; retrying, ${this.buffered} sample(s) buffered (bound ${this.maxBuffered})`);
        this.failing = true;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  /** Waits up to `timeoutMs` for buffered samples to reach Redis, then gives up on the rest (counted). */
  async close(timeoutMs = 5000): Promise<void> {
    const all = this.internChain.then(() => Promise.all(this.idle));
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs))]);
    this.closed = true;
    await all.catch(() => undefined);
  }
}
