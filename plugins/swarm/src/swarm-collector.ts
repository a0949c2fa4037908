/**
 * The `swarm` collector: reads a Docker Swarm manager through the Engine API and reports services,
 * tasks and nodes as metrics, the node -> task -> container -> service topology, and change events.
 *
 * Every `collect()` polls `/info`; what happens next depends on the engine's place in the swarm:
 * - not in a swarm (or the swarm was left): status `degraded` saying so; anything reported before
 *   is withdrawn from the topology;
 * - a worker, or a manager that is not the leader (with `report: leader`): status `ok` saying that
 *   the leader's agent reports the cluster; nothing cluster-level is written here;
 * - the leader: `/nodes`, `/services?status=true`, `/tasks` -> metrics, topology differences,
 *   task-failure events, and (when the event stream is not available) change events from poll
 *   differences.
 * Change events otherwise come from the `/events` stream (service and node events), resumed
 * without loss or duplicates after a reconnect (see @sextant/docker-engine's ResumableEventStream).
 *
 * After start nothing throws: engine problems become a status with a coded error and a counter.
 */
import {
  ErrorCode,
  SextantError,
  createCollectorFactory,
  formatError,
  isSextantError,
  type Attributes,
  type Collector,
  type CollectorContext,
  type SelfCounter,
} from '@sextant/plugin-api';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient, ResumableEventStream, isNotSwarmManager, type EngineEvent, type EngineInfo, type EventStreamPosition } from '@sextant/docker-engine';
import { engineEndpoint, swarmConfigSchema, swarmDefaults, type SwarmConfig } from './config.js';
import { changeEvent, factsFromEngineEvent, factsFromSnapshots, type FactOrigin } from './swarm-change-events.js';
import { clusterResource, nodeResource, serviceResource } from './swarm-keys.js';
import { NODE_AVAILABILITIES, NODE_STATES, SWARM_METRICS, type SwarmMetricSpec } from './swarm-metrics.js';
import { TASK_BUCKETS, buildSnapshot, updateProgress, type NodeView, type ServiceView, type SwarmSnapshot } from './swarm-snapshot.js';
import { SwarmTopology } from './swarm-topology.js';
import { TaskFailureTracker } from './task-failure-tracker.js';

/** This agent's place in the swarm, as of the last poll. */
export type SwarmRole = 'unknown' | 'outside' | 'worker' | 'follower' | 'leader';

const M = SWARM_METRICS;
/** Series slots of one service, one node and the cluster (fixed layouts, ids cached in Int32Arrays). */
const SERVICE_SERIES: readonly [SwarmMetricSpec, string | undefined][] = [
  [M.serviceDesired, undefined],
  [M.serviceRunning, undefined],
  ...TASK_BUCKETS.map((b) => [M.serviceTasks, b] as [SwarmMetricSpec, string]),
  [M.serviceRestarts, undefined],
  [M.updateActive, undefined],
  [M.updatePaused, undefined],
  [M.updateRolledBack, undefined],
  [M.updateProgress, undefined],
];
const NODE_SERIES: readonly [SwarmMetricSpec, string | undefined][] = [
  [M.nodeReady, undefined],
  ...NODE_AVAILABILITIES.map((a) => [M.nodeAvailability, a] as [SwarmMetricSpec, string]),
  [M.nodeLeader, undefined],
  [M.nodeReachable, undefined],
  [M.nodeCpus, undefined],
  [M.nodeMemory, undefined],
  [M.nodeTasks, undefined],
];
const CLUSTER_SERIES: readonly [SwarmMetricSpec, string | undefined][] = [...NODE_STATES.map((s) => [M.clusterNodes, s] as [SwarmMetricSpec, string]), [M.clusterServices, undefined]];

interface SeriesRecord {
  readonly resource: Attributes;
  readonly ids: Int32Array;
}

/** File in the instance's data directory where the event stream's position survives a restart. */
const POSITION_FILE = 'event-stream-position.json';

/** Stream events held while this agent's role is not known yet (before the first poll). */
const MAX_PENDING_EVENTS = 10_000;

export class SwarmCollector implements Collector {
  readonly client: EngineClient;
  private stream: ResumableEventStream | undefined;
  private connecting: Promise<boolean> | undefined;
  private connected = false;
  private closed = false;
  /** True while change events must come from poll differences (no usable event stream). */
  private pollEvents: boolean;
  private streamEverOpened = false;
  /** `degraded` while the event stream is down (and events are not coming from polls instead). */
  private streamProblem: 'degraded' | undefined;
  private streamMessage = '';
  /** The stream's duplicatesDropped already added to the self-metric. */
  private duplicatesCounted = 0;
  private startedAt = 0;
  /** The position last saved to the data directory (JSON), to write only when it moved. */
  private savedPosition = '';
  private role: SwarmRole = 'unknown';
  private clusterId = '';
  private previous: SwarmSnapshot | undefined;
  private pending: EngineEvent[] = [];
  private readonly topology = new SwarmTopology();
  private readonly failures: TaskFailureTracker;
  private readonly serviceSeries = new Map<string, SeriesRecord>();
  private readonly nodeSeries = new Map<string, SeriesRecord>();
  private clusterSeries: SeriesRecord | undefined;
  private serviceNames = new Map<string, string>();
  private nodeHostnames = new Map<string, string>();
  private readonly counters: {
    engineErrors: SelfCounter;
    reconnects: SelfCounter;
    duplicates: SelfCounter;
    malformedEvents: SelfCounter;
    malformedEntries: SelfCounter;
    seriesLimit: SelfCounter;
    eventsDropped: SelfCounter;
  };

  constructor(private readonly ctx: CollectorContext<SwarmConfig>) {
    const cfg = ctx.config;
    this.client = new EngineClient(engineEndpoint(cfg), cfg.requestTimeout, cfg.maxResponseBytes);
    this.failures = new TaskFailureTracker(cfg.failureThreshold, cfg.failureWindow);
    this.pollEvents = cfg.events === 'poll';
    const m = ctx.metrics;
    this.counters = {
      engineErrors: m.counter('engine_errors_total', 'Failed requests to the engine, by error code.'),
      reconnects: m.counter('event_stream_reconnects_total', 'Times the engine event stream was reopened.'),
      duplicates: m.counter('event_duplicates_dropped_total', 'Replayed events dropped after a reconnect because they had been delivered.'),
      malformedEvents: m.counter('event_parse_errors_total', 'Event stream lines that were not JSON objects.'),
      malformedEntries: m.counter('malformed_entries_total', 'Nodes, services or tasks without an id, skipped.'),
      seriesLimit: m.counter('series_limit_total', 'Series not written because the plugin series limit was reached.'),
      eventsDropped: m.counter('events_dropped_total', 'Stream events not reported, by reason (not_leader, backlog).'),
    };
  }

  /** This agent's place in the swarm as of the last poll. */
  get swarmRole(): SwarmRole {
    return this.role;
  }

  /** The event stream, when `events: stream` (exposed for fault tests and diagnostics). */
  get eventStream(): ResumableEventStream | undefined {
    return this.stream;
  }

  start(): void {
    // Events from this moment on are reported, even those made while the connection is set up.
    this.startedAt = this.ctx.clock.now();
    this.ctx.status.set('starting', `connecting to the engine at ${this.client.socketPath}`);
    this.connecting = this.connect();
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (!(await this.ensureConnected())) return;
    let info: EngineInfo;
    try {
      info = await this.client.info(signal);
    } catch (e) {
      this.engineFailed(e);
      return;
    }
    const swarm = info.Swarm ?? {};
    const local = swarm.LocalNodeState ?? 'inactive';
    this.clusterId = swarm.Cluster?.ID ?? this.clusterId;
    if (local !== 'active') {
      const was = this.role;
      this.stopReporting('outside');
      const why = local === 'inactive' ? 'is not part of a swarm' : `is in swarm state "${local}"${swarm.Error ? ` (${swarm.Error})` : ''}`;
      this.ctx.status.set(
        'degraded',
        `the engine at ${this.client.socketPath} ${why}${was === 'leader' || was === 'follower' || was === 'worker' ? ' any more (the swarm was left)' : ''}; no swarm state to report`,
        ErrorCode.CONFIG_INVALID,
      );
      return;
    }
    if (!swarm.ControlAvailable) {
      this.stopReporting('worker');
      this.ctx.status.set('ok', `swarm worker node ${swarm.NodeID ?? ''}: the leader manager's agent reports the cluster; this node's containers are reported by the containers collector`);
      return;
    }
    let snapshot: SwarmSnapshot;
    try {
      const nodes = await this.client.listNodes(signal);
      const self = (Array.isArray(nodes) ? nodes : []).find((n) => n?.ID === swarm.NodeID);
      const leader = self?.ManagerStatus?.Leader === true;
      if (!leader && this.ctx.config.report === 'leader') {
        const leaderNode = (Array.isArray(nodes) ? nodes : []).find((n) => n?.ManagerStatus?.Leader === true);
        this.stopReporting('follower');
        this.ctx.status.set('ok', `swarm manager, not the leader: the agent on the leader (${leaderNode?.Description?.Hostname ?? 'unknown'}) reports the cluster`);
        return;
      }
      const [services, tasks] = await Promise.all([this.client.listServices(signal), this.client.listTasks(undefined, signal)]);
      snapshot = buildSnapshot(nodes, services, tasks);
    } catch (e) {
      if (isNotSwarmManager(e)) {
        // Demoted (or the swarm was left) between /info and the cluster requests: next poll says which.
        this.stopReporting('worker');
        this.ctx.status.set('ok', `the engine stopped being a swarm manager: ${formatError(e)}`);
        return;
      }
      this.engineFailed(e);
      return;
    }
    this.report(snapshot);
    this.savePosition();
    this.ctx.status.set(
      this.streamProblem ?? 'ok',
      `swarm leader: ${snapshot.nodes.length} nodes, ${snapshot.services.length} services, ${snapshot.taskCount} tasks${this.pollEvents ? '; change events from polling' : ''}${this.streamMessage ? `; ${this.streamMessage}` : ''}`,
      this.streamProblem ? ErrorCode.CONNECTION_FAILED : undefined,
    );
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    await this.stream?.stop();
    this.savePosition();
  }

  /**
   * The saved stream position of the previous run against the same engine, so events made while
   * the agent was down are caught up (as far as the engine's replay buffer reaches).
   */
  private loadPosition(): EventStreamPosition | undefined {
    if (!this.ctx.dataDir) return undefined;
    try {
      const saved = JSON.parse(readFileSync(join(this.ctx.dataDir, POSITION_FILE), 'utf8')) as { engine?: unknown; position?: EventStreamPosition };
      if (saved.engine !== this.client.socketPath || !saved.position) return undefined;
      this.savedPosition = JSON.stringify(saved.position);
      return saved.position;
    } catch {
      return undefined;
    }
  }

  private savePosition(): void {
    const position = this.stream?.position;
    if (!this.ctx.dataDir || !position) return;
    const json = JSON.stringify(position);
    if (json === this.savedPosition) return;
    try {
      const file = join(this.ctx.dataDir, POSITION_FILE);
      writeFileSync(`${file}.tmp`, JSON.stringify({ engine: this.client.socketPath, position }));
      renameSync(`${file}.tmp`, file);
      this.savedPosition = json;
    } catch (e) {
      this.ctx.logger.warn(`cannot save the event stream position in ${this.ctx.dataDir}: ${formatError(e)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // engine connection and event stream

  private async ensureConnected(): Promise<boolean> {
    if (this.connected) return true;
    if (this.connecting) await this.connecting;
    if (!this.connected && !this.closed) {
      this.connecting = this.connect();
      await this.connecting;
    }
    return this.connected;
  }

  private async connect(): Promise<boolean> {
    try {
      await this.client.connect(this.ctx.signal);
    } catch (e) {
      this.engineFailed(e);
      return false;
    }
    if (this.closed) return false;
    this.connected = true;
    if (this.ctx.config.events === 'stream' && !this.stream) {
      this.stream = new ResumableEventStream({
        client: this.client,
        resumeFrom: this.loadPosition() ?? { timeNano: String(BigInt(Math.floor(this.startedAt || this.ctx.clock.now())) * 1_000_000n), delivered: [] },
        filters: { type: ['service', 'node'] },
        clock: this.ctx.clock,
        maxBackoffMs: this.ctx.config.maxBackoff,
        onEvent: (e) => this.onEngineEvent(e),
        onMalformed: () => this.counters.malformedEvents.add(1),
        onState: (state) => {
          if (state.kind === 'open') {
            this.streamEverOpened = true;
            this.pollEvents = false;
            this.streamProblem = undefined;
            this.streamMessage = '';
            return;
          }
          this.counters.reconnects.add(1);
          const refused = typeof state.error.details.status === 'number';
          if (refused && !this.streamEverOpened && !this.pollEvents) {
            // An engine (or socket proxy) that refuses /events: change events from poll differences.
            this.pollEvents = true;
            this.ctx.logger.warn(`event stream refused (${formatError(state.error)}); change events now come from polling`);
          }
          this.streamProblem = this.pollEvents ? undefined : 'degraded';
          this.streamMessage = this.pollEvents ? '' : `event stream lost (${state.error.message}); reconnecting, events will be caught up`;
        },
      });
      await this.stream.start();
    }
    return true;
  }

  private engineFailed(e: unknown): void {
    const err = isSextantError(e) ? e : new SextantError(ErrorCode.CONNECTION_FAILED, formatError(e));
    this.counters.engineErrors.add(1, { code: err.code });
    // A socket-level failure (no HTTP status): connect again (and re-read /version) next time.
    if (err.details.status === undefined) this.connected = false;
    this.ctx.status.set('error', formatError(err), err.code);
  }

  private onEngineEvent(e: EngineEvent): void {
    const dropped = this.stream?.duplicatesDropped ?? 0;
    if (dropped > this.duplicatesCounted) {
      this.counters.duplicates.add(dropped - this.duplicatesCounted);
      this.duplicatesCounted = dropped;
    }
    if (this.role === 'unknown') {
      if (this.pending.length >= MAX_PENDING_EVENTS) {
        this.counters.eventsDropped.add(1, { reason: 'backlog' });
        return;
      }
      this.pending.push(e);
      return;
    }
    if (this.role !== 'leader') {
      this.counters.eventsDropped.add(1, { reason: 'not_leader' });
      return;
    }
    this.emitEngineEvent(e);
    this.ctx.sink.flush();
  }

  private emitEngineEvent(e: EngineEvent): void {
    const facts = factsFromEngineEvent(
      e,
      (id) => this.serviceNames.get(id),
      (id) => this.nodeHostnames.get(id),
    );
    const timeNano = typeof e.timeNano === 'number' ? e.timeNano : typeof e.time === 'number' ? e.time * 1e9 : this.ctx.clock.now() * 1e6;
    const at: FactOrigin = { origin: 'stream', timestamp: Math.floor(timeNano / 1e6), key: String(timeNano) };
    facts.forEach((f, i) => this.ctx.sink.event(changeEvent(f, at, this.clusterId, i)));
  }

  // -------------------------------------------------------------------------------------------
  // reporting

  /** Stops reporting cluster state (no longer leader, worker, or outside a swarm). */
  private stopReporting(role: SwarmRole): void {
    if (this.role === 'leader') {
      const update = this.topology.clear();
      if (update) this.ctx.sink.topology(update);
      this.ctx.sink.flush();
    }
    this.role = role;
    this.previous = undefined;
    if (this.pending.length) this.counters.eventsDropped.add(this.pending.length, { reason: 'not_leader' });
    this.pending = [];
  }

  private report(snapshot: SwarmSnapshot): void {
    const now = this.ctx.clock.now();
    if (snapshot.malformed) this.counters.malformedEntries.add(snapshot.malformed);
    this.serviceNames = new Map(snapshot.services.map((s) => [s.id, s.name]));
    this.nodeHostnames = new Map(snapshot.nodes.map((n) => [n.id, n.hostname]));
    this.role = 'leader';
    for (const e of this.pending.splice(0)) this.emitEngineEvent(e);

    const services = new Map(snapshot.services.map((s) => [s.id, s]));
    for (const event of this.failures.update(snapshot.failedTasks, services, now, this.clusterId)) this.ctx.sink.event(event);
    if (this.pollEvents && this.previous) {
      const at: FactOrigin = { origin: 'poll', timestamp: now, key: String(now) };
      factsFromSnapshots(this.previous, snapshot).forEach((f, i) => this.ctx.sink.event(changeEvent(f, at, this.clusterId, i)));
    }
    // Kept only while events come from poll differences: a snapshot of a large swarm is big.
    this.previous = this.pollEvents ? snapshot : undefined;

    const update = this.topology.diff(snapshot, this.clusterId);
    if (update) this.ctx.sink.topology(update);
    this.writeMetrics(snapshot, now);
    this.ctx.sink.flush();
  }

  private writeMetrics(snapshot: SwarmSnapshot, now: number): void {
    const seenServices = new Set<string>();
    for (const s of snapshot.services) {
      seenServices.add(s.id);
      const rec = this.record(this.serviceSeries, s.id, () => serviceResource(s, this.clusterId), SERVICE_SERIES.length);
      this.writeService(rec, s, now);
    }
    for (const id of this.serviceSeries.keys()) if (!seenServices.has(id)) this.serviceSeries.delete(id);
    const seenNodes = new Set<string>();
    const byState = new Float64Array(NODE_STATES.length);
    for (const n of snapshot.nodes) {
      seenNodes.add(n.id);
      const rec = this.record(this.nodeSeries, n.id, () => nodeResource(n, this.clusterId), NODE_SERIES.length);
      this.writeNode(rec, n, now);
      const i = (NODE_STATES as readonly string[]).indexOf(n.state);
      byState[i >= 0 ? i : NODE_STATES.indexOf('unknown')]++;
    }
    for (const id of this.nodeSeries.keys()) if (!seenNodes.has(id)) this.nodeSeries.delete(id);
    this.clusterSeries ??= { resource: clusterResource(this.clusterId), ids: new Int32Array(CLUSTER_SERIES.length).fill(-1) };
    for (let i = 0; i < NODE_STATES.length; i++) this.write(this.clusterSeries, CLUSTER_SERIES, i, byState[i], now);
    this.write(this.clusterSeries, CLUSTER_SERIES, NODE_STATES.length, snapshot.services.length, now);
  }

  private writeService(rec: SeriesRecord, s: ServiceView, now: number): void {
    const u = s.updateState;
    let i = 0;
    this.write(rec, SERVICE_SERIES, i++, s.desired, now);
    this.write(rec, SERVICE_SERIES, i++, s.running, now);
    for (let b = 0; b < TASK_BUCKETS.length; b++) this.write(rec, SERVICE_SERIES, i++, s.tasks[b], now);
    this.write(rec, SERVICE_SERIES, i++, this.failures.restarts(s.id), now);
    this.write(rec, SERVICE_SERIES, i++, u === 'updating' || u === 'rollback_started' ? 1 : 0, now);
    this.write(rec, SERVICE_SERIES, i++, u === 'paused' || u === 'rollback_paused' ? 1 : 0, now);
    this.write(rec, SERVICE_SERIES, i++, u.startsWith('rollback') ? 1 : 0, now);
    this.write(rec, SERVICE_SERIES, i++, updateProgress(s), now);
  }

  private writeNode(rec: SeriesRecord, n: NodeView, now: number): void {
    let i = 0;
    this.write(rec, NODE_SERIES, i++, n.state === 'ready' ? 1 : 0, now);
    for (const a of NODE_AVAILABILITIES) this.write(rec, NODE_SERIES, i++, n.availability === a ? 1 : 0, now);
    this.write(rec, NODE_SERIES, i++, n.leader ? 1 : 0, now);
    if (n.role === 'manager') this.write(rec, NODE_SERIES, i, n.reachability === 'reachable' ? 1 : 0, now);
    i++;
    this.write(rec, NODE_SERIES, i++, n.cpus, now);
    this.write(rec, NODE_SERIES, i++, n.memoryBytes, now);
    this.write(rec, NODE_SERIES, i++, n.runningTasks, now);
  }

  private record(map: Map<string, SeriesRecord>, id: string, resource: () => Attributes, size: number): SeriesRecord {
    let rec = map.get(id);
    if (!rec) map.set(id, (rec = { resource: resource(), ids: new Int32Array(size).fill(-1) }));
    return rec;
  }

  private write(rec: SeriesRecord, layout: readonly [SwarmMetricSpec, string | undefined][], index: number, value: number, now: number): void {
    if (!Number.isFinite(value)) return;
    let id = rec.ids[index];
    if (id < 0) {
      const [spec, split] = layout[index];
      try {
        id = this.ctx.sink.series({
          metric: spec.metric,
          unit: spec.unit,
          type: spec.type,
          ...(spec.kind ? { kind: spec.kind } : {}),
          description: spec.description,
          resource: rec.resource,
          attributes: spec.split && split !== undefined ? { [spec.split]: split } : {},
        });
      } catch (e) {
        if (isSextantError(e) && e.code === ErrorCode.LIMIT_EXCEEDED) {
          this.counters.seriesLimit.add(1);
          return;
        }
        throw e;
      }
      rec.ids[index] = id;
    }
    this.ctx.sink.sample(id, value, now);
  }
}

export const swarmCollectorFactory = createCollectorFactory<SwarmConfig>({
  type: 'swarm',
  stability: 'alpha',
  description: 'Docker Swarm: nodes, services and tasks as metrics, node -> task -> container -> service topology with replicas as peer groups, and rollout/scale/node change events.',
  configSchema: swarmConfigSchema,
  defaults: swarmDefaults,
  create: (ctx) => new SwarmCollector(ctx),
});
