/**
 * `sextant build distribution.yaml`: resolve, check, write, install, verify.
 *
 * The build fails (and writes nothing) when any plugin is incompatible; every conflict is reported
 * at once, one sentence each with its fix. After writing it installs the package with npm (unless
 * told not to) and runs the result's own `plugins list --json`, so a finished build is known to
 * load every plugin — that output also fills the README's component table.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { readDistributionManifest, type LoadedDistributionManifest } from './distribution-manifest.js';
import { resolveDistribution, type Conflict, type DistributionResolution } from './distribution-resolver.js';
import { ENTRY_FILE, binName, writeDistribution, type ComponentRow } from './distribution-writer.js';
import { RegistrySource, type PackageSource } from './package-source.js';

/** Thrown when plugins do not fit the runtime or each other; `conflicts` has one sentence per problem. */
export class DistributionConflictError extends SextantError {
  constructor(readonly conflicts: readonly Conflict[], file: string) {
    super(
      ErrorCode.PLUGIN_INVALID,
      `${file} cannot be built: ${conflicts.map((c) => c.sentence).join(' ')}`,
      { hint: 'change the versions named above in the manifest and build again', details: { conflicts } },
    );
  }
}

export interface BuildDistributionOptions {
  /** Output folder; default `dist/<command name>` next to distribution.yaml. Replaced when it exists. */
  readonly out?: string;
  /** npm registry to resolve and install from; default: npm's configured registry. */
  readonly registry?: string;
  /** Where versions are looked up; default: the registry. Tests and monorepo builds pass folders. */
  readonly source?: PackageSource;
  /** Run `npm install --omit=dev` in the output (default true). */
  readonly install?: boolean;
  /**
   * Run the result's own `plugins list --json` to prove every plugin loads, and list the components
   * in the README (default: when installing). Without install the imports must resolve from a parent
   * folder's node_modules (a monorepo checkout).
   */
  readonly verify?: boolean;
  /** Override distribution.yaml's `bundle` / `docker`. */
  readonly bundle?: boolean;
  readonly docker?: boolean;
  /** Progress lines for a person. */
  readonly log?: (line: string) => void;
}

export interface BuildDistributionResult {
  readonly outDir: string;
  readonly resolution: DistributionResolution;
  readonly files: readonly string[];
  readonly installed: boolean;
  /** Path of the single-file bundle, when one was made. */
  readonly bundle?: string;
  readonly components?: readonly ComponentRow[];
}

interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 600_000): Promise<ProcessResult> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: process.env }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** npm's configured registry (`npm config get registry`). */
export async function defaultRegistry(cwd = process.cwd()): Promise<string> {
  const r = await run('npm', ['config', 'get', 'registry'], cwd, 30_000);
  const url = r.stdout.trim();
  return r.code === 0 && /^https?:\/\//.test(url) ? url : 'https://registry.npmjs.org/';
}

/**
 * The file every build writes into its output folder. A later build replaces a folder only when it
 * holds this marker (or is empty/missing), so `--out .` or `--out src` can never delete a person's work.
 */
export const BUILD_MARKER = '.sextant-build';

/** `true` when `inner` is `outer` or lies inside it. */
function isSameOrInside(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

/**
 * Empties `outDir` for a new build, refusing (SEXTANT_ERR_CONFIG_INVALID, nothing deleted) when it
 * holds the manifest or the current folder, or has files but no {@link BUILD_MARKER}.
 */
export function prepareOutputFolder(outDir: string, manifestDir: string, cwd = process.cwd()): void {
  const refuse = (why: string) =>
    new SextantError(ErrorCode.CONFIG_INVALID, `refusing to replace ${outDir}: ${why}`, {
      hint: 'choose an output folder of its own, e.g. --out dist/ (the default is dist/<name> next to distribution.yaml)',
      details: { outDir },
    });
  if (isSameOrInside(manifestDir, outDir)) throw refuse('it contains distribution.yaml, which a build would delete');
  if (isSameOrInside(resolve(cwd), outDir)) throw refuse('it contains the current folder, which a build would delete');
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw refuse('it is a file, not a folder');
    const entries = readdirSync(outDir);
    if (entries.length && !entries.includes(BUILD_MARKER)) {
      throw refuse(`it is not empty and was not made by "sextant build" (no ${BUILD_MARKER} file in it)`);
    }
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, BUILD_MARKER), 'This folder was made by "sextant build"; the next build deletes and rewrites it.\n');
}

const tail = (s: string, lines = 15) => s.trim().split('\n').slice(-lines).join('\n');

/** Packs local-folder plugins into `vendor/` so the distribution does not point outside itself. */
async function packLocalPlugins(res: DistributionResolution, outDir: string, log: (l: string) => void): Promise<Map<string, string>> {
  const specs = new Map<string, string>();
  const local = res.plugins.filter((p) => p.request.path && p.info.dir);
  if (!local.length) return specs;
  const vendor = join(outDir, 'vendor');
  mkdirSync(vendor, { recursive: true });
  for (const p of local) {
    log(`packing ${p.name} from ${p.info.dir}`);
    const r = await run('npm', ['pack', p.info.dir!, '--pack-destination', vendor, '--json'], outDir);
    if (r.code !== 0) {
      throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `npm pack ${p.info.dir} failed: ${tail(r.stderr, 5)}`, { hint: 'build the plugin first (npm run build in its folder)' });
    }
    const packed = (JSON.parse(r.stdout) as { filename: string }[])[0].filename.replace(/^@/, '').replace('/', '-');
    specs.set(p.name, `file:vendor/${packed}`);
  }
  return specs;
}

/** Lists the factories of the installed distribution by running its own `plugins list --json`. */
async function listComponents(outDir: string, entry: string): Promise<ComponentRow[]> {
  const r = await run(process.execPath, [entry, 'plugins', 'list', '--json'], outDir, 120_000);
  let body: { plugins: { id: string; packageName: string; state: string; error?: string; factories: { kind: string; type: string; stability: string; description: string }[] }[] };
  try {
    body = JSON.parse(r.stdout) as typeof body;
  } catch {
    throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `the built distribution does not start: ${tail(r.stderr || r.stdout)}`, { hint: 'run "node main.js plugins list" in the output folder to see the error' });
  }
  const failed = body.plugins.filter((p) => p.state !== 'loaded');
  if (failed.length) {
    throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `the built distribution cannot load ${failed.map((p) => `${p.packageName} (${p.error})`).join('; ')}`, {
      hint: 'check that the plugin package was built before it was published',
    });
  }
  return body.plugins.flatMap((p) => p.factories.map((f) => ({ plugin: p.packageName, kind: f.kind, type: f.type, stability: f.stability, description: f.description })));
}

/**
 * Makes `bundle/<name>.mjs`: the entry and everything it imports in one file (needs rolldown), then
 * proves it runs alone: a copy with only package.json beside it (no node_modules anywhere above) must
 * list every plugin. An import the bundler cannot resolve is an error, never a silent external.
 * Packages resolve from the output's node_modules, then from `fallbackModules` (a workspace's).
 */
async function bundleDistribution(outDir: string, name: string, pluginCount: number, fallbackModules: readonly string[], log: (l: string) => void): Promise<string> {
  let rolldown: { build(options: Record<string, unknown>): Promise<unknown> };
  try {
    rolldown = (await import('rolldown' as string)) as typeof rolldown;
  } catch {
    throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, 'a single-file bundle needs the rolldown bundler, which is not installed', { hint: 'npm i -D rolldown next to @sextant/builder, or set bundle: false' });
  }
  const file = join(outDir, 'bundle', `${name}.mjs`);
  const unresolved: string[] = [];
  await rolldown.build({
    input: join(outDir, ENTRY_FILE),
    cwd: outDir,
    platform: 'node',
    logLevel: 'warn',
    resolve: { modules: ['node_modules', ...fallbackModules] },
    onLog: (_level: string, entry: { code?: string; message?: string }) => {
      if (entry.code === 'UNRESOLVED_IMPORT') unresolved.push(entry.message ?? 'an import');
    },
    output: { file, format: 'esm', codeSplitting: false },
  });
  if (unresolved.length) {
    rmSync(join(outDir, 'bundle'), { recursive: true, force: true });
    throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `cannot bundle: ${unresolved.length} import(s) do not resolve from ${outDir}: ${unresolved.slice(0, 3).join('; ')}`, {
      hint: 'build without --no-install (so the packages are installed in the output), or pass --workspace DIR of a built Sextant checkout',
    });
  }
  const alone = mkdtempSync(join(tmpdir(), 'sextant-bundle-check-'));
  try {
    mkdirSync(join(alone, 'bundle'));
    copyFileSync(file, join(alone, 'bundle', `${name}.mjs`));
    copyFileSync(join(outDir, 'package.json'), join(alone, 'package.json'));
    const r = await run(process.execPath, [join('bundle', `${name}.mjs`), 'plugins', 'list', '--json'], alone, 120_000);
    let loaded = -1;
    try {
      loaded = (JSON.parse(r.stdout) as { plugins: { state: string }[] }).plugins.filter((p) => p.state === 'loaded').length;
    } catch {
      // not JSON: reported below with its stderr
    }
    if (r.code !== 0 || loaded < pluginCount) {
      rmSync(join(outDir, 'bundle'), { recursive: true, force: true });
      throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `the bundle does not run on its own (exit ${r.code}, ${Math.max(loaded, 0)} of ${pluginCount} plugins loaded): ${tail(r.stderr || r.stdout, 5)}`, {
        hint: 'a package in the distribution loads files next to its code at run time; ship the installed folder instead of the bundle',
      });
    }
    log(`checked: the bundle runs alone and loads ${loaded} plugins`);
  } finally {
    rmSync(alone, { recursive: true, force: true });
  }
  return file;
}

/** Builds the distribution described by `manifest` (a path to distribution.yaml, or a parsed manifest). */
export async function buildDistribution(manifest: string | LoadedDistributionManifest, options: BuildDistributionOptions = {}): Promise<BuildDistributionResult> {
  const log = options.log ?? (() => {});
  const loaded = typeof manifest === 'string' ? readDistributionManifest(manifest) : manifest;
  const label = loaded.file ?? 'distribution.yaml';
  const registry = options.registry ?? (options.source ? undefined : await defaultRegistry(loaded.baseDir));
  const source: PackageSource = options.source ?? new RegistrySource(registry!);
  log(`resolving ${loaded.manifest.plugins.length} plugin${loaded.manifest.plugins.length === 1 ? '' : 's'} from ${source.label}`);
  const resolution = await resolveDistribution(loaded, source);
  for (const note of resolution.notes) log(`note: ${note}`);
  if (resolution.conflicts.length) throw new DistributionConflictError(resolution.conflicts, label);

  const name = binName(loaded.manifest.name);
  const outDir = options.out ? (isAbsolute(options.out) ? options.out : resolve(options.out)) : join(loaded.baseDir, 'dist', name);
  prepareOutputFolder(outDir, loaded.baseDir);
  const specs = await packLocalPlugins(resolution, outDir, log);
  const docker = options.docker ?? loaded.manifest.docker;
  let files = writeDistribution(resolution, { outDir, specs, docker });
  log(`wrote ${files.join(', ')} to ${outDir}`);

  const install = options.install !== false;
  if (install) {
    log(`installing with npm${registry ? ` from ${registry}` : ''}`);
    const args = ['install', '--omit=dev', '--no-audit', '--no-fund', ...(registry ? ['--registry', registry] : [])];
    const installed = await run('npm', args, outDir);
    if (installed.code !== 0) {
      throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `npm install in ${outDir} failed: ${tail(installed.stderr)}`, { hint: 'check the registry (--registry URL) and that every package is published' });
    }
  }
  let components: ComponentRow[] | undefined;
  if (options.verify ?? install) {
    components = await listComponents(outDir, join(outDir, ENTRY_FILE));
    files = writeDistribution(resolution, { outDir, specs, docker, components });
    log(`verified: ${resolution.plugins.length} plugins load, ${components.length} component types`);
  }

  let bundle: string | undefined;
  if (options.bundle ?? loaded.manifest.bundle) {
    bundle = await bundleDistribution(outDir, name, resolution.plugins.length, install ? [] : (source.nodeModules ?? []), log);
    log(`bundled into ${bundle}`);
  }
  return { outDir, resolution, files, installed: install, ...(components ? { components } : {}), ...(bundle ? { bundle } : {}) };
}

