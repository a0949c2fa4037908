/**
 * The instance manager: creates, starts, stops and removes component instances, gives each its
 * context (from its plugin's scope: logger, self-metrics, status, data directory, and the kind's
 * own parts such as a collector's sink), attaches them to the pipeline, the scheduler or the
 * outbox, and keeps their statuses (`statuses()`, `sextant_plugin_status` on /metrics).
 *
 * After start() nothing here throws for a component's fault: a failed create()/start() is a
 * startup problem and an `error` status, a failed round a `degraded` one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import {
  ErrorCode,
  SextantError,
  formatError,
  mergeDefaults,
  toSextantError,
  validateConfig,
  type Attributes,
  type Collector,
  type Component,
  type Correlator,
  type Detector,
  type Exporter,
  type ExtensionKind,
  type HealthState,
  type Logger,
  type Notifier,
} from '@sextant/plugin-api';
import { configError, type InstanceSpec, type Isolation, type RuntimeConfig } from '../config/runtime-config.js';
import type { NotificationDispatcher } from '../outbox/notification-dispatcher.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { SeriesRegistry } from '../store/series-registry.js';
import type { TopologyGraph } from '../store/topology-graph.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';
import type { Clock } from '@sextant/plugin-api';
import { TOKENS } from '../tokens.js';
import { CollectorSink } from './collector-sink.js';
import type { CollectorScheduler, CollectorScheduling } from './collector-scheduler.js';
import { withTimeout } from './deadline.js';
import type { LearnedState, StatefulInstance } from './learned-state.js';
import type { FactoryEntry } from './plugin-scope.js';
import type { PluginRegistry } from './plugin-registry.js';
import type { RemoteHost } from './remote-host.js';
import type { StartupProblems } from './startup-problems.js';

export interface InstanceStatus {
  readonly id: string;
  readonly kind: ExtensionKind;
  readonly type: string;
  readonly plugin: string;
  readonly isolation: Isolation;
  readonly state: HealthState;
  readonly message?: string;
  readonly code?: string;
  readonly since: number;
  readonly intervalMs?: number;
  readonly collections: number;
  readonly failures: number;
  readonly lastDurationMs?: number;
  /** Collectors: rounds not started because a timed-out collect() had not returned (see CollectorScheduler). */
  readonly skippedRounds?: number;
  readonly series?: number;
  readonly restarts: number;
  /** For out-of-process instances: the supervised child (state, pid, restarts, crashes). */
  readonly process?: { readonly state?: string; readonly pid?: number; readonly restarts?: number; readonly crashes?: number; readonly quarantined?: boolean };
}

interface RunningInstance {
  readonly spec: InstanceSpec;
  entry: FactoryEntry;
  readonly isolation: Isolation;
  status: { state: HealthState; message?: string; code?: string; since: number };
  component?: Component;
  sink?: CollectorSink;
  controller: AbortController;
  scheduler?: CollectorScheduler;
  /** Removed from the runtime: its metric series are gone and must not come back. */
  removed?: boolean;
  detach?: () => void | Promise<void>;
  collections: number;
  failures: number;
  lastDurationMs?: number;
  /** True while the runtime (not the component) holds the instance degraded after a failed round. */
  runtimeDegraded: boolean;
  restarts: number;
  /** The component has reported a status of its own through ctx.status. */
  reported: boolean;
  /** Key of the out-of-process child serving this instance. */
  remoteKey?: string;
  config?: unknown;
}

const STATES: readonly HealthState[] = ['starting', 'ok', 'degraded', 'error', 'stopped', 'quarantined'];

@injectable()
export class InstanceManager {
  private readonly instances = new Map<string, RunningInstance>();

  constructor(
    @inject(TOKENS.config) private readonly config: RuntimeConfig,
    @inject(TOKENS.clock) private readonly clock: Clock,
    @inject(TOKENS.logger) private readonly logger: Logger,
    @inject(TOKENS.hostResource) private readonly hostResource: Attributes,
    @inject(TOKENS.telemetry) private readonly telemetry: SelfTelemetry,
    @inject(TOKENS.registry) private readonly registry: SeriesRegistry,
    @inject(TOKENS.topology) private readonly topology: TopologyGraph,
    @inject(TOKENS.pipeline) private readonly pipeline: Pipeline,
    @inject(TOKENS.outbox) private readonly outbox: NotificationDispatcher,
    @inject(TOKENS.plugins) private readonly plugins: PluginRegistry,
    @inject(TOKENS.remoteHost) private readonly remote: RemoteHost,
    @inject(TOKENS.scheduler) private readonly scheduling: CollectorScheduling,
    @inject(TOKENS.checkpoint) private readonly learned: LearnedState,
    @inject(TOKENS.problems) private readonly problems: StartupProblems,
  ) {}

  /** Starts the given instances: exporters, notifiers and correlators first so nothing produced at start is missed, collectors last. */
  async startAll(specs: readonly InstanceSpec[]): Promise<void> {
    const order: ExtensionKind[] = ['exporter', 'notifier', 'correlator', 'detector', 'collector'];
    const sorted = specs.filter((s) => s.enabled).sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
    await Promise.all(sorted.map((spec) => this.start(spec)));
  }

  /**
   * Starts an instance that was not in the configuration (autodiscovery). Its id must be unique;
   * the config is validated by the factory schema like any other.
   */
  async add(spec: Omit<InstanceSpec, 'section'> & { section?: InstanceSpec['section'] }): Promise<InstanceStatus | undefined> {
    if (this.instances.has(spec.id)) throw new SextantError(ErrorCode.CONFIG_INVALID, `instance ${spec.id} already exists`);
    const full: InstanceSpec = { ...spec, section: spec.section ?? (`${spec.kind}s` as InstanceSpec['section']) };
    if (!this.plugins.factory(full.kind, full.type)) {
      throw new SextantError(ErrorCode.UNKNOWN_FACTORY, `no ${full.kind} of type "${full.type}" is installed`, { hint: this.plugins.unknownTypeHint(full.kind, full.type) });
    }
    await this.start(full);
    return this.statuses().find((s) => s.id === spec.id);
  }

  /** Stops and forgets one instance, including its series in the self-telemetry (/metrics). */
  async remove(id: string): Promise<void> {
    const inst = this.instances.get(id);
    if (!inst) return;
    this.instances.delete(id);
    await this.stopInstance(inst);
    inst.removed = true;
    this.telemetry.removeSeries({ instance: id });
  }

  /**
   * Stops every instance, collectors first; detectors last, after `beforeDetectors` (the final
   * checkpoint, so what they learned until the end is saved).
   */
  async stopAll(beforeDetectors: () => Promise<void> | void): Promise<void> {
    const order: ExtensionKind[] = ['collector', 'correlator', 'notifier', 'exporter'];
    const all = [...this.instances.values()];
    for (const kind of order) await Promise.all(all.filter((i) => i.spec.kind === kind).map((i) => this.stopInstance(i)));
    await beforeDetectors();
    await Promise.all(all.filter((i) => i.spec.kind === 'detector').map((i) => this.stopInstance(i)));
  }

  /**
   * Runs one collection round of every collector now (tests, embedding); a collector whose round
   * is in flight is waited for instead (collect() never runs twice at once), a stuck one skipped.
   */
  async collectNow(): Promise<void> {
    await Promise.all([...this.instances.values()].filter((i) => i.scheduler && i.status.state !== 'error').map((i) => i.scheduler!.collectNow()));
  }

  /** The running component of an instance, if it started. */
  component(id: string): Component | undefined {
    return this.instances.get(id)?.component;
  }

  /** Detectors and correlators, for checkpoints. */
  *stateful(): Iterable<StatefulInstance> {
    for (const inst of this.instances.values()) {
      if ((inst.spec.kind === 'detector' || inst.spec.kind === 'correlator') && inst.component) {
        yield { id: inst.spec.id, component: inst.component as Detector | Correlator };
      }
    }
  }

  /** Status of every configured instance. */
  statuses(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => ({
      id: i.spec.id,
      kind: i.spec.kind,
      type: i.spec.type,
      plugin: i.entry.pluginId,
      isolation: i.isolation,
      state: i.status.state,
      ...(i.status.message ? { message: i.status.message } : {}),
      ...(i.status.code ? { code: i.status.code } : {}),
      since: i.status.since,
      ...(i.spec.kind === 'collector' ? { intervalMs: i.spec.intervalMs ?? this.config.interval } : {}),
      collections: i.collections,
      failures: i.failures,
      ...(i.lastDurationMs !== undefined ? { lastDurationMs: Math.round(i.lastDurationMs * 100) / 100 } : {}),
      ...(i.scheduler ? { skippedRounds: i.scheduler.skipped } : {}),
      ...(i.sink ? { series: i.sink.seriesCount } : {}),
      ...this.processStatus(i),
    }));
  }

  private processStatus(i: RunningInstance): { restarts: number; process?: InstanceStatus['process'] } {
    const st = this.remote.status(i.remoteKey);
    if (!st) return { restarts: i.restarts };
    return {
      restarts: st.restarts ?? 0,
      process: { ...(st.state ? { state: st.state } : {}), ...(st.pid ? { pid: st.pid } : {}), restarts: st.restarts ?? 0, crashes: st.crashes ?? 0, quarantined: Boolean(st.quarantined) },
    };
  }

  private async start(spec: InstanceSpec): Promise<void> {
    const local = this.plugins.factory(spec.kind, spec.type)!;
    const isolation: Isolation = spec.isolation ?? (local.candidate.source === 'builtin' ? 'in-process' : this.config.plugins.isolation);
    const inst: RunningInstance = {
      spec,
      entry: local,
      isolation,
      status: { state: 'starting', since: this.clock.now() },
      controller: new AbortController(),
      collections: 0,
      failures: 0,
      runtimeDegraded: false,
      restarts: 0,
      reported: false,
    };
    this.instances.set(spec.id, inst);
    this.setStatus(inst, 'starting');
    const timeoutMs = spec.startTimeoutMs ?? this.config.plugins.startTimeout;
    try {
      const { entry, key } = await this.remote.resolve(spec, isolation, local);
      inst.entry = entry;
      if (key) inst.remoteKey = key;
      const merged = mergeDefaults(entry.factory.defaults ?? {}, spec.config);
      const validated = await validateConfig(entry.factory.configSchema, merged, `${spec.section}.${spec.id}`);
      if (!validated.ok) throw configError(validated.issues);
      inst.config = validated.value;
      const ctx = this.contextFor(inst, validated.value);
      const component = await withTimeout(entry.factory.create(ctx), timeoutMs, () =>
        new SextantError(ErrorCode.START_TIMEOUT, `${spec.id}: create() did not finish within ${timeoutMs} ms`, { hint: `raise ${spec.section}.${spec.id}.startTimeout or fix the plugin` }),
      );
      inst.component = component;
      await withTimeout(component.start?.(), timeoutMs, () =>
        new SextantError(ErrorCode.START_TIMEOUT, `${spec.id}: start() did not finish within ${timeoutMs} ms`, {
          hint: `start() must return quickly and do long work in the background; raise ${spec.section}.${spec.id}.startTimeout if the system is slow`,
        }),
      );
      this.attach(inst, component);
      // A component that reported its own state (e.g. still connecting) keeps it.
      if (inst.status.state === 'starting' && !inst.reported) this.setStatus(inst, 'ok');
    } catch (e) {
      const err = toSextantError(e, ErrorCode.START_FAILED, `${spec.id}: start failed`, 'see the message above; the other plugins keep running');
      this.setStatus(inst, 'error', err.message, err.code);
      this.problems.add({ plugin: inst.entry.pluginId, instance: spec.id, code: err.code, message: err.message, hint: err.hint });
      inst.controller.abort();
      void Promise.resolve()
        .then(() => inst.component?.shutdown())
        .catch(() => undefined);
    }
  }

  /** The context create() gets: the base every kind has, plus the kind's own parts. */
  private contextFor(inst: RunningInstance, config: unknown) {
    const { spec, entry } = inst;
    const base = {
      config,
      instanceId: spec.id,
      logger: entry.scope.instanceLogger(spec.id),
      clock: this.clock,
      status: {
        set: (state: HealthState, message?: string, code?: string) => {
          inst.reported = true;
          this.setStatus(inst, state, message, code);
        },
      },
      metrics: entry.scope.instanceMetrics(spec.id, () => !inst.removed),
      signal: inst.controller.signal,
      dataDir: this.config.dataDir ? join(this.config.dataDir, 'instances', spec.id.replace(/\//g, '__')) : undefined,
    };
    if (base.dataDir) mkdirSync(base.dataDir, { recursive: true });
    switch (spec.kind) {
      case 'collector': {
        const intervalMs = spec.intervalMs ?? this.config.interval;
        inst.sink = new CollectorSink(this.pipeline, spec.id, this.clock, this.config.store.maxSeriesPerInstance, (message) =>
          this.setStatus(inst, 'degraded', message, ErrorCode.LIMIT_EXCEEDED),
        );
        return { ...base, sink: inst.sink, hostResource: this.hostResource, intervalMs };
      }
      case 'detector':
        return { ...base, catalog: this.registry, topology: this.topology, emit: (a: Parameters<Pipeline['raiseAnomaly']>[0]) => void this.pipeline.raiseAnomaly(a, spec.id) };
      case 'correlator':
        return { ...base, catalog: this.registry, topology: this.topology, publish: (u: Parameters<Pipeline['publishIncident']>[0]) => this.pipeline.publishIncident(u) };
      case 'notifier':
        return base;
      case 'exporter':
        return { ...base, catalog: this.registry };
    }
  }

  private attach(inst: RunningInstance, component: Component): void {
    const statusOf = () => inst.status;
    switch (inst.spec.kind) {
      case 'collector':
        this.schedule(inst, component as Collector);
        break;
      case 'detector': {
        const detector = component as Detector;
        this.learned.restoreInstance(inst.spec.id, detector, statusOf);
        inst.detach = this.pipeline.attachDetector(inst.spec.id, detector, (e) => this.fail(inst, e, 'process'));
        break;
      }
      case 'correlator': {
        const correlator = component as Correlator;
        this.learned.restoreInstance(inst.spec.id, correlator, statusOf);
        inst.detach = this.pipeline.attachCorrelator(inst.spec.id, correlator, (e) => this.fail(inst, e, 'correlate'));
        break;
      }
      case 'notifier':
        inst.detach = this.outbox.attach(inst.spec.id, component as Notifier, (state, message) => this.setStatus(inst, state, message), inst.spec.route);
        break;
      case 'exporter':
        inst.detach = this.pipeline.attachExporter(inst.spec.id, component as Exporter, (e) => this.fail(inst, e, 'export'));
        break;
    }
  }

  private schedule(inst: RunningInstance, collector: Collector): void {
    if (!collector.collect) return;
    const labels = () => ({ plugin: inst.entry.pluginId, instance: inst.spec.id });
    inst.scheduler = this.scheduling.start({
      name: inst.spec.id,
      collect: (signal) => collector.collect!(signal),
      intervalMs: inst.spec.intervalMs ?? this.config.interval,
      observer: {
        succeeded: () => {
          inst.collections++;
          if (inst.runtimeDegraded) {
            inst.runtimeDegraded = false;
            this.setStatus(inst, 'ok');
          }
        },
        failed: (e) => this.fail(inst, e, 'collect'),
        skipped: (stuckForMs, skippedRounds) => {
          if (inst.removed) return;
          this.telemetry.add('sextant_collect_rounds_skipped_total', 'Collection rounds not started because the previous collect() had not returned', 1, labels());
          inst.runtimeDegraded = true;
          this.setStatus(
            inst,
            'degraded',
            `${inst.spec.id}: collect() is stuck: it ignored its abort signal and has not returned ${Math.round(stuckForMs)} ms after timing out; ${skippedRounds} round(s) skipped`,
            ErrorCode.COLLECT_FAILED,
          );
        },
        finished: (durationMs) => {
          inst.sink?.flush();
          inst.lastDurationMs = durationMs;
          this.telemetry.observe('sextant_collect_duration_seconds', 'Duration of collect() rounds', durationMs / 1000, { plugin: inst.entry.pluginId });
        },
      },
    });
  }

  private fail(inst: RunningInstance, error: unknown, what: string): void {
    if (inst.removed) return;
    inst.failures++;
    const err = toSextantError(error, ErrorCode.COLLECT_FAILED, `${inst.spec.id}: ${what} failed`);
    this.telemetry.add('sextant_plugin_failures_total', 'Failed collect/process calls per instance', 1, { plugin: inst.entry.pluginId, instance: inst.spec.id });
    inst.runtimeDegraded = true;
    this.setStatus(inst, 'degraded', err.message, err.code);
  }

  private setStatus(inst: RunningInstance, state: HealthState, message?: string, code?: string): void {
    const prev = inst.status.state;
    inst.status = { state, ...(message ? { message } : {}), ...(code ? { code } : {}), since: state === prev ? inst.status.since : this.clock.now() };
    if (inst.removed) return;
    const labels = { plugin: inst.entry.pluginId, instance: inst.spec.id };
    for (const s of STATES) {
      this.telemetry.set('sextant_plugin_status', 'Current state of each plugin instance (1 = in that state)', s === state ? 1 : 0, { ...labels, state: s });
    }
    if (prev !== state && (state === 'error' || state === 'degraded')) this.logger.warn(`${inst.spec.id} is ${state}${message ? `: ${message}` : ''}`);
  }

  private async stopInstance(inst: RunningInstance): Promise<void> {
    inst.controller.abort();
    inst.scheduler?.stop();
    try {
      await withTimeout(inst.detach?.(), 10_000, () => new SextantError(ErrorCode.START_TIMEOUT, `${inst.spec.id}: handing over queued data did not finish in 10 s`));
    } catch (e) {
      this.logger.warn(formatError(e));
    }
    try {
      await withTimeout(inst.component?.shutdown(), 10_000, () => new SextantError(ErrorCode.START_TIMEOUT, `${inst.spec.id}: shutdown() did not finish in 10 s`));
    } catch (e) {
      this.logger.warn(`${inst.spec.id}: shutdown failed: ${formatError(e)}`);
    }
    inst.sink?.flush();
    this.setStatus(inst, 'stopped');
  }
}
