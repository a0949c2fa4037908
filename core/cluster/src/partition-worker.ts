/**
 * The owner's side of one partition: its own detector instance set (a partition is an
 * independent slice of the pipeline's detectors), its checkpoint, and the reading of its stream.
 *
 * Lifecycle (driven by the leases):
 *   start():  load the partition's series (catalog), restore each detector from the partition
 *             checkpoint (`state:<instance>`, the detector's own snapshot format) and the stream id
 *             it was taken at, claim the entries the previous owner read but did not acknowledge
 *             (XAUTOCLAIM), then read new entries (XREADGROUP).
 *   apply:    an entry at or before the checkpoint's id, or whose (member, sequence) was already
 *             applied, is skipped; the others go through `runtime.pipeline.ingest` (validation,
 *             store, exporters) and the partition's detectors.
 *   checkpoint (every `checkpointMs`, and before a voluntary release): snapshots + the applied
 *             stream id are written by a Lua script that first checks that the lease is still ours
 *             (a member that lost its lease can never overwrite the new owner's state); then the
 *             covered entries are acknowledged and trimmed from the stream.
 *   stop(checkpoint): a release checkpoints; a lost lease drops the state unwritten.
 *
 * Detector series ids inside a partition are the partition's dense indices (see ClusterKeys),
 * identical on every member, so a snapshot restores on any member.
 */
import {
  formatError,
  type AnomalyInput,
  type Detector,
  type HealthState,
  type Logger,
  type SeriesCatalog,
  type SeriesDescriptor,
} from '@sextant/plugin-api';
import { MutableBatch, type Runtime } from '@sextant/runtime';
import { CONSUMER_GROUP, type ClusterKeys } from './cluster-keys.js';
import type { GroupSeriesRegistry } from './group-series-registry.js';
import type { LocalSeriesMap } from './local-series-map.js';
import type { RedisLink } from './redis-link.js';
import { compareStreamIds, decodeSamples, type EntrySamples } from './sample-entry.js';

const CHECKPOINT = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'at', ARGV[2], 'by', ARGV[1], 'time', ARGV[3], 'dedup', ARGV[4])
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1`;

/** A detector configuration the member runs once per owned partition. */
export interface PartitionDetectorSpec {
  readonly id: string;
  readonly pluginId: string;
  /** Creates one instance for one partition (config validated, context filled). */
  create(ctx: { catalog: SeriesCatalog; emit: (a: AnomalyInput) => void; signal: AbortSignal; partition: number; status: (state: HealthState, message?: string) => void }): Promise<Detector>;
}

export interface WorkerCounters {
  /** Samples applied (handed to the pipeline and the detectors). */
  processed: number;
  entries: number;
  /** Samples of entries at or before the restored checkpoint (already in the restored state). */
  replaySkipped: number;
  /** Samples of entries appended twice (same member and sequence). */
  duplicates: number;
  /** Samples whose series the registry does not describe, or that the local store refused. */
  unknownSeries: number;
  /** Entries whose payload could not be decoded. */
  corrupt: number;
  /** Samples of entries written against an older data epoch of the store (their series ids mean nothing now). */
  staleEpoch: number;
  checkpoints: number;
  claimed: number;
}

export interface WorkerContext {
  readonly link: RedisLink;
  readonly keys: ClusterKeys;
  readonly memberId: string;
  readonly runtime: Runtime;
  readonly series: LocalSeriesMap;
  readonly registry: GroupSeriesRegistry;
  readonly detectors: readonly PartitionDetectorSpec[];
  readonly checkpointMs: number;
  readonly pollMs: number;
  readonly logger: Logger;
  /** The observer of the pipeline routes accepted batches to the worker that is applying. */
  setCurrent(worker: PartitionWorker | undefined): void;
  /** The store's data epoch as this member knows it. */
  epoch(): string | undefined;
  /** Whether the lease of `p` is surely still ours (see PartitionLeases.holds). */
  holds(p: number): boolean;
  /** A checkpoint was refused: the lease is someone else's now. */
  fenced(p: number): void;
  /**
   * New entries are read for all running partitions at once by the member's PartitionReader (one
   * XREADGROUP over every owned stream) and handed to `feed()`; without it each worker polls its own stream.
   */
  readonly sharedReader?: boolean;
}

type RawEntry = [id: string, fields: Map<string, Buffer>];

class PartitionCatalog implements SeriesCatalog {
  readonly descriptors: (SeriesDescriptor | undefined)[] = [];
  describe(id: number): SeriesDescriptor | undefined {
    return this.descriptors[id];
  }
  get size(): number {
    return this.descriptors.length;
  }
}

const text = (b: unknown): string => (Buffer.isBuffer(b) ? b.toString('utf8') : String(b));

/** Entries of an XREADGROUP / XAUTOCLAIM reply in buffer mode (RESP2 arrays or RESP3 maps). */
function entriesOf(list: unknown): RawEntry[] {
  if (!Array.isArray(list)) return [];
  const out: RawEntry[] = [];
  for (const e of list) {
    if (!Array.isArray(e) || e.length < 2) continue;
    const fields = new Map<string, Buffer>();
    const raw = e[1];
    if (Array.isArray(raw)) {
      for (let i = 0; i + 1 < raw.length; i += 2) fields.set(text(raw[i]), raw[i + 1] as Buffer);
    } else if (raw && typeof raw === 'object') {
      for (const [k, v] of raw instanceof Map ? raw.entries() : Object.entries(raw)) fields.set(text(k), v as Buffer);
    } else continue; // deleted entry
    out.push([text(e[0]), fields]);
  }
  return out;
}

/** Entries per stream name of a multi-stream XREADGROUP reply (RESP2 `[[name, entries], ...]` or a RESP3 map). */
function readGroupStreams(reply: unknown): Map<string, RawEntry[]> {
  const out = new Map<string, RawEntry[]>();
  if (!reply) return out;
  if (Array.isArray(reply)) {
    for (const s of reply) if (Array.isArray(s) && s.length >= 2) out.set(text(s[0]), entriesOf(s[1]));
  } else if (reply instanceof Map) {
    for (const [k, v] of reply) out.set(text(k), entriesOf(v));
  } else if (typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply)) out.set(k, entriesOf(v));
  }
  return out;
}

function readGroupEntries(reply: unknown): RawEntry[] {
  if (!reply) return [];
  if (Array.isArray(reply)) return entriesOf((reply[0] as unknown[] | undefined)?.[1]);
  if (reply instanceof Map) return entriesOf([...reply.values()][0]);
  if (typeof reply === 'object') return entriesOf(Object.values(reply)[0]);
  return [];
}

/** The `o` field: JSON runs `[[origin, count], ...]` covering the samples in order; anything else is one run. */
function originRuns(o: string, n: number): [string, number][] {
  if (o.startsWith('[')) {
    try {
      const runs = JSON.parse(o) as unknown;
      if (Array.isArray(runs) && runs.every((r) => Array.isArray(r) && typeof r[0] === 'string' && Number.isInteger(r[1]) && r[1] >= 0)) {
        const covered = (runs as [string, number][]).reduce((a, r) => a + r[1], 0);
        if (covered === n) return runs as [string, number][];
      }
    } catch {
      // fall through: one run
    }
  }
  return [[o || 'cluster', n]];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PartitionWorker {
  readonly counters: WorkerCounters = { processed: 0, entries: 0, replaySkipped: 0, duplicates: 0, unknownSeries: 0, corrupt: 0, staleEpoch: 0, checkpoints: 0, claimed: 0 };
  /** Stream id applied up to, and the one in the last checkpoint written (or restored). */
  applied = '0-0';
  checkpointed = '0-0';
  lastCheckpointAt = 0;
  state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  private instances: { spec: PartitionDetectorSpec; detector: Detector }[] = [];
  private readonly catalog = new PartitionCatalog();
  /** Partition index -> local registry id (-1 refused). */
  private readonly localOf: number[] = [];
  private readonly dedup = new Map<string, number>();
  private unacked: string[] = [];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly batch = new MutableBatch(1024);
  private readonly detectBatch = new MutableBatch(1024);

  constructor(
    readonly partition: number,
    private readonly ctx: WorkerContext,
  ) {}

  get active(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  start(): void {
    this.loop = this.run().catch((e) => this.ctx.logger.warn(`cluster: partition ${this.partition} stopped: ${formatError(e)}`));
  }

  private async run(): Promise<void> {
    const { link, keys, memberId } = this.ctx;
    const p = this.partition;
    const stream = keys.stream(p);
    // Setting up retries until it works or the lease goes: a restore must not be skipped.
    for (let attempt = 0; this.active; attempt++) {
      try {
        await this.setUp();
        break;
      } catch (e) {
        if (attempt === 0) this.ctx.logger.warn(`cluster: partition ${p}: restoring failed: ${formatError(e)}; retrying`);
        await this.shutdownDetectors();
        await sleep(Math.min(1000, 100 * 2 ** attempt));
      }
    }
    if (!this.active) return;
    this.state = 'running';
    this.lastCheckpointAt = Date.now();
    let idle = this.ctx.pollMs;
    while (this.active) {
      try {
        let entries: RawEntry[];
        const claimFrom = this.claimFrom;
        if (claimFrom === undefined && this.ctx.sharedReader) {
          // The member's reader feeds new entries and asks for checkpoints; this loop waits until
          // a feed was refused (claim again) or the worker stops.
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            if (!this.active) resolve();
          });
          this.wake = undefined;
          continue;
        }
        if (claimFrom !== undefined) {
          // What the previous owner read but never acknowledged comes first, in stream order.
          const reply = await link.callBuffers<unknown[]>(stream, ['XAUTOCLAIM', stream, CONSUMER_GROUP, memberId, '0', claimFrom, 'COUNT', '500']);
          entries = entriesOf(reply[1]);
          this.counters.claimed += entries.length;
          const next = text(reply[0]);
          this.claimFrom = next === '0-0' ? undefined : next;
        } else {
          entries = readGroupEntries(await link.callBuffers(stream, ['XREADGROUP', 'GROUP', CONSUMER_GROUP, memberId, 'COUNT', '500', 'STREAMS', stream, '>']));
        }
        if (entries.length > 0 && !(await this.serial(() => this.apply(entries)))) {
          // Not sure the lease is still ours: nothing was applied; what was read stays pending
          // and is claimed again (by us once renewed, or by the next owner).
          this.claimFrom = '0-0';
          await sleep(this.ctx.pollMs);
          continue;
        }
        if (Date.now() - this.lastCheckpointAt >= this.ctx.checkpointMs) await this.serial(() => this.checkpoint());
        if (entries.length === 0 && this.claimFrom === undefined) {
          await sleep(idle);
          idle = Math.min(idle * 2, this.ctx.pollMs * 4);
        } else idle = this.ctx.pollMs;
      } catch (e) {
        const msg = formatError(e);
        if (/NOGROUP/.test(msg)) {
          // Redis lost the stream (restarted without persistence): start it again from the beginning.
          await this.ensureGroup().catch(() => undefined);
          this.claimFrom = '0-0';
        } else {
          // A read whose reply was lost leaves its entries pending: claim from the start (see reclaim()).
          this.claimFrom = '0-0';
          await sleep(200);
        }
      }
    }
  }

  /** Where claiming the previous owner's unacknowledged entries continues; undefined once done (new entries are read). */
  private claimFrom: string | undefined = '0-0';
  /** Applies and checkpoints run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Whether the member's reader should read this partition's stream now. */
  get reading(): boolean {
    return this.state === 'running' && this.claimFrom === undefined && !this.dropped;
  }

  /**
   * New entries read by the member's reader. Not applied unless running (a stopping worker's final
   * checkpoint must cover everything it applied; the rest stays pending for the next owner).
   */
  async feed(entries: RawEntry[]): Promise<void> {
    if (!this.reading) return;
    const ok = await this.serial(() => (this.state === 'running' ? this.apply(entries) : Promise.resolve(false)));
    if (!ok && this.active) {
      this.claimFrom = '0-0';
      this.wake?.();
    }
  }

  private wake: (() => void) | undefined;
  private checkpointing = false;

  /**
   * A read failed: its entries may have been delivered to this member without the reply arriving
   * (Redis killed after answering). They sit in the consumer group's pending list, which a read of
   * new entries never returns: claim from the start again (what was applied already is skipped).
   */
  reclaim(): void {
    if (!this.reading) return;
    this.claimFrom = '0-0';
    this.wake?.();
  }

  /** Called by the member's reader after each read: writes the checkpoint when `checkpointMs` has passed (one at a time). */
  checkpointIfDue(): void {
    if (this.checkpointing || !this.reading || Date.now() - this.lastCheckpointAt < this.ctx.checkpointMs) return;
    this.checkpointing = true;
    this.serial(() => this.checkpoint())
      .catch((e) => {
        this.lastCheckpointAt = Date.now(); // retried after another checkpointMs
        this.ctx.logger.debug(`cluster: partition ${this.partition}: checkpoint failed: ${formatError(e)}`);
      })
      .finally(() => (this.checkpointing = false));
  }

  /** Creates the consumer group of the stream if it is missing. */
  async ensureGroup(): Promise<void> {
    const stream = this.ctx.keys.stream(this.partition);
    try {
      await this.ctx.link.call(stream, ['XGROUP', 'CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM']);
    } catch (e) {
      if (!/BUSYGROUP/.test(formatError(e))) throw e;
    }
  }

  private async setUp(): Promise<void> {
    const { link, keys, detectors, registry } = this.ctx;
    const p = this.partition;
    await this.ensureGroup();
    // The partition's series first: a restored detector asks its catalog about them.
    const size = await registry.size(p);
    await this.learnSeries(Array.from({ length: size }, (_, i) => i));
    const fields = ['at', 'dedup', ...detectors.map((d) => `state:${d.id}`)];
    const saved = await link.callBuffers<(Buffer | null)[]>(keys.checkpoint(p), ['HMGET', keys.checkpoint(p), ...fields]);
    this.instances = [];
    for (const spec of detectors) {
      const detector = await spec.create({
        catalog: this.catalog,
        emit: (a) => this.emit(spec, a),
        signal: this.abort.signal,
        partition: p,
        status: (state, message) => {
          if (state === 'degraded' || state === 'error') this.ctx.logger.warn(`cluster: ${spec.id} on partition ${p} is ${state}${message ? `: ${message}` : ''}`);
        },
      });
      await detector.start?.();
      this.instances.push({ spec, detector });
    }
    if (saved[0]) {
      this.applied = this.checkpointed = text(saved[0]);
      try {
        for (const [k, v] of Object.entries(JSON.parse(text(saved[1] ?? '{}')) as Record<string, number>)) this.dedup.set(k, Number(v));
      } catch {
        this.ctx.logger.warn(`cluster: partition ${p}: the checkpoint's de-duplication record is unreadable; entries appended twice may be applied twice`);
      }
      this.instances.forEach(({ spec, detector }, i) => {
        const bytes = saved[2 + i];
        if (!bytes || !detector.restore) return;
        try {
          detector.restore(new Uint8Array(bytes));
        } catch (e) {
          this.ctx.logger.warn(`cluster: ${spec.id} on partition ${p}: saved state refused: ${formatError(e)}`);
        }
      });
      await this.reportTrimmedPast();
      this.ctx.logger.debug(`cluster: partition ${p} restored from the checkpoint at ${this.checkpointed} (${this.catalog.size} series)`);
    }
  }

  /** A stream trimmed past the checkpoint (by hand, or MAXLEN) lost entries the state never saw: say so. */
  private async reportTrimmedPast(): Promise<void> {
    const stream = this.ctx.keys.stream(this.partition);
    const first = await this.ctx.link.call<unknown[]>(stream, ['XRANGE', stream, '-', '+', 'COUNT', '1']);
    const firstId = Array.isArray(first) && Array.isArray(first[0]) ? String(first[0][0]) : undefined;
    const info = await this.ctx.link.call<unknown>(stream, ['XINFO', 'STREAM', stream]).catch(() => undefined);
    const get = (k: string): unknown => (info instanceof Map ? info.get(k) : Array.isArray(info) ? info[info.indexOf(k) + 1] : (info as Record<string, unknown> | undefined)?.[k]);
    const maxDeleted = get('max-deleted-entry-id');
    // Entries up to the checkpoint are trimmed on purpose; anything deleted after it was lost.
    if (maxDeleted !== undefined && compareStreamIds(String(maxDeleted), this.checkpointed) > 0 && (!firstId || compareStreamIds(firstId, this.checkpointed) > 0)) {
      this.ctx.logger.warn(`cluster: partition ${this.partition}: the stream was trimmed past the checkpoint (${this.checkpointed}; entries up to ${String(maxDeleted)} are gone); samples in between were never analysed`);
      this.trimmedPast = true;
    }
  }

  trimmedPast = false;
  /** Set when the lease was lost: nothing more is applied or written. */
  private dropped = false;

  /** Loads descriptors for partition indices and gives each a local registry id. */
  private async learnSeries(indices: readonly number[]): Promise<void> {
    const missing = indices.filter((i) => this.localOf[i] === undefined);
    if (missing.length === 0) return;
    const { registry, runtime, series } = this.ctx;
    for (let off = 0; off < missing.length; off += 1000) {
      const chunk = missing.slice(off, off + 1000);
      const ds = await registry.describe(this.partition, chunk);
      chunk.forEach((idx, k) => {
        const d = ds[k];
        if (!d) return;
        this.catalog.descriptors[idx] = d;
        try {
          const local = runtime.registry.intern(d, `cluster:p${this.partition}`);
          this.localOf[idx] = local;
          series.setIndex(local, idx);
        } catch {
          this.localOf[idx] = -1; // the local store is full: counted per sample
        }
      });
    }
  }

  /** Applies entries in order; false when it stopped because the lease may no longer be ours. */
  private async apply(entries: RawEntry[]): Promise<boolean> {
    const decoded: { id: string; src: string; seq: number; origins: [string, number][]; epoch: string | undefined; samples: EntrySamples | undefined }[] = [];
    const unknown = new Set<number>();
    for (const [id, f] of entries) {
      const d = f.get('d');
      const samples = d ? decodeSamples(d) : undefined;
      if (samples) for (let i = 0; i < samples.length; i++) if (this.localOf[samples.series[i]] === undefined) unknown.add(samples.series[i]);
      const epoch = f.get('e');
      decoded.push({ id, src: text(f.get('s') ?? ''), seq: Number(text(f.get('q') ?? '0')), origins: originRuns(text(f.get('o') ?? ''), samples?.length ?? 0), epoch: epoch ? text(epoch) : undefined, samples });
    }
    if (unknown.size > 0) await this.learnSeries([...unknown]);
    const { runtime } = this.ctx;
    const batch = this.batch;
    const epoch = this.ctx.epoch();
    // Consecutive samples of one agent source, across entries, go to the pipeline in one call
    // (per-source counters as on a single server; per-call costs paid once per read, not per entry).
    let origin: string | undefined;
    const flush = () => {
      if (batch.length > 0 && origin !== undefined) {
        this.ctx.setCurrent(this);
        try {
          runtime.pipeline.ingest(batch, origin);
        } finally {
          this.ctx.setCurrent(undefined);
        }
        this.counters.processed += batch.length;
      }
      batch.clear();
    };
    batch.clear();
    for (const e of decoded) {
      // The lease is gone or in doubt: the rest stays pending for whoever owns the partition.
      if (this.dropped || !this.ctx.holds(this.partition)) {
        flush();
        return false;
      }
      this.counters.entries++;
      this.unacked.push(e.id);
      if (!e.samples) {
        this.counters.corrupt++;
        continue;
      }
      if (compareStreamIds(e.id, this.applied) <= 0) {
        this.counters.replaySkipped += e.samples.length;
        continue;
      }
      this.applied = e.id;
      if (e.seq > 0 && e.seq <= (this.dedup.get(e.src) ?? 0)) {
        this.counters.duplicates += e.samples.length;
        continue;
      }
      if (e.seq > 0) this.dedup.set(e.src, e.seq);
      if (e.epoch && epoch && e.epoch !== epoch) {
        this.counters.staleEpoch += e.samples.length;
        continue;
      }
      const s = e.samples;
      let i = 0;
      for (const [runOrigin, count] of e.origins) {
        if (runOrigin !== origin || batch.length >= 50_000) {
          flush();
          origin = runOrigin;
        }
        const end = Math.min(s.length, i + count);
        for (; i < end; i++) {
          const local = this.localOf[s.series[i]];
          if (local === undefined || local < 0) {
            this.counters.unknownSeries++;
            continue;
          }
          batch.push(local, s.timestamps[i], s.values[i]);
        }
      }
    }
    flush();
    return true;
  }

  /** Called by the pipeline observer with the accepted part of the batch being applied (local ids). */
  detect(accepted: { length: number; series: Uint32Array; timestamps: Float64Array; values: Float64Array }): void {
    if (this.instances.length === 0) return;
    const b = this.detectBatch;
    b.clear();
    const { series } = this.ctx;
    for (let i = 0; i < accepted.length; i++) {
      const idx = series.indexOf(accepted.series[i]);
      if (idx >= 0) b.push(idx, accepted.timestamps[i], accepted.values[i]);
    }
    if (b.length === 0) return;
    for (const { spec, detector } of this.instances) {
      try {
        detector.process(b);
      } catch (e) {
        this.ctx.logger.warn(`cluster: ${spec.id} on partition ${this.partition} failed to process a batch: ${formatError(e)}`);
      }
    }
  }

  private emit(spec: PartitionDetectorSpec, input: AnomalyInput): void {
    const local = this.localOf[input.seriesId];
    if (local === undefined || local < 0) return;
    this.ctx.runtime.pipeline.raiseAnomaly({ ...input, seriesId: local }, spec.id);
  }

  /**
   * Writes the partition checkpoint (fenced by the lease), then acknowledges and trims what it
   * covers. Returns false when the lease is no longer ours.
   */
  async checkpoint(): Promise<boolean> {
    const { link, keys, memberId } = this.ctx;
    const p = this.partition;
    this.lastCheckpointAt = Date.now();
    if (this.applied === this.checkpointed && this.unacked.length === 0) return true;
    const at = this.applied;
    const acked = this.unacked;
    const args: (string | Buffer)[] = ['EVAL', CHECKPOINT, '2', keys.lease(p), keys.checkpoint(p), memberId, at, String(Date.now()), JSON.stringify(Object.fromEntries(this.dedup))];
    for (const { spec, detector } of this.instances) {
      if (!detector.snapshot) continue;
      try {
        args.push(`state:${spec.id}`, Buffer.from(detector.snapshot()));
      } catch (e) {
        this.ctx.logger.warn(`cluster: ${spec.id} on partition ${p}: snapshot failed: ${formatError(e)}`);
      }
    }
    const ok = Number(await link.call(keys.checkpoint(p), args)) === 1;
    if (!ok) {
      const holder = await link.call(keys.lease(p), ['GET', keys.lease(p)]).catch(() => '?');
      this.ctx.logger.warn(`cluster: partition ${p}: checkpoint by ${memberId} refused, the lease is no longer ours (held by ${String(holder)}); state ${this.state}`);
      this.ctx.fenced(p);
      return false;
    }
    this.checkpointed = at;
    this.counters.checkpoints++;
    this.unacked = this.unacked.slice(acked.length);
    const stream = keys.stream(p);
    for (let off = 0; off < acked.length; off += 1000) await link.call(stream, ['XACK', stream, CONSUMER_GROUP, ...acked.slice(off, off + 1000)]);
    if (at !== '0-0') await link.call(stream, ['XTRIM', stream, 'MINID', at]);
    return true;
  }

  /** Stops reading; with `save`, checkpoints first (a voluntary release). Idempotent. */
  async stop(save: boolean): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    if (!save) this.dropped = true;
    this.state = 'stopping';
    this.abort.abort();
    this.wake?.();
    await this.loop;
    await this.chain;
    if (save && wasRunning) {
      try {
        await this.checkpoint();
      } catch (e) {
        this.ctx.logger.warn(`cluster: partition ${this.partition}: final checkpoint failed: ${formatError(e)}; the next owner replays from the previous one`);
      }
    }
    await this.shutdownDetectors();
    this.state = 'stopped';
  }

  private async shutdownDetectors(): Promise<void> {
    for (const { detector } of this.instances) {
      try {
        await detector.shutdown?.();
      } catch {
        // a detector that fails to shut down holds nothing we need
      }
    }
    this.instances = [];
  }

  /** Entries in the stream not yet applied here (delivered-not-read + read-not-applied), or undefined. */
  async lag(): Promise<number | undefined> {
    const stream = this.ctx.keys.stream(this.partition);
    const groups = await this.ctx.link.call<unknown[]>(stream, ['XINFO', 'GROUPS', stream]);
    for (const g of groups ?? []) {
      const get = (k: string): unknown => (g instanceof Map ? g.get(k) : Array.isArray(g) ? g[g.indexOf(k) + 1] : (g as Record<string, unknown>)[k]);
      if (String(get('name')) === CONSUMER_GROUP) {
        const lag = get('lag');
        return lag === null || lag === undefined ? undefined : Number(lag);
      }
    }
    return undefined;
  }
}

/** Entries one XREADGROUP asks for per stream. */
const READ_COUNT = 2000;
/** How long a blocking read waits for new entries, ms (also how soon a newly running partition is read). */
const BLOCK_MS = 100;

/**
 * Reads new entries for every running partition of this member at once: one
 * `XREADGROUP ... BLOCK ... STREAMS <s1> ... <sn> > ... >` on a connection of its own (so the block
 * holds up no other command), instead of a poll per partition, and hands each stream's entries to
 * its worker. Against a Redis Cluster (streams in different slots) it sends one non-blocking
 * XREADGROUP per stream, all at once, and waits `pollMs` when nothing came.
 */
export class PartitionReader {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private reader: RedisLink | undefined;

  constructor(
    private readonly ctx: Pick<WorkerContext, 'link' | 'keys' | 'memberId' | 'pollMs' | 'logger'>,
    private readonly workers: () => Iterable<PartitionWorker>,
  ) {}

  start(): void {
    this.loop = this.run().catch((e) => this.ctx.logger.warn(`cluster: the partition reader stopped: ${formatError(e)}`));
  }

  private async run(): Promise<void> {
    const { link, keys, memberId, pollMs } = this.ctx;
    let failures = 0;
    while (!this.stopped) {
      const ready = [...this.workers()].filter((w) => w.reading);
      if (ready.length === 0) {
        await sleep(pollMs);
        continue;
      }
      try {
        let byStream: Map<string, RawEntry[]>;
        let readFailure: unknown;
        if (!link.cluster && link.duplicate) {
          if (!this.reader) {
            const r = await link.duplicate();
            if (this.stopped) {
              r.destroy();
              break;
            }
            this.reader = r;
          }
          const streams = ready.map((w) => keys.stream(w.partition));
          const reply = await this.reader.callBuffers(streams[0], ['XREADGROUP', 'GROUP', CONSUMER_GROUP, memberId, 'COUNT', String(READ_COUNT), 'BLOCK', String(BLOCK_MS), 'STREAMS', ...streams, ...streams.map(() => '>')]);
          byStream = readGroupStreams(reply);
        } else {
          // Settled one by one: entries a read delivered are pending for this member and must be
          // applied even when the read of another stream (another node, failing over) failed,
          // or they would stay pending until a take-over claims them.
          const replies = await Promise.allSettled(ready.map((w) => { const stream = keys.stream(w.partition); return link.callBuffers(stream, ['XREADGROUP', 'GROUP', CONSUMER_GROUP, memberId, 'COUNT', String(READ_COUNT), 'STREAMS', stream, '>']); }));
          byStream = new Map();
          for (const r of replies) {
            if (r.status === 'fulfilled') for (const [k, v] of readGroupStreams(r.value)) byStream.set(k, v);
            else readFailure ??= r.reason;
          }
          if (readFailure === undefined && [...byStream.values()].every((e) => e.length === 0)) await sleep(pollMs);
        }
        failures = 0;
        await Promise.all(
          ready.map((w) => {
            const entries = byStream.get(keys.stream(w.partition));
            return entries && entries.length > 0 ? w.feed(entries) : undefined;
          }),
        );
        for (const w of ready) w.checkpointIfDue();
        if (readFailure !== undefined) throw readFailure;
      } catch (e) {
        if (this.stopped) break;
        for (const w of ready) w.reclaim();
        if (/NOGROUP/.test(formatError(e))) {
          // Redis lost a stream (restarted without persistence): create the groups again.
          await Promise.all(ready.map((w) => w.ensureGroup().catch(() => undefined)));
        } else {
          if (failures++ === 0) this.ctx.logger.debug(`cluster: reading the partition streams failed: ${formatError(e)}; retrying`);
          await sleep(Math.min(1000, 100 * 2 ** Math.min(failures, 4)));
        }
      }
    }
  }

  /** Stops reading; a read in flight is dropped (its entries stay pending and are claimed again). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.reader?.destroy();
    // A reader still connecting (Redis down) gives up on its own; do not wait for it.
    await Promise.race([this.loop, sleep(2000)]);
  }
}
