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
 */
import { ErrorCode, SextantError } from './errors.js';
import { assertKebabId } from './ids.js';
import { isRef, type Ref, type RefValue } from './refs.js';

export type DepsMap = Readonly<Record<string, Ref<unknown>>>;
export type ResolvedDeps<D extends DepsMap> = { readonly [K in keyof D]: RefValue<D[K]> };

/** Contract major of plugins made with this package. The runtime refuses other majors with a clear error. */
export const PLUGIN_CONTRACT_VERSION = 1;

export interface SextantPlugin {
  readonly $$type: '@sextant/Plugin';
  readonly kind: 'plugin' | 'module';
  readonly pluginId: string;
  readonly moduleId?: string;
  readonly contractVersion: number;
  readonly deps: DepsMap;
  register(deps: Record<string, unknown>): void | Promise<void>;
}

export interface CreatePluginOptions<D extends DepsMap> {
  /** Kebab-case, unique in a runtime: `nginx`, `redis`, `example-random`. */
  readonly pluginId: string;
  readonly deps: D;
  /** Adds factories to the extension points in `deps`. Runs once per runtime. */
  register(deps: ResolvedDeps<D>): void | Promise<void>;
}

function checkDeps(owner: string, deps: DepsMap): void {
  for (const [name, ref] of Object.entries(deps ?? {})) {
    if (!isRef(ref)) {
      throw new SextantError(ErrorCode.PLUGIN_INVALID, `${owner}: deps.${name} is not an extension point or service ref`, {
        hint: 'import refs such as collectorsExtensionPoint from @sextant/plugin-api',
      });
    }
  }
}

export function createPlugin<D extends DepsMap>(options: CreatePluginOptions<D>): SextantPlugin {
  assertKebabId(options.pluginId, 'plugin id');
  checkDeps(`plugin "${options.pluginId}"`, options.deps);
  return Object.freeze({
    $$type: '@sextant/Plugin',
    kind: 'plugin',
    pluginId: options.pluginId,
    contractVersion: PLUGIN_CONTRACT_VERSION,
    deps: options.deps,
    register: options.register as SextantPlugin['register'],
  });
}

export interface CreateModuleOptions<D extends DepsMap> extends CreatePluginOptions<D> {
  /** Kebab-case, unique within the plugin it extends. */
  readonly moduleId: string;
}

export function createModule<D extends DepsMap>(options: CreateModuleOptions<D>): SextantPlugin {
  assertKebabId(options.pluginId, 'plugin id');
  assertKebabId(options.moduleId, 'module id');
  checkDeps(`module "${options.pluginId}.${options.moduleId}"`, options.deps);
  return Object.freeze({
    $$type: '@sextant/Plugin',
    kind: 'module',
    pluginId: options.pluginId,
    moduleId: options.moduleId,
    contractVersion: PLUGIN_CONTRACT_VERSION,
    deps: options.deps,
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
