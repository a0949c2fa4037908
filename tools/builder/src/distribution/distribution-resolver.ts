/**
 * Resolves a distribution manifest to exact versions and explains every incompatibility in one
 * sentence that ends with the fix.
 *
 * Compatibility rules (the same facts the runtime checks when it loads a plugin):
 * - A plugin declares the contract it was built against as `peerDependencies["@sextant/plugin-api"]`.
 *   A distribution holds exactly ONE copy of @sextant/plugin-api (the runtime's dependency), so one
 *   released version must satisfy the runtime's range and every plugin's range at once.
 * - A plugin's `sextant.protocol` (plugin protocol majors it can serve out of process) must share a
 *   major with the runtime's supported protocols, so every plugin can also run isolated.
 * - A package without a valid `sextant` manifest is not a plugin.
 *
 * Within the semver range the user gave, the newest release compatible with the chosen runtime wins
 * (not simply the newest release), like a package manager that knows about peers.
 */
import { resolve } from 'node:path';
import semver from 'semver';
import { parseManifest, type PluginManifest } from '@sextant/plugin-api';
import type { DistributionManifest, LoadedDistributionManifest, PluginRequest } from './distribution-manifest.js';
import { FolderSource, type PackageSource, type PackageVersionInfo } from './package-source.js';

export const RUNTIME_PACKAGE = '@sextant/runtime';
export const CLI_PACKAGE = '@sextant/cli';
export const PLUGIN_API_PACKAGE = '@sextant/plugin-api';

export interface ResolvedPackage {
  readonly name: string;
  readonly version: string;
  readonly info: PackageVersionInfo;
}

export interface ResolvedPlugin extends ResolvedPackage {
  readonly request: PluginRequest;
  readonly manifest: PluginManifest;
  /** The plugin-api range it declares, when it declares one. */
  readonly pluginApiRange?: string;
  /**
   * How the generated entry point imports the plugin module: a bare specifier through the
   * package's `exports` (`@sextant/plugin-redis/plugin`), or undefined when the exports map does
   * not expose the manifest's module (the entry then imports the file inside node_modules).
   */
  readonly importSpecifier?: string;
}

/** One incompatibility: the package it is about and one sentence saying what is wrong and the fix. */
export interface Conflict {
  readonly package: string;
  readonly sentence: string;
}

export interface DistributionResolution {
  readonly manifest: DistributionManifest;
  readonly runtime?: ResolvedPackage;
  readonly cli?: ResolvedPackage;
  /** The single copy of the contract; undefined when the source does not list plugin-api versions. */
  readonly pluginApi?: ResolvedPackage;
  readonly runtimeProtocols: readonly number[];
  readonly plugins: readonly ResolvedPlugin[];
  readonly conflicts: readonly Conflict[];
  /** Choices worth telling the user (an older release picked for compatibility, ...). */
  readonly notes: readonly string[];
}

/**
 * Plugin protocol majors a runtime release can host. A runtime may declare them in its
 * package.json (`"sextant": { "protocols": [1] }`); releases that do not are 0.x/1.x, which speak v1.
 */
export function runtimeProtocols(runtime: PackageVersionInfo): readonly number[] {
  const declared = (runtime.sextant as { protocols?: unknown } | undefined)?.protocols;
  if (Array.isArray(declared) && declared.every((v) => Number.isInteger(v))) return declared as number[];
  return [1];
}

export function pluginApiRangeOf(info: PackageVersionInfo): string | undefined {
  return info.peerDependencies?.[PLUGIN_API_PACKAGE] ?? info.dependencies?.[PLUGIN_API_PACKAGE];
}

function exportTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  for (const key of ['import', 'node', 'default']) {
    const t = exportTarget(v[key]);
    if (t) return t;
  }
  return undefined;
}

const normalise = (p: string) => p.replace(/^\.\//, '');

/** The bare specifier that reaches the manifest's plugin module through the package's exports. */
export function pluginImportSpecifier(info: PackageVersionInfo, pluginPath: string): string | undefined {
  const want = normalise(pluginPath);
  if (info.exports === undefined) return `${info.name}/${want}`;
  const entries: [string, unknown][] =
    typeof info.exports === 'string' || Object.keys(info.exports as object).every((k) => !k.startsWith('.'))
      ? [['.', info.exports]]
      : Object.entries(info.exports as Record<string, unknown>);
  for (const [sub, target] of entries) {
    if (sub.includes('*')) continue;
    const t = exportTarget(target);
    if (t && normalise(t) === want) return sub === '.' ? info.name : `${info.name}/${normalise(sub)}`;
  }
  return undefined;
}

/** Why `info` cannot run on a runtime with this contract range and these protocols, or undefined. */
function incompatibility(info: PackageVersionInfo, runtimeApiRange: string | undefined, protocols: readonly number[], runtimeLabel: string): string | undefined {
  if (info.sextant === undefined) return `${info.name}@${info.version} is not a Sextant plugin (its package.json has no "sextant" manifest)`;
  const parsed = parseManifest(info.sextant, `${info.name}: package.json#sextant`);
  if (!parsed.ok) return `${info.name}@${info.version} has an invalid plugin manifest (${parsed.issues.map((i) => `${i.path} ${i.message}`).join('; ')})`;
  const range = pluginApiRangeOf(info);
  if (range && runtimeApiRange && !safeIntersects(range, runtimeApiRange)) {
    return `${info.name}@${info.version} needs ${PLUGIN_API_PACKAGE} ${range}, but ${runtimeLabel} ships ${PLUGIN_API_PACKAGE} ${runtimeApiRange}`;
  }
  if (!parsed.manifest.protocol.some((p) => protocols.includes(p))) {
    return `${info.name}@${info.version} speaks plugin protocol ${parsed.manifest.protocol.map((p) => `v${p}`).join('/')}, but ${runtimeLabel} speaks ${protocols.map((p) => `v${p}`).join('/')}`;
  }
  return undefined;
}

function safeIntersects(a: string, b: string): boolean {
  try {
    return semver.intersects(a, b);
  } catch {
    return false;
  }
}

const newestFirst = (list: readonly PackageVersionInfo[]) => [...list].filter((v) => semver.valid(v.version)).sort((a, b) => semver.rcompare(a.version, b.version));

/**
 * Resolves every package of a distribution. Never throws for incompatibilities: they are returned
 * in `conflicts`, all at once. Throws only when a source cannot be read (network, ...).
 */
export async function resolveDistribution(loaded: LoadedDistributionManifest, source: PackageSource): Promise<DistributionResolution> {
  const { manifest } = loaded;
  const conflicts: Conflict[] = [];
  const notes: string[] = [];
  const conflict = (pkg: string, sentence: string) => conflicts.push({ package: pkg, sentence });

  // 1. the runtime
  const runtimeVersions = newestFirst(await source.versions(RUNTIME_PACKAGE));
  const runtimeInfo = runtimeVersions.find((v) => semver.satisfies(v.version, manifest.runtime));
  if (!runtimeInfo) {
    const latest = runtimeVersions[0]?.version;
    conflict(
      RUNTIME_PACKAGE,
      latest
        ? `no release of ${RUNTIME_PACKAGE} matches "runtime: ${manifest.runtime}" (newest on ${source.label} is ${latest}); set runtime: ^${latest}.`
        : `${RUNTIME_PACKAGE} is not available from ${source.label}; publish it there or pass the right --registry.`,
    );
  }
  const runtimeLabel = runtimeInfo ? `${RUNTIME_PACKAGE} ${runtimeInfo.version}` : RUNTIME_PACKAGE;
  const runtimeApiRange = runtimeInfo ? pluginApiRangeOf(runtimeInfo) : undefined;
  const protocols = runtimeInfo ? runtimeProtocols(runtimeInfo) : [1];

  // 2. the CLI the entry point reuses: newest in the user's range that accepts this runtime
  let cliInfo: PackageVersionInfo | undefined;
  if (runtimeInfo) {
    const cliVersions = newestFirst(await source.versions(CLI_PACKAGE)).filter((v) => semver.satisfies(v.version, manifest.cli));
    cliInfo = cliVersions.find((v) => {
      const wants = v.dependencies?.[RUNTIME_PACKAGE];
      return !wants || semver.satisfies(runtimeInfo.version, wants);
    });
    if (!cliInfo) {
      conflict(
        CLI_PACKAGE,
        cliVersions.length
          ? `no release of ${CLI_PACKAGE} matching "${manifest.cli}" works with ${runtimeLabel} (${cliVersions[0].name}@${cliVersions[0].version} needs ${RUNTIME_PACKAGE} ${cliVersions[0].dependencies?.[RUNTIME_PACKAGE]}); change "runtime" to a version that CLI accepts.`
          : `${CLI_PACKAGE} (matching "${manifest.cli}") is not available from ${source.label}; publish it there or pass the right --registry.`,
      );
    }
  }

  // 3. every plugin: the newest release in the requested range that fits the runtime
  const plugins: ResolvedPlugin[] = [];
  for (const request of manifest.plugins) {
    const pluginSource = request.path ? new FolderSource([resolve(loaded.baseDir, request.path)], resolve(loaded.baseDir, request.path)) : source;
    const all = newestFirst(await pluginSource.versions(request.name));
    const range = request.version ?? '*';
    if (all.length === 0) {
      conflict(
        request.name,
        request.path
          ? `${resolve(loaded.baseDir, request.path)} holds no package named ${request.name}; fix "path" or "name" of that plugin in ${loaded.file ?? 'distribution.yaml'}.`
          : `${request.name} is not published on ${source.label}; check the spelling or publish it there.`,
      );
      continue;
    }
    const inRange = all.filter((v) => semver.satisfies(v.version, range));
    if (inRange.length === 0) {
      conflict(request.name, `no release of ${request.name} matches ${range} (newest on ${pluginSource.label} is ${all[0].version}); use ${request.name}@^${all[0].version}.`);
      continue;
    }
    const chosen = inRange.find((v) => !incompatibility(v, runtimeApiRange, protocols, runtimeLabel));
    if (!chosen) {
      const why = incompatibility(inRange[0], runtimeApiRange, protocols, runtimeLabel)!;
      conflict(request.name, `${why}; ${pluginFix(request, all, runtimeApiRange, protocols, runtimeLabel, runtimeVersions)}.`);
      continue;
    }
    if (chosen !== inRange[0]) notes.push(`${request.name}: picked ${chosen.version}, the newest release in ${range} that fits ${runtimeLabel} (${inRange[0].version} does not)`);
    const parsed = parseManifest(chosen.sextant);
    const pluginManifest = (parsed as { manifest: PluginManifest }).manifest;
    const apiRange = pluginApiRangeOf(chosen);
    if (!apiRange) notes.push(`${request.name}@${chosen.version} does not declare ${PLUGIN_API_PACKAGE} as a peer dependency; its compatibility cannot be checked`);
    plugins.push({
      name: request.name,
      version: chosen.version,
      info: chosen,
      request,
      manifest: pluginManifest,
      ...(apiRange ? { pluginApiRange: apiRange } : {}),
      ...(pluginImportSpecifier(chosen, pluginManifest.plugin) ? { importSpecifier: pluginImportSpecifier(chosen, pluginManifest.plugin) } : {}),
    });
  }

  // 4. one copy of the contract for everybody
  let pluginApi: ResolvedPackage | undefined;
  const apiVersions = newestFirst(await source.versions(PLUGIN_API_PACKAGE));
  if (runtimeInfo && apiVersions.length) {
    const ranges = [runtimeApiRange ?? '*', ...plugins.map((p) => p.pluginApiRange ?? '*')];
    const shared = apiVersions.find((v) => ranges.every((r) => semver.satisfies(v.version, r)));
    if (shared) pluginApi = { name: PLUGIN_API_PACKAGE, version: shared.version, info: shared };
    else explainContractSplit(plugins, apiVersions, runtimeApiRange ?? '*', runtimeLabel, conflict);
  } else if (runtimeInfo) {
    notes.push(`${source.label} lists no ${PLUGIN_API_PACKAGE} releases; npm will pick the version when installing`);
  }

  return {
    manifest,
    ...(runtimeInfo ? { runtime: { name: RUNTIME_PACKAGE, version: runtimeInfo.version, info: runtimeInfo } } : {}),
    ...(cliInfo ? { cli: { name: CLI_PACKAGE, version: cliInfo.version, info: cliInfo } } : {}),
    ...(pluginApi ? { pluginApi } : {}),
    runtimeProtocols: protocols,
    plugins,
    conflicts,
    notes,
  };
}

/** The fix for a plugin with no compatible release in range: another plugin version, else another runtime. */
function pluginFix(
  request: PluginRequest,
  all: readonly PackageVersionInfo[],
  runtimeApiRange: string | undefined,
  protocols: readonly number[],
  runtimeLabel: string,
  runtimeVersions: readonly PackageVersionInfo[],
): string {
  if (all.every((v) => v.sextant === undefined)) return `remove it from the plugins list (or ask its author to add a "sextant" manifest)`;
  const fitting = all.find((v) => !incompatibility(v, runtimeApiRange, protocols, runtimeLabel));
  if (fitting) return `use ${request.name}@^${fitting.version} (its newest release that fits ${runtimeLabel})`;
  const wanted = all[0];
  const runtime = runtimeVersions.find((r) => !incompatibility(wanted, pluginApiRangeOf(r), runtimeProtocols(r), r.name));
  if (runtime) return `set runtime: ^${runtime.version} (the newest runtime that ${wanted.name}@${wanted.version} fits) or drop the plugin`;
  return `no release of ${request.name} fits any available runtime; ask its author for a release built against ${PLUGIN_API_PACKAGE} ${runtimeApiRange ?? '(the current contract)'}`;
}

/** Two plugins each fit the runtime but not each other: name the pair and the fix. */
function explainContractSplit(
  plugins: readonly ResolvedPlugin[],
  apiVersions: readonly PackageVersionInfo[],
  runtimeApiRange: string,
  runtimeLabel: string,
  conflict: (pkg: string, sentence: string) => void,
): void {
  const fits = (ranges: string[]) => apiVersions.some((v) => ranges.every((r) => semver.satisfies(v.version, r)));
  for (const p of plugins) {
    if (!fits([runtimeApiRange, p.pluginApiRange ?? '*'])) {
      conflict(p.name, `no released ${PLUGIN_API_PACKAGE} satisfies both ${runtimeLabel} (${runtimeApiRange}) and ${p.name}@${p.version} (${p.pluginApiRange}); publish a matching ${PLUGIN_API_PACKAGE} or pick another ${p.name} release.`);
      return;
    }
  }
  for (let i = 0; i < plugins.length; i++) {
    for (let j = i + 1; j < plugins.length; j++) {
      const a = plugins[i];
      const b = plugins[j];
      if (!fits([runtimeApiRange, a.pluginApiRange ?? '*', b.pluginApiRange ?? '*'])) {
        conflict(
          b.name,
          `${a.name}@${a.version} needs ${PLUGIN_API_PACKAGE} ${a.pluginApiRange} and ${b.name}@${b.version} needs ${b.pluginApiRange}, and a distribution has exactly one copy of the contract; pick releases of ${a.name} and ${b.name} built against the same ${PLUGIN_API_PACKAGE} minor.`,
        );
        return;
      }
    }
  }
  conflict(PLUGIN_API_PACKAGE, `no single release of ${PLUGIN_API_PACKAGE} satisfies ${runtimeLabel} and all plugins together; pin plugin versions built against the same contract minor.`);
}
