/**
 * The receiving side of partitioned ingest: what agents send to any member is split by partition
 * and appended to each partition's Redis Stream, carrying this member's id and an entry sequence
 * (`s`, `q`) so the owner can drop an entry appended twice, and the agents' source ids (`o`) for
 * the owner's per-source counters.
 *
 * Flushes: received samples are staged per partition (typed columns, no per-batch objects) and
 * written by one flush at a time: one XADD per partition that has samples, all in one Lua script
 * call against a standalone Redis (atomic, so an owner blocked on the streams wakes once per
 * flush), or all sent together against a Redis Cluster (node-redis pipelines them per node). A flush starts when `lingerMs` has passed since the
 * first staged sample, or at once when `flushSamples` are staged; what arrives while a flush is in
 * flight goes into the next one. Per-entry costs (a command, a reply, a read, a pipeline call on the
 * owner) dominate small entries, so a busy member writes fewer, larger entries.
 *
 * Order: one flush at a time, so entries of one partition are appended in the order the batches
 * arrived, and a sequence is never overtaken by a later one.
 *
 * Acknowledgement: `append()` returns a promise that resolves once every sample of the batch is in
 * Redis (the IngestServer acknowledges the agent only then, see IngestHandler.ackAfterHandled), and
 * rejects when the batch was not taken (buffer bound hit) or was given up (shutdown while Redis was
 * unreachable): the agent keeps such a batch and sends it again.
 *
 * Redis unavailable: a flush retries with capped backoff while up to `maxBufferedSamples` samples
 * wait in memory; a batch that would exceed the bound is refused and counted
 * (`sextant_cluster_samples_dropped_total{reason="buffer_full"}`).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, SextantError, type Logger, type SampleBatch, type SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';
import type { ClusterKeys } from './cluster-keys.js';
import type { GroupSeriesRegistry } from './group-series-registry.js';
import type { LocalSeriesMap } from './local-series-map.js';
import type { RedisLink } from './redis-link.js';

export interface AppenderCounters {
  /** Samples appended to partition streams. */
  appended: number;
  /** Entries appended. */
  entries: number;
  /** Samples refused because the buffer bound was hit (the agent was not acknowledged and sends them again). */
  droppedBufferFull: number;
  /** Samples given up at shutdown while Redis was unreachable (not acknowledged either). */
  droppedShutdown: number;
  /** Append attempts that failed and were retried. */
  retries: number;
  /** Flushes written (each one XADD per partition with samples). */
  flushes: number;
}

export interface PartitionAppenderOptions {
  readonly link: RedisLink;
  readonly keys: ClusterKeys;
  readonly series: LocalSeriesMap;
  readonly registry: GroupSeriesRegistry;
  readonly memberId: string;
  /** The group's data epoch (PartitionLeases.epoch), stamped on entries so stale series indices are recognised. */
  readonly epoch?: () => string | undefined;
  /**
   * How long staged samples wait for more before a flush, ms (default 50). Trades a few ms of
   * acknowledgement latency for fewer, larger entries (25 ms and 64 samples per partition cost
   * ~30% more member CPU per sample in the benchmark; 100 ms and 512 gained little more).
   */
  readonly lingerMs?: number;
  /** Staged samples that start a flush without waiting for the linger (default 256 per partition). */
  readonly flushSamples?: number;
  /** Samples waiting for Redis at most (default 1,000,000, about 40 MB). */
  readonly maxBufferedSamples?: number;
  readonly logger?: Logger;
}

/** The samples of one partition waiting for the next flush: columns grown by doubling, reused. */
class Staging {
  n = 0;
  locals = new Uint32Array(256);
  timestamps = new Float64Array(256);
  values = new Float64Array(256);
  /** Agent source runs `[origin, count]` covering the samples in order. */
  runs: [string, number][] = [];
  /** Local ids whose group index is not known yet (interned before the flush encodes). */
  missing: number[] = [];

  reserve(more: number): void {
    const need = this.n + more;
    if (need <= this.locals.length) return;
    let cap = this.locals.length * 2;
    while (cap < need) cap *= 2;
    const l = new Uint32Array(cap);
    l.set(this.locals.subarray(0, this.n));
    const t = new Float64Array(cap);
    t.set(this.timestamps.subarray(0, this.n));
    const v = new Float64Array(cap);
    v.set(this.values.subarray(0, this.n));
    this.locals = l;
    this.timestamps = t;
    this.values = v;
  }

  addRun(origin: string, count: number): void {
    const last = this.runs[this.runs.length - 1];
    if (last && last[0] === origin) last[1] += count;
    else this.runs.push([origin, count]);
  }
}

interface Waiter {
  readonly samples: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * One flush in one command (standalone Redis): an XADD per partition stream. Atomic, so an owner
 * blocked on the streams is woken once with every partition's entry, not once per XADD.
 * KEYS = streams; ARGV = source, then per stream: sequence, origin runs, epoch ('' = none), payload.
 */
const FLUSH = `for i = 1, #KEYS do
  local a = 2 + (i - 1) * 4
  if ARGV[a + 2] == '' then
    redis.call('XADD', KEYS[i], '*', 's', ARGV[1], 'q', ARGV[a], 'o', ARGV[a + 1], 'd', ARGV[a + 3])
  else
    redis.call('XADD', KEYS[i], '*', 's', ARGV[1], 'q', ARGV[a], 'o', ARGV[a + 1], 'e', ARGV[a + 2], 'd', ARGV[a + 3])
  end
end
return #KEYS`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PartitionAppender {
  readonly counters: AppenderCounters = { appended: 0, entries: 0, droppedBufferFull: 0, droppedShutdown: 0, retries: 0, flushes: 0 };
  private seq = 0;
  /** Samples staged or in the flush in flight. */
  private buffered = 0;
  private staged = 0;
  private readonly maxBuffered: number;
  private readonly lingerMs: number;
  private readonly flushSamples: number;
  /** Staging per partition, and the batches whose samples are staged (settled by the flush that takes them). */
  private staging: Staging[];
  private spare: Staging[];
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failing = false;
  /** Per-batch scratch: staging slot of each sample's partition. */
  private partOf = new Uint16Array(1024);
  /**
   * Source of this appender's entries: the member id plus a per-process nonce, because sequences
   * restart at 1 when a member restarts under the same id and must not look like duplicates.
   */
  readonly source: string;

  constructor(private readonly options: PartitionAppenderOptions) {
    this.maxBuffered = options.maxBufferedSamples ?? 1_000_000;
    this.lingerMs = options.lingerMs ?? 50;
    this.flushSamples = options.flushSamples ?? 256 * options.keys.partitions;
    this.staging = Array.from({ length: options.keys.partitions }, () => new Staging());
    this.spare = Array.from({ length: options.keys.partitions }, () => new Staging());
    this.source = `${options.memberId}/${randomBytes(4).toString('hex')}`;
  }

  /** Samples waiting to be appended. */
  get pending(): number {
    return this.buffered;
  }

  /**
   * Appends a batch whose series ids are this member's registry ids. The batch is copied before
   * this returns; the promise resolves when every sample is in Redis and rejects (a coded
   * LIMIT_EXCEEDED error) when the batch was refused or given up.
   */
  append(batch: SampleBatch, origin: string): Promise<void> {
    const n = batch.length;
    if (n === 0) return Promise.resolve();
    if (this.closed) {
      this.counters.droppedShutdown += n;
      return Promise.reject(new SextantError(ErrorCode.LIMIT_EXCEEDED, 'this member is shutting down; send the batch to another member'));
    }
    if (this.buffered + n > this.maxBuffered) {
      this.counters.droppedBufferFull += n;
      return Promise.reject(
        new SextantError(ErrorCode.LIMIT_EXCEEDED, `${this.buffered} received samples are waiting for Redis (bound ${this.maxBuffered}); retry later`, {
          hint: 'Redis is slow or unreachable; maxBufferedSamples bounds what a member holds for it',
        }),
      );
    }
    this.buffered += n;
    this.staged += n;
    const { series } = this.options;
    if (this.partOf.length < n) this.partOf = new Uint16Array(Math.max(n, this.partOf.length * 2));
    const partOf = this.partOf;
    const staging = this.staging;
    // Count per partition first, so each staging grows at most once and runs are recorded once.
    const counts = new Uint32Array(staging.length);
    for (let i = 0; i < n; i++) {
      const p = series.partitionOf(batch.series[i]);
      partOf[i] = p;
      counts[p]++;
    }
    for (let p = 0; p < counts.length; p++) {
      if (counts[p] === 0) continue;
      staging[p].reserve(counts[p]);
      staging[p].addRun(origin, counts[p]);
    }
    for (let i = 0; i < n; i++) {
      const s = staging[partOf[i]];
      const j = s.n++;
      const local = batch.series[i];
      s.locals[j] = local;
      s.timestamps[j] = batch.timestamps[i];
      s.values[j] = batch.values[i];
      if (series.indexOf(local) < 0) s.missing.push(local);
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ samples: n, resolve, reject }));
    this.schedule();
    return done;
  }

  private schedule(): void {
    if (this.flushing || this.staged === 0) return;
    if (this.staged >= this.flushSamples || this.closed || this.lingerMs <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.startFlush();
    } else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (!this.flushing) this.startFlush();
    }, this.lingerMs);
  }

  private startFlush(): void {
    const staging = this.staging;
    const waiters = this.waiters;
    this.staging = this.spare;
    this.spare = staging;
    this.waiters = [];
    this.staged = 0;
    this.flushing = this.flush(staging, waiters).finally(() => {
      this.flushing = undefined;
      this.schedule();
    });
  }

  /** Writes what was staged: one entry per partition, all partitions at once; settles the batches. */
  private async flush(staging: Staging[], waiters: Waiter[]): Promise<void> {
    let ok = await this.retry(() => this.internMissing(staging));
    const epoch = this.options.epoch?.();
    const { keys, link, series } = this.options;
    const sends: Promise<boolean>[] = [];
    let written = 0;
    let lost = 0;
    if (ok && !link.cluster) {
      // Standalone Redis: the whole flush is one script call.
      const streams: string[] = [];
      const argv: (string | Buffer)[] = [this.source];
      let samples = 0;
      for (let p = 0; p < staging.length; p++) {
        const s = staging[p];
        if (s.n === 0) continue;
        const entry = this.encode(s, series);
        lost += s.n - entry.samples;
        if (entry.samples === 0) continue;
        streams.push(keys.stream(p));
        argv.push(String(++this.seq), JSON.stringify(entry.runs), epoch ?? '', entry.payload);
        samples += entry.samples;
      }
      if (streams.length > 0) {
        ok = await this.retry(() => link.call(streams[0], ['EVAL', FLUSH, String(streams.length), ...streams, ...argv]));
        if (ok) {
          this.counters.appended += samples;
          this.counters.entries += streams.length;
          written = samples;
        }
      }
    } else if (ok) {
      for (let p = 0; p < staging.length; p++) {
        const s = staging[p];
        if (s.n === 0) continue;
        const entry = this.encode(s, series);
        lost += s.n - entry.samples;
        if (entry.samples === 0) continue;
        const stream = keys.stream(p);
        const args = ['XADD', stream, '*', 's', this.source, 'q', String(++this.seq), 'o', JSON.stringify(entry.runs), ...(epoch ? ['e', epoch] : []), 'd', entry.payload];
        sends.push(
          this.retry(() => link.call(stream, args)).then((sent) => {
            if (sent) {
              this.counters.appended += entry.samples;
              this.counters.entries++;
              written += entry.samples;
            }
            return sent;
          }),
        );
      }
      ok = (await Promise.all(sends)).every(Boolean);
    }
    let total = 0;
    for (const s of staging) {
      total += s.n;
      s.n = 0;
      s.runs = [];
      s.missing.length = 0;
    }
    this.buffered -= total;
    if (ok) {
      this.counters.flushes++;
      for (const w of waiters) w.resolve();
      return;
    }
    // Closed while Redis was unreachable: what was not written is given up, and not acknowledged.
    this.counters.droppedShutdown += total - written - lost;
    const error = new SextantError(ErrorCode.LIMIT_EXCEEDED, 'this member stopped before Redis took the batch; send it to another member');
    for (const w of waiters) w.reject(error);
  }

  /**
   * One entry's payload: timestamps (f64), values (f64), then partition indices (u32), little-endian
   * (see sample-entry.ts). A series the registry refused to describe has no index: its samples are
   * left out (and its run shortened).
   */
  private encode(s: Staging, series: LocalSeriesMap): { payload: Buffer; samples: number; runs: [string, number][] } {
    const n = s.n;
    const buf = new ArrayBuffer(n * 20);
    const ts = new Float64Array(buf, 0, n);
    const vs = new Float64Array(buf, n * 8, n);
    const idx = new Uint32Array(buf, n * 16, n);
    let m = 0;
    let runs = s.runs;
    if (s.missing.length === 0) {
      for (let i = 0; i < n; i++) idx[i] = series.indexOf(s.locals[i]);
      ts.set(s.timestamps.subarray(0, n));
      vs.set(s.values.subarray(0, n));
      m = n;
    } else {
      runs = [];
      let i = 0;
      for (const [origin, count] of s.runs) {
        const before = m;
        for (const end = i + count; i < end; i++) {
          const x = series.indexOf(s.locals[i]);
          if (x < 0) continue;
          idx[m] = x;
          ts[m] = s.timestamps[i];
          vs[m] = s.values[i];
          m++;
        }
        if (m > before) runs.push([origin, m - before]);
      }
      if (m < n) {
        // Compact the columns to m samples.
        const out = new ArrayBuffer(m * 20);
        new Float64Array(out, 0, m).set(ts.subarray(0, m));
        new Float64Array(out, m * 8, m).set(vs.subarray(0, m));
        new Uint32Array(out, m * 16, m).set(idx.subarray(0, m));
        return { payload: Buffer.from(out), samples: m, runs };
      }
    }
    return { payload: Buffer.from(buf), samples: m, runs };
  }

  /** Gives every staged series without a group index one (a Lua script per partition with new series). */
  private async internMissing(staging: readonly Staging[]): Promise<void> {
    const { series } = this.options;
    const work: Promise<void>[] = [];
    for (let p = 0; p < staging.length; p++) {
      const s = staging[p];
      if (s.missing.length === 0) continue;
      const locals: number[] = [];
      const items: { key: string; descriptor: SeriesDescriptor }[] = [];
      const seen = new Set<number>();
      for (const local of s.missing) {
        if (series.indexOf(local) >= 0 || seen.has(local)) continue;
        seen.add(local);
        const d = series.registry.describe(local);
        if (!d) continue;
        locals.push(local);
        items.push({ key: seriesKey(d), descriptor: d });
      }
      if (items.length === 0) continue;
      work.push(
        this.options.registry.intern(p, items).then((idx) => {
          locals.forEach((local, i) => series.setIndex(local, idx[i]));
        }),
      );
    }
    await Promise.all(work);
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
        await sleep(delay);
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  /** Flushes at once and waits up to `timeoutMs` for buffered samples to reach Redis, then gives up on the rest (counted, not acknowledged). */
  async close(timeoutMs = 5000): Promise<void> {
    const drained = (async () => {
      while (this.flushing || this.staged > 0) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        if (!this.flushing) this.startFlush();
        await this.flushing;
      }
    })();
    await Promise.race([drained, sleep(timeoutMs)]);
    this.closed = true;
    await drained.catch(() => undefined);
  }
}
