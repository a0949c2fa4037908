/**
 * Finds plugin packages without running their code: every package in the searched `node_modules`
 * folders whose package.json has a `sextant` manifest, plus explicit paths from the config, plus
 * the built-in plugins a distribution passes in. Loading (import) is a separate step.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ErrorCode,
  PLUGIN_CONTRACT_VERSION,
  SextantError,
  isSextantPlugin,
  parseManifest,
  type ConfigIssue,
  type PluginManifest,
  type SextantPlugin,
} from '@sextant/plugin-api';

/** Plugin protocol majors this runtime can host out of process. */
export const SUPPORTED_PROTOCOLS: readonly number[] = [1];

export interface PluginCandidate {
  readonly packageName: string;
  readonly version: string;
  /** Real path of the package folder (undefined for built-ins without a package). */
  readonly dir?: string;
  readonly source: 'builtin' | 'node_modules' | 'config';
  readonly manifest?: PluginManifest;
  /** Manifest problems; a candidate with issues is reported and never loaded. */
  readonly issues: readonly ConfigIssue[];
  /** Semver range of @sextant/plugin-api the package declares (peer or regular dependency). */
  readonly pluginApiRange?: string;
  /** Set for built-ins: the plugin object itself. */
  readonly plugin?: SextantPlugin;
}

export interface BuiltinPlugin {
  readonly plugin: SextantPlugin;
  readonly packageName: string;
  readonly version: string;
  readonly manifest?: PluginManifest;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function candidateFromDir(dir: string, source: PluginCandidate['source']): PluginCandidate | undefined {
  const pkg = readJson(join(dir, 'package.json'));
  if (!pkg || pkg.sextant === undefined) return undefined;
  const name = typeof pkg.name === 'string' ? pkg.name : dir;
  const result = parseManifest(pkg.sextant, `${name}: package.json#sextant`);
  const deps = { ...(pkg.dependencies as object), ...(pkg.peerDependencies as object) } as Record<string, string>;
  return {
    packageName: name,
    version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
    dir,
    source,
    ...(result.ok ? { manifest: result.manifest } : {}),
    issues: result.ok ? [] : result.issues,
    ...(deps['@sextant/plugin-api'] ? { pluginApiRange: deps['@sextant/plugin-api'] } : {}),
  };
}

/** `node_modules` folders from `start` up to the filesystem root. */
export function nodeModulesChain(start: string): string[] {
  const out: string[] = [];
  let dir = resolve(start);
  for (;;) {
    const nm = join(dir, 'node_modules');
    if (existsSync(nm)) out.push(nm);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}

function packageDirs(nodeModules: string): string[] {
  const dirs: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(nodeModules);
  } catch {
    return dirs;
  }
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    const full = join(nodeModules, entry);
    if (entry.startsWith('@')) {
      let scoped: string[] = [];
      try {
        scoped = readdirSync(full);
      } catch {
        continue;
      }
      for (const s of scoped) dirs.push(join(full, s));
    } else {
      dirs.push(full);
    }
  }
  return dirs;
}

export interface DiscoveryOptions {
  /** Folders whose `node_modules` chain is scanned (e.g. cwd and the CLI's own folder). */
  readonly searchFrom: readonly string[];
  /** Extra package folders (or files inside them) from `plugins.paths`. */
  readonly paths?: readonly string[];
  readonly builtins?: readonly BuiltinPlugin[];
  /** Scan node_modules at all (config `plugins.discover`). */
  readonly scan?: boolean;
}

/**
 * Lists every plugin candidate. The first package found under a name wins (built-ins, then
 * explicit paths, then node_modules nearest first), like Node's own resolution.
 */
export function discoverPlugins(options: DiscoveryOptions): PluginCandidate[] {
  const byName = new Map<string, PluginCandidate>();
  const add = (c: PluginCandidate | undefined) => {
    if (c && !byName.has(c.packageName)) byName.set(c.packageName, c);
  };
  for (const b of options.builtins ?? []) {
    add({ packageName: b.packageName, version: b.version, source: 'builtin', issues: [], plugin: b.plugin, ...(b.manifest ? { manifest: b.manifest } : {}) });
  }
  for (const p of options.paths ?? []) {
    const abs = resolve(p);
    const dir = existsSync(abs) && statSync(abs).isFile() ? dirname(abs) : abs;
    const c = candidateFromDir(dir, 'config');
    if (c) add(c);
    else {
      byName.set(`path:${abs}`, {
        packageName: abs,
        version: '0.0.0',
        dir: abs,
        source: 'config',
        issues: [{ path: `plugins.paths`, message: `${abs} is not a plugin package (no package.json with a "sextant" field)` }],
      });
    }
  }
  if (options.scan !== false) {
    const seen = new Set<string>();
    for (const from of options.searchFrom) {
      for (const nm of nodeModulesChain(from)) {
        for (const dir of packageDirs(nm)) {
          let real: string;
          try {
            real = realpathSync(dir);
          } catch {
            continue;
          }
          if (seen.has(real)) continue;
          seen.add(real);
          add(candidateFromDir(real, 'node_modules'));
        }
      }
    }
  }
  return [...byName.values()];
}

/** Imports a candidate's plugin module and checks what it exports. */
export async function loadPluginModule(candidate: PluginCandidate): Promise<SextantPlugin> {
  if (candidate.plugin) return candidate.plugin;
  if (!candidate.manifest || !candidate.dir) {
    throw new SextantError(ErrorCode.MANIFEST_INVALID, `${candidate.packageName} has an invalid manifest`, { hint: candidate.issues.map((i) => `${i.path}: ${i.message}`).join('; ') });
  }
  const entry = isAbsolute(candidate.manifest.plugin) ? candidate.manifest.plugin : join(candidate.dir, candidate.manifest.plugin);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (e) {
    throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `cannot import ${candidate.packageName} from ${entry}: ${(e as Error).message}`, {
      hint: existsSync(entry) ? 'the module threw while loading; run it with node to see the error' : `the file does not exist; build the package or fix "sextant.plugin" in its package.json`,
      cause: e,
    });
  }
  const plugin = [mod.default, mod.plugin].find(isSextantPlugin);
  if (!plugin) {
    throw new SextantError(ErrorCode.PLUGIN_INVALID, `${candidate.packageName} (${entry}) does not export a plugin`, {
      hint: 'export default createPlugin({ pluginId, deps, register }) from @sextant/plugin-api',
    });
  }
  if (plugin.contractVersion !== PLUGIN_CONTRACT_VERSION) {
    throw new SextantError(ErrorCode.PLUGIN_INVALID, `${candidate.packageName} was built for plugin contract v${plugin.contractVersion}; this runtime speaks v${PLUGIN_CONTRACT_VERSION}`, {
      hint: `install a version of ${candidate.packageName} built against @sextant/plugin-api ${PLUGIN_CONTRACT_VERSION}.x`,
    });
  }
  return plugin;
}
