/**
 * The Sextant runtime: one DI root container per runtime (tsyringe), one child container per
 * plugin, extension points bound as tokens (`Symbol.for`, see plugin-api refs). Plugin authors
 * never see tsyringe.
 *
 * Lifecycle:
 *   const rt = await Runtime.load(options);   // discover + import + register every plugin
 *   const issues = await rt.validate();       // every configuration problem at once
 *   const report = await rt.start();          // create + start instances; errors collected
 *   await rt.stop();                          // idempotent
 *
 * A plugin that fails (bad manifest, import error, register() throws, duplicate factory type,
 * create()/start() throws or times out) is recorded in the startup report and its status; the
 * others keep running. After start, failures become statuses, never crashes.
 */
import 'reflect-metadata';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { hostname, type, arch } from 'node:os';
import { join } from 'node:path';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import {
  ErrorCode,
  SextantError,
  collectorsExtensionPoint,
  coreServices,
  correlatorsExtensionPoint,
  detectorsExtensionPoint,
  formatError,
  isKebabId,
  mergeDefaults,
  notifiersExtensionPoint,
  exportersExtensionPoint,
  pluginDisplayId,
  toSextantError,
  validateConfig,
  type Attributes,
  type Clock,
  type Collector,
  type Component,
  type ComponentFactory,
  type ConfigIssue,
  type Correlator,
  type Detector,
  type ExtensionKind,
  type HealthState,
  type Logger,
  type Notifier,
  type Exporter,
  type SelfMetrics,
  type SextantPlugin,
  type Stability,
} from '@sextant/plugin-api';
import { configError, instanceSpecs, type InstanceSpec, type Isolation, type RuntimeConfig } from '../config/runtime-config.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { NotificationDispatcher } from '../pipeline/notification-dispatcher.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import { discoverPlugins, loadPluginModule, type BuiltinPlugin, type PluginCandidate } from '../plugins/plugin-discovery.js';
import { SampleStore } from '../store/sample-store.js';
import { SeriesRegistry } from '../store/series-registry.js';
import { TopologyGraph } from '../store/topology-graph.js';
import { createLogger, type LogOptions } from '../telemetry/logger.js';
import { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { systemClock } from '../telemetry/system-clock.js';
import { StateCheckpoint } from './state-checkpoint.js';
import { TOKENS } from '../tokens.js';
import { CollectorSink } from './collector-sink.js';
import { CollectorScheduler } from './collector-scheduler.js';

type AnyFactory = ComponentFactory<any, any, Component>;

/** A problem found while loading or starting; `run` prints them all at once. */
export interface StartupProblem {
  readonly plugin?: string;
  readonly instance?: string;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface PluginInfo {
  readonly id: string;
  readonly packageName: string;
  readonly version: string;
  readonly source: PluginCandidate['source'];
  readonly dir?: string;
  readonly kinds: readonly ExtensionKind[];
  readonly factories: readonly { kind: ExtensionKind; type: string; stability: Stability; description: string }[];
  readonly stability?: Stability;
  readonly protocol: readonly number[];
  /** Semver range of @sextant/plugin-api the package declares, when it declares one. */
  readonly pluginApiRange?: string;
  readonly state: 'loaded' | 'failed';
  readonly error?: string;
}

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

/**
 * Starts a plugin package out of process and returns a local stand-in plugin whose factories proxy
 * to the child (provided by the distribution, e.g. with @sextant/protocol). `isolation` is
 * `process` or `in-container`; `target` is the container for in-container mode.
 */
export type RemotePluginLauncher = (request: {
  readonly candidate: PluginCandidate;
  readonly isolation: Exclude<Isolation, 'in-process'>;
  readonly instanceId: string;
  readonly logger: Logger;
  /** For in-container: the container id or name from the instance spec. */
  readonly container?: string;
  /** The runtime's topology, to find the container's pid. */
  readonly topology: TopologyGraph;
}) => Promise<{ plugin: SextantPlugin; shutdown(): Promise<void>; status?(): unknown }>;

export interface RuntimeOptions {
  readonly config: RuntimeConfig;
  readonly builtins?: readonly BuiltinPlugin[];
  /** Where node_modules are scanned from (default: the current directory). */
  readonly searchFrom?: readonly string[];
  readonly clock?: Clock;
  readonly log?: LogOptions;
  readonly hostResource?: Attributes;
  readonly launchRemote?: RemotePluginLauncher;
  /** Start collectors' first round immediately (default) or after one interval. */
  readonly collectImmediately?: boolean;
  /** Where undelivered notifications are kept (e.g. a RedisOutboxStore for `--store redis://`); default: a journal in dataDir, or memory. */
  readonly outboxStore?: OutboxStore;
}

interface FactoryEntry {
  readonly kind: ExtensionKind;
  readonly factory: AnyFactory;
  readonly pluginId: string;
  readonly candidate: PluginCandidate;
}

interface LoadedPlugin {
  readonly candidate: PluginCandidate;
  plugin?: SextantPlugin;
  readonly factories: FactoryEntry[];
  error?: SextantError;
}

interface RunningInstance {
  readonly spec: InstanceSpec;
  readonly entry: FactoryEntry;
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
  remote?: { shutdown(): Promise<void> };
}

const KIND_REFS = {
  collector: collectorsExtensionPoint,
  detector: detectorsExtensionPoint,
  correlator: correlatorsExtensionPoint,
  notifier: notifiersExtensionPoint,
  exporter: exportersExtensionPoint,
} as const;

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

function withTimeout<T>(promise: Promise<T> | T, ms: number, onTimeout: () => SextantError): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    Promise.resolve(promise).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Attributes of the host this runtime runs on (OpenTelemetry semantic conventions). */
export function defaultHostResource(): Attributes {
  let hostId: string | undefined;
  try {
    hostId = readFileSync('/etc/machine-id', 'utf8').trim() || undefined;
  } catch {
    hostId = undefined;
  }
  return { 'host.name': hostname(), ...(hostId ? { 'host.id': hostId } : {}), 'os.type': type().toLowerCase(), 'host.arch': arch() };
}

/**
 * The top-level setting names a factory's schema knows, when the schema says (a zod object, also
 * inside a pipe/default/optional); undefined for schemas that do not expose a shape.
 */
function schemaKeys(schema: unknown): Set<string> | undefined {
  let node = schema as { shape?: Record<string, unknown>; def?: { shape?: Record<string, unknown>; in?: unknown; innerType?: unknown; catchall?: unknown } } | undefined;
  for (let depth = 0; node && depth < 5; depth++) {
    const shape = node.shape ?? node.def?.shape;
    if (shape && typeof shape === 'object') {
      // an object that accepts any extra key (catchall / passthrough) has no unknown settings
      const catchall = node.def?.catchall as { def?: { type?: string } } | undefined;
      if (catchall && catchall.def?.type !== 'never') return undefined;
      return new Set(Object.keys(shape));
    }
    node = (node.def?.in ?? node.def?.innerType) as typeof node;
  }
  return undefined;
}

/**
 * A setting the plugin does not know is almost always a typo (`intervall`, `url:` under the wrong
 * instance) that would otherwise be ignored in silence: report it with the closest known name.
 */
function unknownSettings(schema: unknown, spec: InstanceSpec, path: string): ConfigIssue[] {
  const known = schemaKeys(schema);
  if (!known) return [];
  const out: ConfigIssue[] = [];
  for (const key of Object.keys(spec.config)) {
    if (known.has(key)) continue;
    const close = [...known].filter((k) => levenshtein(k, key) <= 2);
    out.push({
      path: `${path}.${key}`,
      message: `unknown setting "${key}" for ${spec.kind} type "${spec.type}"`,
      hint: close.length ? `did you mean "${close[0]}"?` : `known settings: ${[...known].join(', ') || '(none)'}`,
    });
  }
  return out;
}

export class Runtime {
  readonly config: RuntimeConfig;
  readonly telemetry: SelfTelemetry;
  readonly registry: SeriesRegistry;
  readonly store: SampleStore;
  readonly topology: TopologyGraph;
  readonly pipeline: Pipeline;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hostResource: Attributes;
  readonly dispatcher: NotificationDispatcher;
  /** Problems from loading and starting, in order. */
  readonly problems: StartupProblem[] = [];
  private readonly container: DependencyContainer;
  private readonly loaded: LoadedPlugin[] = [];
  private readonly factories = new Map<string, FactoryEntry>();
  private readonly instances = new Map<string, RunningInstance>();
  private specs: InstanceSpec[] = [];
  private started = false;
  private stopping: Promise<void> | undefined;
  private tickCancel?: () => void;
  private snapshotCancel?: () => void;
  private readonly checkpoint?: StateCheckpoint;
  private readonly remotes = new Map<string, Promise<{ plugin: SextantPlugin; shutdown(): Promise<void> }>>();
  private readonly remoteFactories = new Map<string, Map<string, FactoryEntry>>();
  private readonly remoteHandles = new Map<string, { status?(): unknown }>();
  readonly startedAt: number;

  private constructor(private readonly options: RuntimeOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.logger = createLogger('runtime', options.log);
    this.hostResource = options.hostResource ?? defaultHostResource();
    this.container = globalContainer.createChildContainer();
    this.telemetry = new SelfTelemetry();
    this.registry = new SeriesRegistry(this.config.store.maxSeries);
    this.store = new SampleStore(this.config.store.points, 256);
    this.topology = new TopologyGraph();
    this.container.register(TOKENS.telemetry, { useValue: this.telemetry });
    this.container.register(TOKENS.registry, { useValue: this.registry });
    this.container.register(TOKENS.store, { useValue: this.store });
    this.container.register(TOKENS.topology, { useValue: this.topology });
    this.container.register(TOKENS.clock, { useValue: this.clock });
    this.container.register(TOKENS.storeLimits, { useValue: { anomalies: this.config.store.anomalies, events: this.config.store.events, maxFutureMs: this.config.store.maxFuture } });
    this.container.register(TOKENS.logger, { useValue: this.logger });
    this.container.registerSingleton(TOKENS.pipeline, Pipeline);
    this.pipeline = this.container.resolve<Pipeline>(TOKENS.pipeline);
    if (this.config.dataDir) this.checkpoint = new StateCheckpoint(this.config.dataDir, this.registry, this.logger);
    const n = this.config.notifications;
    this.dispatcher = new NotificationDispatcher(this.pipeline, this.telemetry, this.clock, createLogger('notify', options.log), {
      initialBackoffMs: n.backoff.initial,
      maxBackoffMs: n.backoff.max,
      expiryMs: n.expiry,
      attemptTimeoutMs: n.attemptTimeout,
      ...(options.outboxStore ? { store: options.outboxStore } : this.config.dataDir ? { dataDir: this.config.dataDir } : {}),
      entityAttributes: (id) => this.topology.entity(id)?.attributes,
    });
    this.startedAt = this.clock.now();
    this.topology.apply({
      upsertEntities: [{ id: `host:${String(this.hostResource['host.name'])}`, type: 'host', name: String(this.hostResource['host.name']), attributes: this.hostResource }],
    });
  }

  /** Discovers, imports and registers every plugin. Never throws for a plugin's fault. */
  static async load(options: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(options);
    await rt.loadPlugins();
    rt.specs = instanceSpecs(rt.config, []);
    return rt;
  }

  private problem(p: StartupProblem): void {
    this.problems.push(p);
    this.logger.error(`${p.code}: ${p.message}${p.hint ? `; ${p.hint}` : ''}`, { ...(p.plugin ? { plugin: p.plugin } : {}), ...(p.instance ? { instance: p.instance } : {}) });
  }

  private async loadPlugins(): Promise<void> {
    const candidates = discoverPlugins({
      searchFrom: this.options.searchFrom ?? [process.cwd()],
      paths: this.config.plugins.paths,
      builtins: this.options.builtins ?? [],
      scan: this.config.plugins.discover,
    });
    const disabled = new Set(this.config.plugins.disabled);
    for (const candidate of candidates) {
      if (disabled.has(candidate.packageName)) continue;
      const entry: LoadedPlugin = { candidate, factories: [] };
      this.loaded.push(entry);
      if (candidate.issues.length) {
        entry.error = new SextantError(ErrorCode.MANIFEST_INVALID, `${candidate.packageName}: ${candidate.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
          hint: candidate.issues.find((i) => i.hint)?.hint ?? 'fix the "sextant" field of its package.json',
        });
        this.problem({ plugin: candidate.packageName, code: entry.error.code, message: entry.error.message, hint: entry.error.hint });
        continue;
      }
      try {
        entry.plugin = await loadPluginModule(candidate);
        if (disabled.has(entry.plugin.pluginId)) continue;
        await this.registerPlugin(entry, entry.plugin, this.factories);
      } catch (e) {
        entry.error = toSextantError(e, ErrorCode.PLUGIN_LOAD_FAILED, `${candidate.packageName} failed to load`);
        this.problem({ plugin: candidate.packageName, code: entry.error.code, message: entry.error.message, hint: entry.error.hint });
      }
    }
  }

  /** Runs a plugin's register() in its own child container, adding its factories to `target`. */
  private async registerPlugin(entry: LoadedPlugin, plugin: SextantPlugin, target: Map<string, FactoryEntry>): Promise<void> {
    const displayId = pluginDisplayId(plugin);
    const child = this.container.createChildContainer();
    const staged: FactoryEntry[] = [];
    for (const [kind, ref] of Object.entries(KIND_REFS) as [ExtensionKind, (typeof KIND_REFS)[ExtensionKind]][]) {
      child.register(ref.token, {
        useValue: {
          addFactory: (factory: AnyFactory) => {
            if (!factory || typeof factory.create !== 'function' || !isKebabId(factory.type)) {
              throw new SextantError(ErrorCode.PLUGIN_INVALID, `${displayId} added an invalid ${kind} factory (${String(factory?.type)})`, {
                hint: `build factories with create${kind[0].toUpperCase()}${kind.slice(1)}Factory() from @sextant/plugin-api`,
              });
            }
            staged.push({ kind, factory, pluginId: displayId, candidate: entry.candidate });
          },
        },
      });
    }
    child.register(coreServices.logger.token, { useValue: createLogger(displayId, this.options.log) });
    const deps: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(plugin.deps)) {
      if (!child.isRegistered(ref.token, true)) {
        throw new SextantError(ErrorCode.DEPENDENCY_UNKNOWN, `${displayId} needs ${ref.scope} "${ref.id}" v${ref.version} (deps.${name}), which this runtime does not provide`, {
          hint: 'upgrade the runtime or install a plugin version built for this one',
        });
      }
      deps[name] = child.resolve(ref.token);
    }
    try {
      await withTimeout(plugin.register(deps), this.config.plugins.startTimeout, () => new SextantError(ErrorCode.START_TIMEOUT, `${displayId}: register() did not finish in ${this.config.plugins.startTimeout} ms`));
    } catch (e) {
      throw toSextantError(e, ErrorCode.PLUGIN_REGISTER_FAILED, `${displayId}: register() failed`, 'see the plugin documentation; the other plugins keep running');
    }
    for (const f of staged) {
      const key = `${f.kind}:${f.factory.type}`;
      const existing = target.get(key);
      if (existing) {
        const err = new SextantError(ErrorCode.DUPLICATE_FACTORY, `${displayId} registers ${f.kind} type "${f.factory.type}", already registered by ${existing.pluginId} (${existing.candidate.packageName})`, {
          hint: `uninstall one of the two packages, or disable one with plugins.disabled: [${entry.candidate.packageName}]`,
        });
        this.problem({ plugin: displayId, code: err.code, message: err.message, hint: err.hint });
        continue;
      }
      target.set(key, f);
      entry.factories.push(f);
    }
  }

  /** Everything the runtime found, loaded or not. */
  plugins(): PluginInfo[] {
    return this.loaded.map(({ candidate, plugin, factories, error }) => ({
      id: plugin ? pluginDisplayId(plugin) : candidate.packageName,
      packageName: candidate.packageName,
      version: candidate.version,
      source: candidate.source,
      ...(candidate.dir ? { dir: candidate.dir } : {}),
      kinds: candidate.manifest?.provides ?? [...new Set(factories.map((f) => f.kind))],
      factories: factories.map((f) => ({ kind: f.kind, type: f.factory.type, stability: f.factory.stability, description: f.factory.description })),
      ...(candidate.manifest?.stability ? { stability: candidate.manifest.stability } : {}),
      protocol: candidate.manifest?.protocol ?? [1],
      ...(candidate.pluginApiRange ? { pluginApiRange: candidate.pluginApiRange } : {}),
      state: error ? 'failed' : 'loaded',
      ...(error ? { error: formatError(error) } : {}),
    }));
  }

  /** Plugin candidates as discovered (manifests included), for autodiscovery and explain. */
  candidates(): readonly PluginCandidate[] {
    return this.loaded.map((l) => l.candidate);
  }

  factory(kind: ExtensionKind, type: string): FactoryEntry | undefined {
    return this.factories.get(`${kind}:${type}`);
  }

  /** Validates every configured instance against its factory's schema; lists every issue. */
  async validate(): Promise<ConfigIssue[]> {
    const issues: ConfigIssue[] = [];
    this.specs = instanceSpecs(this.config, issues);
    for (const spec of this.specs) {
      const path = `${spec.section}.${spec.id}`;
      const entry = this.factory(spec.kind, spec.type);
      if (!entry) {
        issues.push({ path, message: `no ${spec.kind} of type "${spec.type}" is installed`, hint: this.unknownTypeHint(spec.kind, spec.type) });
        continue;
      }
      const merged = mergeDefaults(entry.factory.defaults ?? {}, spec.config);
      const result = await validateConfig(entry.factory.configSchema, merged, path);
      if (!result.ok) issues.push(...result.issues);
      issues.push(...unknownSettings(entry.factory.configSchema, spec, path));
    }
    return issues;
  }

  private unknownTypeHint(kind: ExtensionKind, type: string): string {
    const known = [...this.factories.values()].filter((f) => f.kind === kind).map((f) => f.factory.type);
    const close = known.filter((k) => levenshtein(k, type) <= 2);
    const failed = this.loaded.filter((l) => l.error).map((l) => l.candidate.packageName);
    if (close.length) return `did you mean "${close[0]}"?`;
    const parts = [known.length ? `installed ${kind}s: ${known.join(', ')}` : `no ${kind} plugins are installed`];
    parts.push(`install one with npm i @sextant/plugin-${type}`);
    if (failed.length) parts.push(`plugins that failed to load: ${failed.join(', ')}`);
    return parts.join('; ');
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
    if (this.checkpoint) {
      const restored = this.checkpoint.load();
      this.pipeline.restoreState(restored.incidents, restored.events);
      if (restored.series || restored.incidents.length) {
        const open = restored.incidents.filter((i) => i.status === 'open').length;
        this.logger.info(`restored ${restored.series} series, ${open} open incident(s) and ${restored.events.length} event(s) from ${this.checkpoint.dir}`);
      }
    }
    // Exporters, notifiers and correlators first so nothing produced at start is missed, collectors last.
    const order: ExtensionKind[] = ['exporter', 'notifier', 'correlator', 'detector', 'collector'];
    const specs = [...this.specs].filter((s) => s.enabled).sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
    await Promise.all(specs.map((spec) => this.startInstance(spec)));
    const tick = () => {
      this.pipeline.tick(this.clock.now());
      this.tickCancel = this.clock.setTimeout(tick, 1000);
    };
    this.tickCancel = this.clock.setTimeout(tick, 1000);
    if (this.checkpoint) {
      // Every `checkpoint.interval`, stretched so checkpoints take at most `checkpoint.maxShare` of
      // one core (a 200k-series detector snapshot takes seconds; a 10k one ~150 ms).
      const { interval, maxShare } = this.config.checkpoint;
      const snap = () => {
        const ms = this.saveSnapshots();
        this.snapshotCancel = this.clock.setTimeout(snap, Math.max(interval, ms / maxShare));
      };
      this.snapshotCancel = this.clock.setTimeout(snap, interval);
    }
    return this.problems;
  }

  private setStatus(inst: RunningInstance, state: HealthState, message?: string, code?: string): void {
    const prev = inst.status.state;
    inst.status = { state, ...(message ? { message } : {}), ...(code ? { code } : {}), since: state === prev ? inst.status.since : this.clock.now() };
    if (inst.removed) return;
    const labels = { plugin: inst.entry.pluginId, instance: inst.spec.id };
    for (const s of ['starting', 'ok', 'degraded', 'error', 'stopped', 'quarantined'] as HealthState[]) {
      this.telemetry.set('sextant_plugin_status', 'Current state of each plugin instance (1 = in that state)', s === state ? 1 : 0, { ...labels, state: s });
    }
    if (prev !== state && (state === 'error' || state === 'degraded')) this.logger.warn(`${inst.spec.id} is ${state}${message ? `: ${message}` : ''}`);
  }

  private selfMetricsFor(inst: RunningInstance): SelfMetrics {
    const labels = { plugin: inst.entry.pluginId, instance: inst.spec.id };
    const clean = (name: string) => `sextant_plugin_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    return {
      counter: (name, description) => ({ add: (v, attrs) => void (inst.removed || this.telemetry.add(clean(name), description, v, { ...labels, ...attrs })) }),
      gauge: (name, description) => ({ set: (v, attrs) => void (inst.removed || this.telemetry.set(clean(name), description, v, { ...labels, ...attrs })) }),
    };
  }

  private async resolveEntry(spec: InstanceSpec, isolation: Isolation, inst?: RunningInstance): Promise<FactoryEntry> {
    const local = this.factory(spec.kind, spec.type)!;
    if (isolation === 'in-process') return local;
    if (local.candidate.source === 'builtin' && !local.candidate.dir) {
      this.logger.warn(`${spec.id}: ${local.candidate.packageName} is built into this distribution and runs in-process; isolation "${isolation}" is ignored`);
      return local;
    }
    const launch = this.options.launchRemote;
    if (!launch) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `${spec.id}: isolation "${isolation}" needs a distribution with @sextant/protocol`, { hint: 'use isolation: in-process or the sextant CLI' });
    }
    const pkgKey = `${local.candidate.packageName}|${isolation}|${isolation === 'in-container' ? (spec.container ?? spec.id) : ''}`;
    let remote = this.remotes.get(pkgKey);
    if (!remote) {
      if (isolation === 'in-container' && !spec.container) {
        throw new SextantError(ErrorCode.CONFIG_INVALID, `${spec.id}: isolation "in-container" needs the container to join`, { hint: `add container: <name or id> to ${spec.section}.${spec.id}` });
      }
      remote = launch({
        candidate: local.candidate,
        isolation: isolation as Exclude<Isolation, 'in-process'>,
        instanceId: spec.id,
        logger: createLogger(`${local.pluginId}:${isolation}`, this.options.log),
        ...(spec.container ? { container: spec.container } : {}),
        topology: this.topology,
      }).then(async (r) => {
        const map = new Map<string, FactoryEntry>();
        const holder: LoadedPlugin = { candidate: local.candidate, factories: [] };
        await this.registerPlugin(holder, r.plugin, map);
        this.remoteFactories.set(pkgKey, map);
        this.remoteHandles.set(pkgKey, r);
        return r;
      });
      this.remotes.set(pkgKey, remote);
    }
    await remote;
    if (inst) inst.remoteKey = pkgKey;
    const entry = this.remoteFactories.get(pkgKey)?.get(`${spec.kind}:${spec.type}`);
    if (!entry) throw new SextantError(ErrorCode.UNKNOWN_FACTORY, `${spec.id}: the ${isolation} copy of ${local.candidate.packageName} does not provide ${spec.kind} "${spec.type}"`);
    return entry;
  }

  private async startInstance(spec: InstanceSpec): Promise<void> {
    const local = this.factory(spec.kind, spec.type)!;
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
      const entry = await this.resolveEntry(spec, isolation, inst);
      (inst as { entry: FactoryEntry }).entry = entry;
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
      this.problem({ plugin: inst.entry.pluginId, instance: spec.id, code: err.code, message: err.message, hint: err.hint });
      inst.controller.abort();
      void Promise.resolve()
        .then(() => inst.component?.shutdown())
        .catch(() => undefined);
    }
  }

  private contextFor(inst: RunningInstance, config: unknown) {
    const { spec } = inst;
    const base = {
      config,
      instanceId: spec.id,
      logger: createLogger(spec.id, this.options.log),
      clock: this.clock,
      status: {
        set: (state: HealthState, message?: string, code?: string) => {
          inst.reported = true;
          this.setStatus(inst, state, message, code);
        },
      },
      metrics: this.selfMetricsFor(inst),
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
        return { ...base, catalog: this.registry, topology: this.topology, emit: (a: Parameters<typeof this.pipeline.raiseAnomaly>[0]) => void this.pipeline.raiseAnomaly(a, spec.id) };
      case 'correlator':
        return { ...base, catalog: this.registry, topology: this.topology, publish: (u: Parameters<typeof this.pipeline.publishIncident>[0]) => this.pipeline.publishIncident(u) };
      case 'notifier':
        return base;
      case 'exporter':
        return { ...base, catalog: this.registry };
    }
  }

  private fail(inst: RunningInstance, error: unknown, what: string): void {
    if (inst.removed) return;
    inst.failures++;
    const err = toSextantError(error, ErrorCode.COLLECT_FAILED, `${inst.spec.id}: ${what} failed`);
    this.telemetry.add('sextant_plugin_failures_total', 'Failed collect/process calls per instance', 1, { plugin: inst.entry.pluginId, instance: inst.spec.id });
    inst.runtimeDegraded = true;
    this.setStatus(inst, 'degraded', err.message, err.code);
  }

  private attach(inst: RunningInstance, component: Component): void {
    switch (inst.spec.kind) {
      case 'collector':
        this.schedule(inst, component as Collector);
        break;
      case 'detector': {
        const detector = component as Detector;
        this.restoreInstance(inst, detector);
        inst.detach = this.pipeline.attachDetector(inst.spec.id, detector, (e) => this.fail(inst, e, 'process'));
        break;
      }
      case 'correlator': {
        const correlator = component as Correlator;
        this.restoreInstance(inst, correlator);
        inst.detach = this.pipeline.attachCorrelator(inst.spec.id, correlator, (e) => this.fail(inst, e, 'correlate'));
        break;
      }
      case 'notifier':
        inst.detach = this.dispatcher.attach(inst.spec.id, component as Notifier, (state, message) => this.setStatus(inst, state, message), inst.spec.route);
        break;
      case 'exporter':
        inst.detach = this.pipeline.attachExporter(inst.spec.id, component as Exporter, (e) => this.fail(inst, e, 'export'));
        break;
    }
  }

  private schedule(inst: RunningInstance, collector: Collector): void {
    if (!collector.collect) return;
    const labels = () => ({ plugin: inst.entry.pluginId, instance: inst.spec.id });
    inst.scheduler = new CollectorScheduler({
      name: inst.spec.id,
      collect: (signal) => collector.collect!(signal),
      intervalMs: inst.spec.intervalMs ?? this.config.interval,
      clock: this.clock,
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
    inst.scheduler.start(this.options.collectImmediately !== false);
  }

  /**
   * Runs one collection round of every collector now (tests, embedding); a collector whose round
   * is in flight is waited for instead (collect() never runs twice at once), a stuck one skipped.
   */
  async collectNow(): Promise<void> {
    await Promise.all(
      [...this.instances.values()].filter((i) => i.scheduler && i.status.state !== 'error').map((i) => i.scheduler!.collectNow()),
    );
  }

  /** The running component of an instance (for `notify test` and embedding), if it started. */
  component(id: string): Component | undefined {
    return this.instances.get(id)?.component;
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
    const handle = i.remoteKey ? this.remoteHandles.get(i.remoteKey) : undefined;
    const st = handle?.status?.() as { state?: string; pid?: number; restarts?: number; crashes?: number; quarantined?: boolean } | undefined;
    if (!st) return { restarts: i.restarts };
    return {
      restarts: st.restarts ?? 0,
      process: { ...(st.state ? { state: st.state } : {}), ...(st.pid ? { pid: st.pid } : {}), restarts: st.restarts ?? 0, crashes: st.crashes ?? 0, quarantined: Boolean(st.quarantined) },
    };
  }

  /**
   * Starts an instance that was not in the configuration (autodiscovery). Its id must be unique;
   * the config is validated by the factory schema like any other.
   */
  async addInstance(spec: Omit<InstanceSpec, 'section'> & { section?: InstanceSpec['section'] }): Promise<InstanceStatus | undefined> {
    if (this.instances.has(spec.id)) throw new SextantError(ErrorCode.CONFIG_INVALID, `instance ${spec.id} already exists`);
    const full: InstanceSpec = { ...spec, section: spec.section ?? (`${spec.kind}s` as InstanceSpec['section']) };
    if (!this.factory(full.kind, full.type)) throw new SextantError(ErrorCode.UNKNOWN_FACTORY, `no ${full.kind} of type "${full.type}" is installed`, { hint: this.unknownTypeHint(full.kind, full.type) });
    await this.startInstance(full);
    return this.statuses().find((s) => s.id === spec.id);
  }

  /** Stops and forgets one instance, including its series in the self-telemetry (/metrics). */
  async removeInstance(id: string): Promise<void> {
    const inst = this.instances.get(id);
    if (!inst) return;
    this.instances.delete(id);
    await this.stopInstance(inst);
    inst.removed = true;
    this.telemetry.removeSeries({ instance: id });
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

  /**
   * Gives a detector or correlator its saved state back, and says truthfully whether that worked
   * (a component that refuses the bytes reports a degraded status instead of throwing).
   */
  private restoreInstance(inst: RunningInstance, component: Detector | Correlator): void {
    if (!this.checkpoint || !component.restore) return;
    const file = this.checkpoint.instanceFile(inst.spec.id);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`${inst.spec.id}: could not read saved state ${file}: ${formatError(e)}`);
      return;
    }
    const before = inst.status.state;
    try {
      component.restore(bytes);
    } catch (e) {
      this.logger.warn(`${inst.spec.id}: could not restore state from ${file}: ${formatError(e)}`);
      return;
    }
    if (inst.status.state === 'degraded' && before !== 'degraded') {
      this.logger.warn(`${inst.spec.id}: saved state in ${file} was refused: ${inst.status.message ?? 'no reason given'}`);
    } else {
      this.logger.info(`${inst.spec.id}: restored state from ${file} (${bytes.byteLength} bytes)`);
    }
  }

  /**
   * Checkpoints everything a restart needs into the data directory: new series of the registry,
   * every detector's and correlator's snapshot, the incidents and the event log. Returns how long
   * it took (ms), which sets the next interval (see start()).
   */
  saveSnapshots(): number {
    const cp = this.checkpoint;
    if (!cp) return 0;
    const started = performance.now();
    try {
      cp.saveSeries();
    } catch (e) {
      // Without the registry the snapshots would be read against the wrong ids: skip them this time.
      this.logger.warn(`could not save the series registry: ${formatError(e)}`);
      return performance.now() - started;
    }
    for (const inst of this.instances.values()) {
      const component = inst.component as Detector | Correlator | undefined;
      if ((inst.spec.kind !== 'detector' && inst.spec.kind !== 'correlator') || !component?.snapshot) continue;
      try {
        cp.writeAtomic(cp.instanceFile(inst.spec.id).slice(cp.dir.length + 1), component.snapshot());
      } catch (e) {
        this.logger.warn(`${inst.spec.id}: could not save state: ${formatError(e)}`);
      }
    }
    try {
      cp.saveIncidents(this.pipeline.incidents.values());
      cp.saveEvents(this.pipeline.events.query());
    } catch (e) {
      this.logger.warn(`could not save incidents and events: ${formatError(e)}`);
    }
    const ms = performance.now() - started;
    this.telemetry.set('sextant_checkpoint_duration_seconds', 'How long the last checkpoint of learned state took', ms / 1000);
    this.telemetry.add('sextant_checkpoints_total', 'Checkpoints of learned state written to the data directory', 1);
    return ms;
  }

  /** Stops every instance (collectors first), saves detector state. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.tickCancel?.();
      this.snapshotCancel?.();
      const order: ExtensionKind[] = ['collector', 'detector', 'correlator', 'notifier', 'exporter'];
      const all = [...this.instances.values()];
      for (const kind of order) await Promise.all(all.filter((i) => i.spec.kind === kind).map((i) => (kind === 'detector' ? Promise.resolve() : this.stopInstance(i))));
      this.saveSnapshots();
      await Promise.all(all.filter((i) => i.spec.kind === 'detector').map((i) => this.stopInstance(i)));
      await this.dispatcher.close();
      for (const remote of this.remotes.values()) {
        try {
          await (await remote).shutdown();
        } catch {
          // the child is gone already
        }
      }
      this.container.dispose?.();
    })();
    return this.stopping;
  }
}
