/**
 * The Sextant runtime, as a distribution sees it: a thin facade over the services in its root DI
 * container (runtime-container.ts; docs/architecture.md, "Runtime"):
 *
 *   PluginRegistry   discovery, import, dependency order, register(), factories, hints
 *   InstanceManager  create/start/stop/remove instances, contexts, statuses
 *   RemoteHost       plugin packages in supervised child processes
 *   CollectorScheduling, LearnedState, Pipeline, the outbox, the stores, self-telemetry, ...
 *
 * Lifecycle:
 *   const rt = await Runtime.load(options);   // discover + import + register every plugin
 *   const issues = await rt.validate();       // every configuration problem at once
 *   const report = await rt.start();          // create + start instances; errors collected
 *   await rt.stop();                          // idempotent
 *
 * A plugin that fails (bad manifest, import error, register() throws, duplicate factory type, a
 * service nobody provides, a dependency cycle, create()/start() throws or times out) is recorded
 * in the startup report and its status; the others keep running. After start, failures become
 * statuses, never crashes.
 */
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import type { DependencyContainer } from 'tsyringe';
import { coreServices, type Attributes, type Clock, type Component, type ConfigIssue, type ExtensionKind, type Logger } from '@sextant/plugin-api';
import { configError, instanceSpecs, type InstanceSpec, type RuntimeConfig } from '../config/runtime-config.js';
import type { NotificationDispatcher } from '../outbox/notification-dispatcher.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { PluginCandidate } from '../plugins/plugin-discovery.js';
import type { SampleStore } from '../store/sample-store.js';
import type { SeriesRegistry } from '../store/series-registry.js';
import type { TopologyGraph } from '../store/topology-graph.js';
import type { IngestRoutes } from '../http/ingest-routes.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { TOKENS } from '../tokens.js';
import type { InstanceManager, InstanceStatus } from './instance-manager.js';
import type { LearnedState } from './learned-state.js';
import type { FactoryEntry } from './plugin-scope.js';
import type { PluginInfo, PluginRegistry } from './plugin-registry.js';
import type { RemoteHost } from './remote-host.js';
import { createRuntimeContainer } from './runtime-container.js';
import type { RuntimeOptions } from './runtime-options.js';
import type { StartupProblem, StartupProblems } from './startup-problems.js';

export { defaultHostResource } from './runtime-container.js';
export type { RuntimeOptions } from './runtime-options.js';
export type { StartupProblem } from './startup-problems.js';
export type { PluginInfo } from './plugin-registry.js';
export type { InstanceStatus } from './instance-manager.js';
export type { RemotePluginLauncher } from './remote-host.js';

export class Runtime {
  readonly config: RuntimeConfig;
  readonly telemetry: SelfTelemetry;
  /** `coreServices.httpRouter`: what components mounted under /ingest/ (the API server serves it). */
  readonly http: IngestRoutes;
  readonly registry: SeriesRegistry;
  readonly store: SampleStore;
  readonly topology: TopologyGraph;
  readonly pipeline: Pipeline;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hostResource: Attributes;
  /** The notification outbox. */
  readonly dispatcher: NotificationDispatcher;
  readonly startedAt: number;
  private readonly container: DependencyContainer;
  private readonly pluginRegistry: PluginRegistry;
  private readonly instances: InstanceManager;
  private readonly learned: LearnedState;
  private readonly remote: RemoteHost;
  private readonly startup: StartupProblems;
  private specs: InstanceSpec[] = [];
  private started = false;
  private stopping: Promise<void> | undefined;
  private tickCancel?: () => void;

  private constructor(options: RuntimeOptions) {
    const c = (this.container = createRuntimeContainer(options));
    this.config = c.resolve(TOKENS.config);
    this.clock = c.resolve(TOKENS.clock);
    this.logger = c.resolve(TOKENS.logger);
    this.hostResource = c.resolve(TOKENS.hostResource);
    this.telemetry = c.resolve(TOKENS.telemetry);
    this.http = c.resolve(coreServices.httpRouter.token);
    this.registry = c.resolve(TOKENS.registry);
    this.store = c.resolve(TOKENS.store);
    this.topology = c.resolve(TOKENS.topology);
    this.pipeline = c.resolve(TOKENS.pipeline);
    this.dispatcher = c.resolve(TOKENS.outbox);
    this.startup = c.resolve(TOKENS.problems);
    this.pluginRegistry = c.resolve(TOKENS.plugins);
    this.remote = c.resolve(TOKENS.remoteHost);
    this.learned = c.resolve(TOKENS.checkpoint);
    this.instances = c.resolve(TOKENS.instances);
    this.startedAt = this.clock.now();
    const host = String(this.hostResource['host.name']);
    this.topology.apply({ upsertEntities: [{ id: `host:${host}`, type: 'host', name: host, attributes: this.hostResource }] });
  }

  /** Discovers, imports and registers every plugin. Never throws for a plugin's fault. */
  static async load(options: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(options);
    await rt.pluginRegistry.load();
    rt.specs = instanceSpecs(rt.config, []);
    return rt;
  }

  /** Problems from loading and starting, in order. */
  get problems(): StartupProblem[] {
    return this.startup.list;
  }

  /** Everything the runtime found, loaded or not. */
  plugins(): PluginInfo[] {
    return this.pluginRegistry.plugins();
  }

  /** Plugin candidates as discovered (manifests included), for autodiscovery and explain. */
  candidates(): readonly PluginCandidate[] {
    return this.pluginRegistry.candidates();
  }

  factory(kind: ExtensionKind, type: string): FactoryEntry | undefined {
    return this.pluginRegistry.factory(kind, type);
  }

  /** Validates every configured instance against its factory's schema; lists every issue. */
  async validate(): Promise<ConfigIssue[]> {
    const issues: ConfigIssue[] = [];
    this.specs = instanceSpecs(this.config, issues);
    await this.pluginRegistry.validateInstances(this.specs, issues);
    return issues;
  }

  /**
   * Creates and starts every enabled instance. Throws CONFIG_INVALID (listing every issue) before
   * anything starts when the configuration is invalid; otherwise never throws for a component's
   * fault: the problems are returned and shown in statuses.
   */
  async start(): Promise<StartupProblem[]> {
    if (this.started) return this.problems;
    const issues = await this.validate();
    if (issues.length) throw configError(issues);
    this.started = true;
    if (this.config.dataDir) mkdirSync(this.config.dataDir, { recursive: true });
    this.learned.restore();
    await this.instances.startAll(this.specs);
    const tick = () => {
      this.pipeline.tick(this.clock.now());
      this.tickCancel = this.clock.setTimeout(tick, 1000);
    };
    this.tickCancel = this.clock.setTimeout(tick, 1000);
    this.learned.schedule(() => this.instances.stateful());
    return this.problems;
  }

  /**
   * Runs one collection round of every collector now (tests, embedding); a collector whose round
   * is in flight is waited for instead (collect() never runs twice at once), a stuck one skipped.
   */
  collectNow(): Promise<void> {
    return this.instances.collectNow();
  }

  /** The running component of an instance (for `notify test` and embedding), if it started. */
  component(id: string): Component | undefined {
    return this.instances.component(id);
  }

  /** Status of every configured instance. */
  statuses(): InstanceStatus[] {
    return this.instances.statuses();
  }

  /**
   * Starts an instance that was not in the configuration (autodiscovery). Its id must be unique;
   * the config is validated by the factory schema like any other.
   */
  addInstance(spec: Omit<InstanceSpec, 'section'> & { section?: InstanceSpec['section'] }): Promise<InstanceStatus | undefined> {
    return this.instances.add(spec);
  }

  /** Stops and forgets one instance, including its series in the self-telemetry (/metrics). */
  removeInstance(id: string): Promise<void> {
    return this.instances.remove(id);
  }

  /**
   * Checkpoints everything a restart needs into the data directory (series registry, detector and
   * correlator snapshots, incidents, events). Returns how long it took (ms).
   */
  saveSnapshots(): number {
    return this.learned.save(this.instances.stateful());
  }

  /** Stops every instance (collectors first), saves learned state, then stops detectors. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.tickCancel?.();
      this.learned.stop();
      await this.instances.stopAll(async () => {
        await this.learned.prepare(this.instances.stateful());
        this.saveSnapshots();
      });
      await this.dispatcher.close();
      await this.remote.shutdown();
      this.pluginRegistry.dispose();
      void this.container.dispose();
    })();
    return this.stopping;
  }
}
