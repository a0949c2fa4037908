/**
 * The plugin registry: finds plugin packages, imports them, orders them by the services they
 * provide and depend on, runs each register() in its own scope (plugin-scope.ts) and keeps the
 * factories they add. It also answers "what is installed" (plugins(), factory()) and explains
 * configuration mistakes (validateInstances(), unknownTypeHint()).
 *
 * Order: a plugin that depends on a service another plugin provides (`createPlugin({ provides })`)
 * registers after its provider; otherwise discovery order (which decides who wins a duplicate
 * factory type). A service nobody provides, a provider that failed, and plugins that depend on
 * each other in a circle are startup problems with a hint; every other plugin still loads.
 */
import { inject, injectable, type DependencyContainer } from 'tsyringe';
import {
  ErrorCode,
  SextantError,
  formatError,
  mergeDefaults,
  pluginDisplayId,
  toSextantError,
  validateConfig,
  type ConfigIssue,
  type ExtensionKind,
  type Ref,
  type SextantPlugin,
  type Stability,
} from '@sextant/plugin-api';
import type { InstanceSpec, RuntimeConfig } from '../config/runtime-config.js';
import { discoverPlugins, loadPluginModule, type PluginCandidate } from '../plugins/plugin-discovery.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { TOKENS } from '../tokens.js';
import { levenshtein, unknownSettings } from './config-hints.js';
import { withTimeout } from './deadline.js';
import { PluginScope, type FactoryEntry } from './plugin-scope.js';
import type { RuntimeOptions } from './runtime-options.js';
import type { StartupProblems } from './startup-problems.js';

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
  /** Ids of the services this plugin provides to other plugins. */
  readonly services?: readonly string[];
  readonly state: 'loaded' | 'failed';
  readonly error?: string;
}

interface LoadedPlugin {
  readonly candidate: PluginCandidate;
  plugin?: SextantPlugin;
  readonly factories: FactoryEntry[];
  error?: SextantError;
  scope?: PluginScope;
}

@injectable()
export class PluginRegistry {
  private readonly loaded: LoadedPlugin[] = [];
  private readonly factories = new Map<string, FactoryEntry>();
  /** Token of a plugin-provided service -> the plugin that provides it. */
  private readonly providers = new Map<symbol, { entry: LoadedPlugin; ref: Ref<unknown> }>();

  constructor(
    @inject(TOKENS.container) private readonly root: DependencyContainer,
    @inject(TOKENS.options) private readonly options: RuntimeOptions,
    @inject(TOKENS.config) private readonly config: RuntimeConfig,
    @inject(TOKENS.telemetry) private readonly telemetry: SelfTelemetry,
    @inject(TOKENS.problems) private readonly problems: StartupProblems,
  ) {}

  /** Discovers, imports, orders and registers every plugin. Never throws for a plugin's fault. */
  async load(): Promise<void> {
    const candidates = discoverPlugins({
      searchFrom: this.options.searchFrom ?? [process.cwd()],
      paths: this.config.plugins.paths,
      builtins: this.options.builtins ?? [],
      scan: this.config.plugins.discover,
    });
    const disabled = new Set(this.config.plugins.disabled);
    const toRegister: LoadedPlugin[] = [];
    for (const candidate of candidates) {
      if (disabled.has(candidate.packageName)) continue;
      const entry: LoadedPlugin = { candidate, factories: [] };
      this.loaded.push(entry);
      if (candidate.issues.length) {
        this.fail(entry, new SextantError(ErrorCode.MANIFEST_INVALID, `${candidate.packageName}: ${candidate.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
          hint: candidate.issues.find((i) => i.hint)?.hint ?? 'fix the "sextant" field of its package.json',
        }));
        continue;
      }
      try {
        entry.plugin = await loadPluginModule(candidate);
      } catch (e) {
        this.fail(entry, toSextantError(e, ErrorCode.PLUGIN_LOAD_FAILED, `${candidate.packageName} failed to load`));
        continue;
      }
      if (!disabled.has(entry.plugin.pluginId)) toRegister.push(entry);
    }
    for (const entry of this.dependencyOrder(toRegister)) {
      if (entry.error) continue;
      try {
        await this.register(entry, entry.plugin!, this.factories);
      } catch (e) {
        this.fail(entry, toSextantError(e, ErrorCode.PLUGIN_LOAD_FAILED, `${entry.candidate.packageName} failed to load`));
      }
    }
  }

  /**
   * Registers the local stand-in of a plugin package running out of process (RemoteHost): its
   * factories go into a map of their own, not into the registry's.
   */
  async registerStandIn(candidate: PluginCandidate, plugin: SextantPlugin): Promise<Map<string, FactoryEntry>> {
    const map = new Map<string, FactoryEntry>();
    await this.register({ candidate, factories: [] }, plugin, map);
    return map;
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
      ...(plugin?.provides && Object.keys(plugin.provides).length ? { services: Object.values(plugin.provides).map((r) => r.id) } : {}),
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

  /** Checks every instance against its factory's schema and known settings; appends every issue. */
  async validateInstances(specs: readonly InstanceSpec[], issues: ConfigIssue[]): Promise<void> {
    for (const spec of specs) {
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
  }

  /** What to say when no factory has this type: a close name, what is installed, what failed. */
  unknownTypeHint(kind: ExtensionKind, type: string): string {
    const known = [...this.factories.values()].filter((f) => f.kind === kind).map((f) => f.factory.type);
    const close = known.filter((k) => levenshtein(k, type) <= 2);
    const failed = this.failedPackages();
    if (close.length) return `did you mean "${close[0]}"?`;
    const parts = [known.length ? `installed ${kind}s: ${known.join(', ')}` : `no ${kind} plugins are installed`];
    parts.push(`install one with npm i @sextant/plugin-${type}`);
    if (failed.length) parts.push(`plugins that failed to load: ${failed.join(', ')}`);
    return parts.join('; ');
  }

  /** Releases every plugin scope (the stand-ins' too). */
  dispose(): void {
    for (const l of this.loaded) l.scope?.dispose();
  }

  private failedPackages(): string[] {
    return this.loaded.filter((l) => l.error).map((l) => l.candidate.packageName);
  }

  private fail(entry: LoadedPlugin, error: SextantError): void {
    entry.error = error;
    const plugin = entry.plugin ? pluginDisplayId(entry.plugin) : entry.candidate.packageName;
    this.problems.add({ plugin, code: error.code, message: error.message, hint: error.hint });
  }

  /**
   * Providers before the plugins that depend on them; otherwise discovery order. Marks duplicate
   * providers and every plugin on a dependency cycle as failed.
   */
  private dependencyOrder(entries: LoadedPlugin[]): LoadedPlugin[] {
    for (const entry of entries) {
      const id = pluginDisplayId(entry.plugin!);
      for (const [name, ref] of Object.entries(entry.plugin!.provides ?? {})) {
        const other = this.providers.get(ref.token);
        if (other) {
          this.fail(entry, new SextantError(ErrorCode.PLUGIN_INVALID, `${id} provides service "${ref.id}" (provides.${name}), already provided by ${pluginDisplayId(other.entry.plugin!)} (${other.entry.candidate.packageName})`, {
            hint: `install only one of the two, or disable one with plugins.disabled: [${entry.candidate.packageName}]`,
          }));
          break;
        }
        if (this.root.isRegistered(ref.token, true)) {
          this.fail(entry, new SextantError(ErrorCode.PLUGIN_INVALID, `${id} provides service "${ref.id}", which the runtime provides itself`, { hint: 'give the service ref an id of its own, prefixed with the plugin id' }));
          break;
        }
        this.providers.set(ref.token, { entry, ref });
      }
    }
    const providersOf = (entry: LoadedPlugin) =>
      Object.values(entry.plugin!.deps)
        .map((ref) => this.providers.get(ref.token)?.entry)
        .filter((p): p is LoadedPlugin => p !== undefined && p !== entry && !p.error);
    const order: LoadedPlugin[] = [];
    const state = new Map<LoadedPlugin, 'visiting' | 'done'>();
    const stack: LoadedPlugin[] = [];
    const visit = (entry: LoadedPlugin): void => {
      if (state.get(entry) === 'done') return;
      if (state.get(entry) === 'visiting') {
        this.cycle(stack.slice(stack.indexOf(entry)));
        return;
      }
      state.set(entry, 'visiting');
      stack.push(entry);
      for (const provider of providersOf(entry)) visit(provider);
      stack.pop();
      state.set(entry, 'done');
      order.push(entry);
    };
    for (const entry of entries) if (!entry.error) visit(entry);
    return order;
  }

  private cycle(members: LoadedPlugin[]): void {
    const ids = members.map((m) => pluginDisplayId(m.plugin!));
    const services = members.flatMap((m) => Object.values(m.plugin!.deps).filter((r) => members.includes(this.providers.get(r.token)?.entry as LoadedPlugin)).map((r) => `"${r.id}"`));
    const path = [...ids, ids[0]].join(' -> ');
    for (const m of members) {
      if (m.error) continue;
      this.fail(m, new SextantError(ErrorCode.DEPENDENCY_CYCLE, `${pluginDisplayId(m.plugin!)} cannot register: plugins depend on each other's services in a circle (${path}; services ${[...new Set(services)].join(', ')})`, {
        hint: 'a service must not depend, directly or through others, on the plugin that uses it: move the shared part into a plugin both depend on, or disable one of them with plugins.disabled',
      }));
    }
  }

  /** Runs a plugin's register() in its own scope, adding its factories to `target`. */
  private async register(entry: LoadedPlugin, plugin: SextantPlugin, target: Map<string, FactoryEntry>): Promise<void> {
    const displayId = pluginDisplayId(plugin);
    const scope = new PluginScope(this.root, displayId, {
      telemetry: this.telemetry,
      logOptions: this.options.log,
      dataDir: this.config.dataDir,
      pluginConfig: this.config.plugins.config[plugin.pluginId] ?? {},
    });
    entry.scope = scope;
    const deps: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(plugin.deps)) {
      if (!scope.container.isRegistered(ref.token, true)) throw this.missing(displayId, name, ref);
      deps[name] = scope.container.resolve(ref.token);
    }
    let provided: unknown;
    try {
      provided = await withTimeout(plugin.register(deps), this.config.plugins.startTimeout, () => new SextantError(ErrorCode.START_TIMEOUT, `${displayId}: register() did not finish in ${this.config.plugins.startTimeout} ms`));
    } catch (e) {
      throw toSextantError(e, ErrorCode.PLUGIN_REGISTER_FAILED, `${displayId}: register() failed`, 'see the plugin documentation; the other plugins keep running');
    }
    for (const [name, ref] of Object.entries(plugin.provides ?? {})) {
      const impl = (provided as Record<string, unknown> | undefined)?.[name];
      if (impl === undefined || impl === null) {
        throw new SextantError(ErrorCode.PLUGIN_REGISTER_FAILED, `${displayId}: register() did not return provides.${name} (service "${ref.id}")`, {
          hint: `register() must return { ${Object.keys(plugin.provides!).join(', ')} }, one implementation per name in provides`,
        });
      }
    }
    // Only now, after register() succeeded, do its services and factories become visible.
    for (const [name, ref] of Object.entries(plugin.provides ?? {})) {
      if (this.providers.get(ref.token)?.entry === entry) this.root.register(ref.token, { useValue: (provided as Record<string, unknown>)[name] });
    }
    for (const { kind, factory } of scope.staged) {
      const key = `${kind}:${factory.type}`;
      const existing = target.get(key);
      if (existing) {
        const err = new SextantError(ErrorCode.DUPLICATE_FACTORY, `${displayId} registers ${kind} type "${factory.type}", already registered by ${existing.pluginId} (${existing.candidate.packageName})`, {
          hint: `uninstall one of the two packages, or disable one with plugins.disabled: [${entry.candidate.packageName}]`,
        });
        this.problems.add({ plugin: displayId, code: err.code, message: err.message, hint: err.hint });
        continue;
      }
      const f: FactoryEntry = { kind, factory, pluginId: displayId, candidate: entry.candidate, scope };
      target.set(key, f);
      entry.factories.push(f);
    }
  }

  private missing(displayId: string, name: string, ref: Ref<unknown>): SextantError {
    const provider = this.providers.get(ref.token)?.entry;
    if (provider?.error) {
      return new SextantError(ErrorCode.DEPENDENCY_UNKNOWN, `${displayId} needs service "${ref.id}" (deps.${name}) from ${provider.candidate.packageName}, which failed: ${provider.error.message}`, {
        hint: `fix ${provider.candidate.packageName} first (its own problem is listed above)`,
      });
    }
    if (ref.scope === 'service') {
      const failed = this.failedPackages();
      return new SextantError(ErrorCode.DEPENDENCY_UNKNOWN, `${displayId} needs service "${ref.id}" v${ref.version} (deps.${name}), which neither this runtime nor any loaded plugin provides`, {
        hint: `install and enable the plugin that provides "${ref.id}" (the README of ${displayId} names it)${failed.length ? `; plugins that failed to load: ${failed.join(', ')}` : ''}`,
      });
    }
    return new SextantError(ErrorCode.DEPENDENCY_UNKNOWN, `${displayId} needs ${ref.scope} "${ref.id}" v${ref.version} (deps.${name}), which this runtime does not provide`, {
      hint: 'upgrade the runtime or install a plugin version built for this one',
    });
  }
}
