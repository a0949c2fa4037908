/**
 * One member of a Sextant group (docs/architecture.md, "Scale-out"): wires a started Runtime to
 * the group's Redis.
 *
 * - What this member's IngestServer receives goes through `ingestHandler` into the partition
 *   streams (PartitionAppender), whichever member owns the partitions.
 * - The partitions this member holds a lease for (PartitionLeases) are read and analysed by one
 *   PartitionWorker each, with their own detector instances built from the `detectors` section.
 *   The runtime itself must run no detectors (`sextant server --store` removes them from its
 *   config and hands them here); everything else (store, correlators, notifiers, exporters, API)
 *   is the runtime's as usual.
 * - `status()` is the group as this member sees it (`GET /api/v1/cluster`); `publishMetrics()`
 *   puts the same on `/metrics`.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  ErrorCode,
  SextantError,
  formatError,
  mergeDefaults,
  validateConfig,
  type ConfigIssue,
  type Detector,
  type DetectorContext,
  type HealthState,
  type Logger,
  type SampleBatch,
  type SeriesDescriptor,
  type SeriesId,
} from '@sextant/plugin-api';
import { configError, createLogger, instanceSpecs, type ApiServer, type Runtime, type RuntimeConfig } from '@sextant/runtime';
import { ClusterKeys } from './cluster-keys.js';
import { GroupCorrelation, type CorrelationStatus } from './group-correlation.js';
import { GroupDetectorEvents } from './group-detector-events.js';
import { checkGroupLayout } from './group-layout.js';
import { MemberApi } from './member-api.js';
import { PartitionDetectors } from './partition-detectors.js';
import { GroupSeriesRegistry } from './group-series-registry.js';
import { LocalSeriesMap } from './local-series-map.js';
import { PartitionAppender } from './partition-appender.js';
import { PartitionLeases } from './partition-leases.js';
import { PartitionReader, PartitionWorker, type PartitionDetectorSpec, type WorkerCounters } from './partition-worker.js';
import { connectRedis, type RedisLink } from './redis-link.js';
import { pluginSelfMetrics } from './plugin-self-metrics.js';

export interface ClusterMemberOptions {
  /** A loaded and started runtime whose config has no detectors (they are given here). */
  readonly runtime: Runtime;
  /** `redis://...`, `rediss://...`, `redis+cluster://h1:p1,h2:p2`, or an open link. */
  readonly store: string | RedisLink;
  /** The `detectors` section of the configuration: run once per owned partition. */
  readonly detectors: RuntimeConfig['detectors'];
  /** Key prefix shared by the members of one group (default `sextant`). */
  readonly group?: string;
  /** Fixed for the life of the group's data (default 64). */
  readonly partitions?: number;
  /** Unique per process (default `<host>-<pid>-<random>`). */
  readonly memberId?: string;
  readonly leaseMs?: number;
  readonly heartbeatMs?: number;
  /** How often each owned partition is checkpointed (default 10 s). */
  readonly checkpointMs?: number;
  /** Idle poll period of a partition stream (default 50 ms). */
  readonly pollMs?: number;
  /** Received samples waiting for Redis at most (default 1,000,000). */
  readonly maxBufferedSamples?: number;
  /**
   * The `correlators` section: run once for the whole group by the elected leader over every
   * member's anomalies and events; incidents, silences and the notification outbox live in Redis
   * (GroupCorrelation). Without it, the runtime's own correlators (if any) see only this member's anomalies.
   */
  readonly correlators?: RuntimeConfig['correlators'];
  readonly logger?: Logger;
}

export interface ClusterStatus {
  readonly group: string;
  readonly member: string;
  readonly store: string;
  readonly storeReachable: boolean;
  readonly members: readonly string[];
  readonly partitions: number;
  readonly target: number;
  readonly owned: readonly {
    readonly partition: number;
    readonly state: PartitionWorker['state'];
    readonly lag?: number;
    readonly appliedId: string;
    readonly checkpointId: string;
    readonly lastCheckpointAgoMs?: number;
    readonly processed: number;
    readonly trimmedPastCheckpoint?: boolean;
  }[];
  readonly ingest: PartitionAppender['counters'] & { readonly buffered: number };
  readonly processed: WorkerCounters;
  readonly leases: PartitionLeases['counts'];
  /** The group's correlation: leader, what this member published, the leader's commits and outbox. */
  readonly correlation?: CorrelationStatus;
}

export class ClusterMember {
  readonly memberId: string;
  readonly keys: ClusterKeys;
  readonly leases: PartitionLeases;
  readonly appender: PartitionAppender;
  /** Local <-> group-wide series ids of this member. */
  readonly series: LocalSeriesMap;
  /** One correlator for the group (set when the `correlators` option is given). */
  correlation: GroupCorrelation | undefined;
  /** The partition detectors as the runtime sees them (stand-ins attached to its pipeline). */
  readonly detectors: PartitionDetectors;
  /** Events received anywhere in the group reach this member's partition detectors. */
  readonly events: GroupDetectorEvents;
  /** Expectations, feedback and detector statuses of the whole group, through this member's API. */
  readonly api: MemberApi;
  private readonly workers = new Map<number, PartitionWorker>();
  /** One blocking read over every owned partition stream, feeding the workers. */
  private readonly reader: PartitionReader;
  /** Counters of workers that stopped, so totals survive rebalancing. */
  private readonly retired: WorkerCounters = { processed: 0, entries: 0, replaySkipped: 0, duplicates: 0, unknownSeries: 0, corrupt: 0, staleEpoch: 0, checkpoints: 0, claimed: 0 };
  private current: PartitionWorker | undefined;
  private readonly unobserve: () => void;
  private readonly logger: Logger;
  private stopped = false;

  private constructor(
    private readonly options: ClusterMemberOptions,
    readonly link: RedisLink,
    private readonly detectorSpecs: readonly MemberDetectorSpec[],
    detectors: PartitionDetectors,
  ) {
    const runtime = options.runtime;
    this.detectors = detectors;
    this.logger = options.logger ?? runtime.logger;
    this.memberId = options.memberId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.keys = new ClusterKeys(options.group ?? 'sextant', options.partitions ?? 64);
    const series = (this.series = new LocalSeriesMap(runtime.registry, this.keys.partitions));
    detectors.bind(series);
    const registry = new GroupSeriesRegistry(link, this.keys);
    this.appender = new PartitionAppender({ link, keys: this.keys, series, registry, memberId: this.memberId, logger: this.logger, epoch: () => this.leases.epoch, ...(options.maxBufferedSamples ? { maxBufferedSamples: options.maxBufferedSamples } : {}) });
    const workerContext = {
      link,
      keys: this.keys,
      memberId: this.memberId,
      runtime,
      series,
      registry,
      detectors: detectorSpecs,
      checkpointMs: options.checkpointMs ?? 10_000,
      pollMs: options.pollMs ?? 50,
      logger: this.logger,
      sharedReader: true,
      setCurrent: (w: PartitionWorker | undefined) => {
        this.current = w;
        detectors.setApplying(w?.partition);
      },
      holds: (p: number) => this.leases.holds(p),
      epoch: () => this.leases.epoch,
      fenced: (p: number) => {
        // The lease is someone else's: stop applying at once; the leases notice at their next renewal.
        if (this.leases.owned.delete(p)) this.leases.counts.lost++;
        void this.retire(p, false);
      },
    };
    this.reader = new PartitionReader(workerContext, () => this.workers.values());
    this.leases = new PartitionLeases({
      link,
      keys: this.keys,
      memberId: this.memberId,
      ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      logger: this.logger,
      listener: {
        acquired: (p) => {
          const w = new PartitionWorker(p, workerContext);
          this.workers.set(p, w);
          w.start();
        },
        releasing: (p) => this.retire(p, true),
        lost: (p) => void this.retire(p, false),
        epochChanged: () => series.resetIndices(),
      },
    });
    // The stand-ins get each accepted batch before the pipeline records bands, and every event and
    // maintenance window the runtime receives (see PartitionDetectors).
    const detach = detectorSpecs.map((spec) => runtime.pipeline.attachDetector(spec.id, detectors.proxy(spec.id), (e) => this.logger.warn(`cluster: ${spec.id}: ${formatError(e)}`)));
    this.unobserve = () => detach.forEach((d) => d());
    this.events = new GroupDetectorEvents({ link, keys: this.keys, memberId: this.memberId, runtime, detectors, logger: this.logger });
    this.api = new MemberApi({
      link,
      keys: this.keys,
      memberId: this.memberId,
      runtime,
      leases: this.leases,
      detectors,
      series,
      detectorTypes: new Map(detectorSpecs.map((s) => [s.id, { type: s.type, plugin: s.pluginId }])),
      logger: this.logger,
    });
    detectors.remoteFeedback = (id, local, verdict, timestamp, score) => this.api.feedback(id, local, verdict, timestamp, score);
  }

  /**
   * Validates the detectors, connects to the store and joins the group. Throws CONFIG_INVALID
   * (every issue at once) or CONNECTION_FAILED (store unreachable, wrong password).
   */
  static async start(options: ClusterMemberOptions): Promise<ClusterMember> {
    const detectors = new PartitionDetectors(options.runtime);
    const specs = await detectorSpecsFor(options.runtime, options.detectors, detectors);
    const link = typeof options.store === 'string' ? await connectRedis(options.store) : options.store;
    await checkGroupLayout(link, new ClusterKeys(options.group ?? 'sextant', options.partitions ?? 64));
    const member = new ClusterMember(options, link, specs, detectors);
    // Windows in force are known before the first partition is taken.
    await member.events.start();
    await member.api.start();
    options.runtime.pipeline.detectorView = member.api;
    await member.leases.start();
    member.reader.start();
    // A window the detector-events stream no longer holds is still in the group's record.
    member.events.groupWindows = () => member.correlation?.windows.active() ?? [];
    if (options.correlators) {
      const leaseMs = options.leaseMs ?? 5000;
      // Its own connection: the leader's commits and deliveries do not queue behind partition traffic.
      const own = typeof options.store === 'string' ? await connectRedis(options.store) : undefined;
      try {
        member.correlation = await GroupCorrelation.start({ link: own ?? link, ...(own ? { ownsLink: true } : {}), group: member.keys.group, memberId: member.memberId, runtime: options.runtime, correlators: options.correlators, series: member.series, leaseMs, heartbeatMs: options.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 5)), ...(options.checkpointMs ? { checkpointMs: options.checkpointMs } : {}), logger: member.logger });
      } catch (e) {
        // An invalid `correlators` section: leave the group again rather than run half a member.
        own?.destroy();
        await member.stop().catch(() => undefined);
        throw e;
      }
    }
    member.logger.info(`cluster: member ${member.memberId} joined group "${member.keys.group}" (${member.keys.partitions} partitions) on ${link.description}`);
    return member;
  }

  /**
   * The IngestServer handler of a member: series are interned locally (as on a single server),
   * batches go to the partition streams instead of the local pipeline.
   */
  readonly ingestHandler = {
    // The agent is acknowledged once its samples are in Redis (the promise of onBatch), not on receipt.
    ackAfterHandled: true,
    onSeries: (sourceId: string, _localId: number, descriptor: SeriesDescriptor): SeriesId | null => {
      try {
        return this.options.runtime.registry.intern(descriptor, sourceId);
      } catch {
        return null; // store full: refused and counted by the ingest server
      }
    },
    onBatch: (sourceId: string, batch: SampleBatch): Promise<void> => this.appender.append(batch, sourceId),
  };

  /**
   * Adds the group's internal endpoints to this member's API and publishes its address, so other
   * members forward expectations and feedback of the partitions this member owns. `url` is the
   * API's base URL as the other members reach it.
   */
  serveApi(api: Pick<ApiServer, 'route'>, url: string): Promise<void> {
    return this.api.serve(api, url);
  }

  private async retire(p: number, save: boolean): Promise<void> {
    const w = this.workers.get(p);
    if (!w) return;
    this.workers.delete(p);
    await w.stop(save);
    for (const k of Object.keys(this.retired) as (keyof WorkerCounters)[]) this.retired[k] += w.counters[k];
  }

  /** Processing totals over every partition this member has owned. */
  totals(): WorkerCounters {
    const t = { ...this.retired };
    for (const w of this.workers.values()) for (const k of Object.keys(t) as (keyof WorkerCounters)[]) t[k] += w.counters[k];
    return t;
  }

  /** Partitions being worked on right now. */
  get ownedPartitions(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  async status(): Promise<ClusterStatus> {
    const owned = await Promise.all(
      this.ownedPartitions.map(async (p) => {
        const w = this.workers.get(p)!;
        const lag = await w.lag().catch(() => undefined);
        return {
          partition: p,
          state: w.state,
          ...(lag !== undefined ? { lag } : {}),
          appliedId: w.applied,
          checkpointId: w.checkpointed,
          ...(w.lastCheckpointAt ? { lastCheckpointAgoMs: Math.max(0, Date.now() - w.lastCheckpointAt) } : {}),
          processed: w.counters.processed,
          ...(w.trimmedPast ? { trimmedPastCheckpoint: true } : {}),
        };
      }),
    );
    return {
      group: this.keys.group,
      member: this.memberId,
      store: this.link.description,
      storeReachable: this.link.isReady,
      members: this.leases.members,
      partitions: this.keys.partitions,
      target: this.leases.target,
      owned,
      ingest: { ...this.appender.counters, buffered: this.appender.pending },
      processed: this.totals(),
      leases: { ...this.leases.counts },
      ...(this.correlation ? { correlation: this.correlation.status() } : {}),
    };
  }

  /** Puts the group state on the runtime's /metrics (call before each scrape, or periodically). */
  publishMetrics(): void {
    const t = this.options.runtime.telemetry;
    const m = { member: this.memberId };
    t.set('sextant_cluster_members', 'Live members of the group, as this member sees them', this.leases.members.length, m);
    t.set('sextant_cluster_partitions_owned', 'Partitions this member holds a lease for', this.workers.size, m);
    const a = this.appender.counters;
    t.set('sextant_cluster_samples_appended', 'Samples this member appended to partition streams (received from agents)', a.appended, m);
    t.set('sextant_cluster_samples_buffered', 'Received samples waiting for the store', this.appender.pending, m);
    t.set('sextant_cluster_samples_dropped', 'Received samples not taken: buffer bound hit (buffer_full; the agent is refused and sends them again) or Redis unreachable at shutdown (not acknowledged)', a.droppedBufferFull, { ...m, reason: 'buffer_full' });
    t.set('sextant_cluster_samples_dropped', 'Received samples not taken: buffer bound hit (buffer_full; the agent is refused and sends them again) or Redis unreachable at shutdown (not acknowledged)', a.droppedShutdown, { ...m, reason: 'shutdown' });
    const w = this.totals();
    t.set('sextant_cluster_samples_processed', 'Samples applied by this member for the partitions it owned', w.processed, m);
    t.set('sextant_cluster_samples_skipped', 'Samples not applied: replayed (already in the checkpoint), duplicate, unknown series', w.replaySkipped, { ...m, reason: 'replayed' });
    t.set('sextant_cluster_samples_skipped', 'Samples not applied: replayed (already in the checkpoint), duplicate, unknown series', w.duplicates, { ...m, reason: 'duplicate' });
    t.set('sextant_cluster_samples_skipped', 'Samples not applied: replayed (already in the checkpoint), duplicate, unknown series', w.unknownSeries, { ...m, reason: 'unknown_series' });
    t.set('sextant_cluster_samples_skipped', 'Samples not applied: replayed (already in the checkpoint), duplicate, unknown series', w.staleEpoch, { ...m, reason: 'stale_epoch' });
    t.set('sextant_cluster_checkpoints', 'Partition checkpoints written by this member', w.checkpoints, m);
    const l = this.leases.counts;
    t.set('sextant_cluster_partition_changes', 'Partitions taken, released and lost by this member', l.acquired, { ...m, change: 'acquired' });
    t.set('sextant_cluster_partition_changes', 'Partitions taken, released and lost by this member', l.released, { ...m, change: 'released' });
    t.set('sextant_cluster_partition_changes', 'Partitions taken, released and lost by this member', l.lost, { ...m, change: 'lost' });
    this.correlation?.publishMetrics();
  }

  /** Leaves cleanly: received samples are flushed, partitions checkpointed and released. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.appender.close();
    await this.leases.stop();
    await this.reader.stop();
    await Promise.all([...this.workers.keys()].map((p) => this.retire(p, true)));
    await this.correlation?.stop();
    await this.events.stop();
    await this.api.stop();
    if (this.options.runtime.pipeline.detectorView === this.api) this.options.runtime.pipeline.detectorView = undefined;
    this.unobserve();
    if (typeof this.options.store === 'string') await this.link.close();
  }

  /** Stops at once without checkpointing or releasing (what a crash looks like to the group; tests and benchmarks). */
  halt(): void {
    this.stopped = true;
    this.leases.halt();
    void this.reader.stop();
    this.correlation?.halt();
    for (const w of this.workers.values()) void w.stop(false);
    void this.events.stop();
    void this.api.stop().catch(() => undefined);
    this.unobserve();
    if (typeof this.options.store === 'string') this.link.destroy();
  }
}

/** A partition detector spec with its factory type (for status entries). */
type MemberDetectorSpec = PartitionDetectorSpec & { readonly type: string };

/** Builds the per-partition detector factories from the `detectors` section, validating every instance. */
async function detectorSpecsFor(runtime: Runtime, section: RuntimeConfig['detectors'], tracker: PartitionDetectors): Promise<MemberDetectorSpec[]> {
  const issues: ConfigIssue[] = [];
  const specs = instanceSpecs({ ...runtime.config, collectors: {}, correlators: {}, notifiers: {}, exporters: {}, detectors: section } as RuntimeConfig, issues).filter((s) => s.kind === 'detector' && s.enabled);
  const out: MemberDetectorSpec[] = [];
  for (const spec of specs) {
    const path = `detectors.${spec.id}`;
    const entry = runtime.factory('detector', spec.type);
    if (!entry) {
      issues.push({ path, message: `no detector of type "${spec.type}" is installed` });
      continue;
    }
    if (spec.isolation && spec.isolation !== 'in-process') issues.push({ path: `${path}.isolation`, message: 'detectors of a cluster member run in-process (one instance per owned partition)', hint: 'remove isolation from this detector' });
    const merged = mergeDefaults(entry.factory.defaults ?? {}, spec.config);
    const result = await validateConfig(entry.factory.configSchema, merged, path);
    if (!result.ok) {
      issues.push(...result.issues);
      continue;
    }
    const config = result.value;
    const metrics = pluginSelfMetrics(runtime, entry.pluginId, spec.id);
    const logger = createLogger(spec.id);
    out.push({
      id: spec.id,
      pluginId: entry.pluginId,
      type: spec.type,
      create: async ({ catalog, emit, signal, status, partition }) => {
        let created: Detector | undefined;
        const ctx: DetectorContext<unknown> = {
          config,
          instanceId: spec.id,
          logger,
          clock: runtime.clock,
          status: {
            set: (state: HealthState, message?: string) => {
              tracker.setStatus(spec.id, partition, created, state, message);
              status(state, message);
            },
          },
          metrics,
          signal,
          dataDir: undefined,
          catalog,
          topology: runtime.topology,
          emit,
        };
        try {
          created = (await entry.factory.create(ctx as never)) as Detector;
          tracker.track(spec.id, partition, created, catalog, signal);
          return created;
        } catch (e) {
          throw new SextantError(ErrorCode.START_FAILED, `${spec.id}: create() failed for a partition: ${formatError(e)}`);
        }
      },
    });
  }
  if (issues.length) throw configError(issues);
  return out;
}

