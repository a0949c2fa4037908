/**
 * A member's partition detectors as the runtime sees them: one stand-in Detector per configured
 * detector instance (`detectors.<id>`), attached to the runtime's pipeline under that id, so
 * everything the runtime does with its own detectors reaches the per-partition instances:
 *
 *   process(batch)      the accepted part of what a PartitionWorker is applying goes to that
 *                       partition's instance (series translated from this runtime's ids to
 *                       partition indices), before the pipeline stores bands and feeds exporters,
 *                       so bands are kept next to the samples as on a single server;
 *   onEvent(event)      every owned partition's instance (deploys open expected-change windows);
 *                       a partition taken over gets the group's recent events (15 min) first;
 *   pauseLearning(...)  every owned partition's instance, and remembered: a partition taken over
 *                       later gets the windows still in force (maintenance);
 *   expectation(id)     the owning instance, when this member owns the series' partition;
 *   feedback(...)       the owning instance, or the owning member through `remote` (MemberApi);
 *   feedbackLog()       the records of this member's instances, in this runtime's series ids.
 *
 * Instances are registered by the detector factories of the member (ClusterMember builds them)
 * as a partition's worker creates them, and forgotten when the worker stops (its abort signal).
 */
import type { Attributes, Detector, FeedbackRecord, FeedbackVerdict, HealthState, SampleBatch, SeriesCatalog, SeriesExpectation, SextantEvent } from '@sextant/plugin-api';
import { formatError } from '@sextant/plugin-api';
import { MutableBatch, type Runtime } from '@sextant/runtime';
import type { LocalSeriesMap } from './local-series-map.js';

interface Tracked {
  readonly detector: Detector;
  readonly catalog: SeriesCatalog;
  /** Pauses are applied again before the first batch: a restore() after creation may have reset them. */
  fresh: boolean;
  /** When it was registered (ms): events that arrived before are replayed to it before its first batch. */
  readonly createdAt: number;
  state: HealthState;
  message?: string;
  since: number;
}

/** Health of one detector instance over the partitions this member owns (published for the group's /api/v1/plugins). */
export interface LocalDetectorHealth {
  readonly partitions: number[];
  readonly problems: { partition: number; state: HealthState; message?: string }[];
}

/** Feedback for a series this member does not own: sent to the owner (MemberApi). */
export type RemoteFeedback = (detector: string, local: number, verdict: FeedbackVerdict, timestamp: number, score?: number) => Promise<number | undefined>;

export class PartitionDetectors {
  /** detector instance id -> partition -> the running instance. */
  private readonly live = new Map<string, Map<number, Tracked>>();
  private readonly proxies = new Map<string, PartitionDetectorProxy>();
  /** Partition of the worker applying a batch right now (set around its pipeline.ingest). */
  applying: number | undefined;
  private translated: MutableBatch | undefined;
  private readonly scratch = new MutableBatch(1024);
  remoteFeedback: RemoteFeedback | undefined;
  /** Recent events of the group with their arrival time (GroupDetectorEvents), replayed to a partition taken over. */
  recentEvents: (() => readonly { at: number; event: SextantEvent }[]) | undefined;

  private seriesMap: LocalSeriesMap | undefined;

  constructor(readonly runtime: Runtime) {}

  /** The member's map of this runtime's series ids to group partitions and indices. */
  bind(series: LocalSeriesMap): void {
    this.seriesMap = series;
  }

  private series(): LocalSeriesMap {
    if (!this.seriesMap) throw new Error('PartitionDetectors used before bind()');
    return this.seriesMap;
  }

  /** The stand-in for `detectors.<id>` (created once; attach it to the pipeline). */
  proxy(id: string): PartitionDetectorProxy {
    let p = this.proxies.get(id);
    if (!p) this.proxies.set(id, (p = new PartitionDetectorProxy(id, this)));
    return p;
  }

  get ids(): string[] {
    return [...this.proxies.keys()];
  }

  /** Registers a partition's new instance; it is forgotten when `signal` aborts. */
  track(id: string, partition: number, detector: Detector, catalog: SeriesCatalog, signal: AbortSignal): void {
    let byPartition = this.live.get(id);
    if (!byPartition) this.live.set(id, (byPartition = new Map()));
    const entry: Tracked = { detector, catalog, fresh: true, createdAt: Date.now(), state: 'ok', since: Date.now() };
    byPartition.set(partition, entry);
    this.proxy(id).adopt(detector);
    this.proxy(id).applyPauses(detector);
    signal.addEventListener('abort', () => {
      if (byPartition.get(partition) === entry) byPartition.delete(partition);
    });
  }

  setStatus(id: string, partition: number, detector: Detector | undefined, state: HealthState, message?: string): void {
    const t = this.live.get(id)?.get(partition);
    if (!t || (detector && t.detector !== detector)) return;
    if (t.state !== state) t.since = Date.now();
    t.state = state;
    if (message === undefined) delete t.message;
    else t.message = message;
  }

  instance(id: string, partition: number): Tracked | undefined {
    return this.live.get(id)?.get(partition);
  }

  instances(id: string): IterableIterator<[number, Tracked]> {
    return (this.live.get(id) ?? new Map<number, Tracked>()).entries();
  }

  /** Called by ClusterMember around a worker's pipeline.ingest: the batch about to be accepted is that partition's. */
  setApplying(partition: number | undefined): void {
    this.applying = partition;
    this.applyingGeneration++;
    this.translated = undefined;
  }

  /** Changes with every batch applied: a stand-in caches its instance of the applying partition per batch. */
  applyingGeneration = 0;

  /** Index inside its partition of a series of this runtime (-1 while the group has not numbered it). */
  indexOf(local: number): number {
    return this.series().indexOf(local);
  }

  /** The accepted batch in partition indices (translated once per batch, shared by every detector id). */
  translate(accepted: SampleBatch): MutableBatch {
    if (this.translated) return this.translated;
    const b = this.scratch;
    b.clear();
    const series = this.series();
    for (let i = 0; i < accepted.length; i++) {
      const idx = series.indexOf(accepted.series[i]);
      if (idx >= 0) b.push(idx, accepted.timestamps[i], accepted.values[i]);
    }
    this.translated = b;
    return b;
  }

  /** Where a series of this runtime is analysed: its partition and index (index -1 while the group has not numbered it). */
  locate(local: number): { partition: number; index: number } {
    const series = this.series();
    return { partition: series.partitionOf(local), index: series.indexOf(local) };
  }

  /** Expectation by group coordinates, from the first detector (in configuration order) that models the series here. */
  expectationAt(partition: number, index: number): SeriesExpectation | undefined {
    for (const id of this.proxies.keys()) {
      const e = this.instance(id, partition)?.detector.expectation?.(index);
      if (e) return e;
    }
    return undefined;
  }

  /** Health of every detector id over the partitions owned here. */
  health(): Record<string, LocalDetectorHealth> {
    const out: Record<string, LocalDetectorHealth> = {};
    for (const id of this.proxies.keys()) {
      const partitions: number[] = [];
      const problems: LocalDetectorHealth['problems'] = [];
      for (const [p, t] of this.instances(id)) {
        partitions.push(p);
        if (t.state !== 'ok') problems.push({ partition: p, state: t.state, ...(t.message ? { message: t.message } : {}) });
      }
      out[id] = { partitions: partitions.sort((a, b) => a - b), problems };
    }
    return out;
  }
}

/** The stand-in Detector of one configured detector instance (see the file comment). */
export class PartitionDetectorProxy implements Detector {
  /** Maintenance windows in force (one entry per window; the same match may be paused twice). */
  private readonly paused: Attributes[] = [];
  private adopted = false;

  constructor(
    readonly id: string,
    private readonly set: PartitionDetectors,
  ) {}

  /** The partition instances are shut down by their workers. */
  shutdown(): void {}

  process(batch: SampleBatch): void {
    const p = this.set.applying;
    if (p === undefined) return; // not a partition's batch (e.g. the runtime's own collectors)
    const t = this.set.instance(this.id, p);
    if (!t) return;
    if (t.fresh) {
      t.fresh = false;
      this.applyPauses(t.detector);
      // What the previous owner's instance saw (a deploy's quiet period, ...), after restore().
      for (const r of this.set.recentEvents?.() ?? []) {
        if (r.at >= t.createdAt) break;
        try {
          t.detector.onEvent?.(r.event);
        } catch (e) {
          this.set.setStatus(this.id, p, t.detector, 'degraded', `onEvent failed: ${formatError(e)}`);
        }
      }
    }
    const b = this.set.translate(batch);
    if (b.length === 0) return;
    try {
      t.detector.process(b);
    } catch (e) {
      this.set.setStatus(this.id, p, t.detector, 'degraded', `process failed: ${formatError(e)}`);
      this.set.runtime.logger.warn(`cluster: ${this.id} on partition ${p} failed to process a batch: ${formatError(e)}`);
    }
  }

  onEvent(event: SextantEvent): void {
    for (const [p, t] of this.set.instances(this.id)) {
      try {
        t.detector.onEvent?.(event);
      } catch (e) {
        this.set.setStatus(this.id, p, t.detector, 'degraded', `onEvent failed: ${formatError(e)}`);
      }
    }
  }

  pauseLearning(match: Attributes, paused: boolean): void {
    const key = matchKey(match);
    if (paused) this.paused.push(match);
    else {
      const at = this.paused.findIndex((m) => matchKey(m) === key);
      if (at >= 0) this.paused.splice(at, 1);
    }
    // Resumed only when no other window with the same match is still in force.
    const stillPaused = this.paused.some((m) => matchKey(m) === key);
    for (const [p, t] of this.set.instances(this.id)) {
      try {
        t.detector.pauseLearning?.(match, paused || stillPaused);
      } catch (e) {
        this.set.setStatus(this.id, p, t.detector, 'degraded', `pauseLearning failed: ${formatError(e)}`);
      }
    }
  }

  /**
   * The first instance tells which optional methods this detector type has; the stand-in keeps only
   * those. The pipeline stores the bands of the first detector that has `expectation`, so a
   * peer-outlier stand-in listed before the baseline one must not claim to model series.
   */
  adopt(detector: Detector): void {
    if (this.adopted) return;
    this.adopted = true;
    const self = this as unknown as Record<string, unknown>;
    if (typeof detector.expectation !== 'function') self.expectation = undefined;
    if (typeof detector.feedback !== 'function') self.feedback = undefined;
    if (typeof detector.feedbackLog !== 'function') self.feedbackLog = undefined;
  }

  /** Puts every window in force on an instance (a partition taken over, or restored). */
  applyPauses(detector: Detector): void {
    for (const m of this.paused) {
      try {
        detector.pauseLearning?.(m, true);
      } catch {
        // reported when it processes
      }
    }
  }

  /** Matches of the maintenance windows in force, as this member knows them. */
  get pausedMatches(): readonly Attributes[] {
    return this.paused;
  }

  /** The instance of the partition being applied, looked up once per batch (the pipeline asks for bands per sample). */
  private applyingInstance: { generation: number; tracked: Tracked | undefined } = { generation: -1, tracked: undefined };

  expectation(local: number): SeriesExpectation | undefined {
    if (this.set.applying !== undefined) {
      // pipeline.recordBands and the exporters, during a batch: every sample is of that partition.
      const cached = this.applyingInstance;
      if (cached.generation !== this.set.applyingGeneration) {
        cached.generation = this.set.applyingGeneration;
        cached.tracked = this.set.instance(this.id, this.set.applying);
      }
      const index = this.set.indexOf(local);
      return index < 0 ? undefined : cached.tracked?.detector.expectation?.(index);
    }
    const { partition, index } = this.set.locate(local);
    if (index < 0) return undefined;
    return this.set.instance(this.id, partition)?.detector.expectation?.(index);
  }

  async feedback(local: number, verdict: FeedbackVerdict, timestamp: number, score?: number): Promise<number | undefined> {
    const { partition, index } = this.set.locate(local);
    if (index < 0) return undefined;
    const t = this.set.instance(this.id, partition);
    if (t) return t.detector.feedback ? await t.detector.feedback(index, verdict, timestamp, score) : undefined;
    return this.set.remoteFeedback?.(this.id, local, verdict, timestamp, score);
  }

  feedbackLog(): readonly FeedbackRecord[] {
    const out: FeedbackRecord[] = [];
    const registry = this.set.runtime.registry;
    for (const [, t] of this.set.instances(this.id)) {
      for (const r of t.detector.feedbackLog?.() ?? []) {
        const d = t.catalog.describe(r.series);
        const local = d ? registry.lookup(d) : undefined;
        if (local !== undefined) out.push({ ...r, series: local });
      }
    }
    return out.sort((a, b) => a.t - b.t);
  }
}

function matchKey(match: Attributes): string {
  return JSON.stringify(Object.entries(match).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
