/**
 * Plugins and modules: the unit of installation.
 *
 * ```ts
 * export default createPlugin({
 *   pluginId: 'nginx',
 *   deps: { collectors: collectorsExtensionPoint },
 *   register({ collectors }) {
 *     collectors.addFactory(nginxCollectorFactory);
 *   },
 * });
 * ```
 *
 * A package's `sextant.plugin` entry must `export default` the plugin (or export it as `plugin`).
 * A module (`createModule`) adds factories on behalf of an existing plugin — e.g. an extra
 * detector for a plugin shipped by someone else — and is identified by `pluginId` + `moduleId`.
 *
 * The runtime gives each plugin its own DI child container; plugins never see it.
 *
 * A plugin may also PROVIDE a service other plugins depend on (after Backstage's service refs):
 *
 * ```ts
 * export const kubernetesExtensionsService = createServiceRef<KubernetesExtensions>({ id: 'kubernetes-extensions' });
 * createPlugin({
 *   pluginId: 'kubernetes',
 *   deps: { collectors: collectorsExtensionPoint },
 *   provides: { extensions: kubernetesExtensionsService },
 *   register({ collectors }) {
 *     const extensions = new KubernetesExtensionList();
 *     collectors.addFactory(createFactory(extensions));
 *     return { extensions };               // one implementation per name in `provides`
 *   },
 * });
 * createPlugin({ pluginId: 'openshift', deps: { kubernetes: kubernetesExtensionsService }, register({ kubernetes }) { ... } });
 * ```
 *
 * The runtime registers providers before the plugins that depend on them; a service nobody
 * provides, or plugins that depend on each other in a circle, are startup problems with a hint
 * (`SEXTANT_ERR_DEPENDENCY_UNKNOWN`, `SEXTANT_ERR_DEPENDENCY_CYCLE`), and the other plugins load.
 * Plugin-provided services work between plugins in one process; an instance isolated in a child
 * process (`isolation: process`) sees only the runtime's own services.
 */
import { ErrorCode, SextantError } from './errors.js';
import { assertKebabId } from './ids.js';
import { isRef, type Ref, type RefValue, type ServiceRef } from './refs.js';

export type DepsMap = Readonly<Record<string, Ref<unknown>>>;
export type ResolvedDeps<D extends DepsMap> = { readonly [K in keyof D]: RefValue<D[K]> };
/** Services a plugin provides, by a name of its choice. */
export type ServicesMap = Readonly<Record<string, ServiceRef<unknown>>>;
/** What register() returns for a plugin that provides services: an implementation per name. */
export type ProvidedServices<P extends ServicesMap> = { readonly [K in keyof P]: RefValue<P[K]> };
/** register() of a plugin without `provides` returns nothing; with `provides`, the implementations. */
export type RegisterResult<P extends ServicesMap> = [keyof P] extends [never] ? void | Promise<void> : ProvidedServices<P> | Promise<ProvidedServices<P>>;

/** Contract major of plugins made with this package. The runtime refuses other majors with a clear error. */
export const PLUGIN_CONTRACT_VERSION = 1;

export interface SextantPlugin {
  readonly $$type: '@sextant/Plugin';
  readonly kind: 'plugin' | 'module';
  readonly pluginId: string;
  readonly moduleId?: string;
  readonly contractVersion: number;
  readonly deps: DepsMap;
  /** Services this plugin provides to others (absent in plugins made before service refs existed). */
  readonly provides?: ServicesMap;
  /** Returns the implementations of `provides` by name (nothing when it provides none). */
  register(deps: Record<string, unknown>): unknown;
}

export interface CreatePluginOptions<D extends DepsMap, P extends ServicesMap = {}> {
  /** Kebab-case, unique in a runtime: `nginx`, `redis`, `example-random`. */
  readonly pluginId: string;
  readonly deps: D;
  /** Services this plugin provides to other plugins; `register()` returns an implementation for each name. */
  readonly provides?: P;
  /** Adds factories to the extension points in `deps`. Runs once per runtime, after every provider it depends on. */
  register(deps: ResolvedDeps<D>): RegisterResult<P>;
}

function checkDeps(owner: string, deps: DepsMap, provides: ServicesMap | undefined): void {
  for (const [name, ref] of Object.entries(deps ?? {})) {
    if (!isRef(ref)) {
      throw new SextantError(ErrorCode.PLUGIN_INVALID, `${owner}: deps.${name} is not an extension point or service ref`, {
        hint: 'import refs such as collectorsExtensionPoint from @sextant/plugin-api',
      });
    }
  }
  for (const [name, ref] of Object.entries(provides ?? {})) {
    if (!isRef(ref) || ref.scope !== 'service') {
      throw new SextantError(ErrorCode.PLUGIN_INVALID, `${owner}: provides.${name} is not a service ref`, { hint: 'declare it with createServiceRef<T>({ id }) from @sextant/plugin-api' });
    }
    if (Object.values(deps ?? {}).some((d) => isRef(d) && d.token === ref.token)) {
      throw new SextantError(ErrorCode.PLUGIN_INVALID, `${owner}: provides.${name} ("${ref.id}") is also in its deps`, { hint: 'a plugin cannot depend on a service it provides itself' });
    }
  }
}

export function createPlugin<D extends DepsMap, P extends ServicesMap = {}>(options: CreatePluginOptions<D, P>): SextantPlugin {
  assertKebabId(options.pluginId, 'plugin id');
  checkDeps(`plugin "${options.pluginId}"`, options.deps, options.provides);
  return Object.freeze({
    $$type: '@sextant/Plugin',
    kind: 'plugin',
    pluginId: options.pluginId,
    contractVersion: PLUGIN_CONTRACT_VERSION,
    deps: options.deps,
    ...(options.provides ? { provides: options.provides } : {}),
    register: options.register as SextantPlugin['register'],
  });
}

export interface CreateModuleOptions<D extends DepsMap, P extends ServicesMap = {}> extends CreatePluginOptions<D, P> {
  /** Kebab-case, unique within the plugin it extends. */
  readonly moduleId: string;
}

export function createModule<D extends DepsMap, P extends ServicesMap = {}>(options: CreateModuleOptions<D, P>): SextantPlugin {
  assertKebabId(options.pluginId, 'plugin id');
  assertKebabId(options.moduleId, 'module id');
  checkDeps(`module "${options.pluginId}.${options.moduleId}"`, options.deps, options.provides);
  return Object.freeze({
    $$type: '@sextant/Plugin',
    kind: 'module',
    pluginId: options.pluginId,
    moduleId: options.moduleId,
    contractVersion: PLUGIN_CONTRACT_VERSION,
    deps: options.deps,
    ...(options.provides ? { provides: options.provides } : {}),
    register: options.register as SextantPlugin['register'],
  });
}

/** True for a plugin or module from any copy of this package. */
export function isSextantPlugin(value: unknown): value is SextantPlugin {
  return typeof value === 'object' && value !== null && (value as { $$type?: unknown }).$$type === '@sextant/Plugin';
}

/** The display id: `nginx` for a plugin, `nginx.extra` for a module. */
export function pluginDisplayId(plugin: SextantPlugin): string {
  return plugin.moduleId ? `${plugin.pluginId}.${plugin.moduleId}` : plugin.pluginId;
}
