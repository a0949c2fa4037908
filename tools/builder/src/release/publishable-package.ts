/**
 * What makes a package of this monorepo publishable on its own (checked before `nx release
 * publish`, and by the builder's tests for every package):
 * - a name under @sextant/, a valid version, not private;
 * - `files` limited to dist (plus README/CHANGELOG and declared extras), never src or tests;
 * - an `exports` map whose public conditions (`types`, `import`) point into dist, so the package
 *   works without src/ (the `@sextant/source` condition is for the monorepo only);
 * - components (collectors, plugins, integrations) take @sextant/plugin-api as a PEER dependency
 *   (one copy per distribution) and never depend on @sextant/runtime;
 * - plugins carry a valid `sextant` manifest whose module is inside dist;
 * - no `file:`/`workspace:`/`*` ranges on @sextant packages in dependencies (they would not resolve
 *   from a registry).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { parseManifest } from '@sextant/plugin-api';

export interface PublishProblem {
  readonly package: string;
  readonly problem: string;
}

const ALLOWED_FILES = new Set(['dist', '!dist/*.tsbuildinfo', 'README.md', 'CHANGELOG.md', 'LICENSE']);

function publicTargets(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') {
    for (const [condition, target] of Object.entries(value)) if (condition !== '@sextant/source') publicTargets(target, out);
  }
  return out;
}

/** Problems that would make the package in `dir` broken or bloated once published; [] when fine. */
export function checkPublishable(
  dir: string,
  options: {
    /** Top-level folder (collectors, plugins, integrations make it a component). */
    readonly group?: string;
    /** Entries of `files` allowed besides dist, README.md and CHANGELOG.md (e.g. `proto`). */
    readonly extraFiles?: readonly string[];
    /** Also require README.md and CHANGELOG.md (default true; nx release writes the changelog on the first release). */
    readonly requireDocs?: boolean;
  } = {},
): PublishProblem[] {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, any>;
  const name = String(pkg.name ?? dir);
  const problems: PublishProblem[] = [];
  const add = (problem: string) => problems.push({ package: name, problem });
  if (!name.startsWith('@sextant/')) add('name must be under the @sextant/ scope');
  if (pkg.private) add('is private; remove "private": true or leave it out of nx.json release.projects');
  if (!semver.valid(String(pkg.version))) add(`version "${pkg.version}" is not semver`);
  if (pkg.type !== 'module') add('must be "type": "module" (ESM only)');

  const files: unknown = pkg.files;
  if (!Array.isArray(files)) add('has no "files" list, so npm would publish src/, tests and configs');
  else {
    const extra = new Set(options.extraFiles ?? []);
    for (const f of files) if (!ALLOWED_FILES.has(f) && !extra.has(f)) add(`"files" includes "${f}"; publish dist (and README.md, CHANGELOG.md) only`);
    if (!files.includes('dist')) add('"files" must include dist');
    if (!files.includes('!dist/*.tsbuildinfo')) add('"files" should exclude "!dist/*.tsbuildinfo"');
  }

  if (!pkg.exports || typeof pkg.exports !== 'object') add('has no "exports" map');
  else {
    if (!pkg.exports['.'] && !pkg.bin) add('"exports" has no "." entry');
    for (const [sub, target] of Object.entries(pkg.exports)) {
      for (const t of publicTargets(target)) {
        if (sub === './package.json' || sub.startsWith('./proto')) continue;
        if (!/^\.\/dist\//.test(t)) add(`exports["${sub}"] points at ${t}, outside dist/`);
      }
    }
  }
  // A bin may live in a folder shipped on purpose (extraFiles): the CLI's plain-JS shim in bin/
  // exists before the build, so npm links it at install time.
  const binFolders = [...(options.extraFiles ?? [])].map((f) => `./${f}/`);
  if (pkg.bin) for (const [cmd, file] of Object.entries(pkg.bin as Record<string, string>)) if (!/^\.\/dist\//.test(file) && !binFolders.some((f) => file.startsWith(f))) add(`bin ${cmd} points at ${file}, outside dist/`);

  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries((pkg[field] ?? {}) as Record<string, string>)) {
      if (dep.startsWith('@sextant/') && (range === '*' || /^(file|workspace|link):/.test(range))) add(`${field}.${dep} is "${range}", which does not resolve from a registry; use ^<version>`);
    }
  }

  const isComponent = ['collectors', 'plugins', 'integrations'].includes(options.group ?? '');
  if (isComponent) {
    if (!pkg.peerDependencies?.['@sextant/plugin-api']) add('components need "@sextant/plugin-api" in peerDependencies (one copy per distribution)');
    if (pkg.dependencies?.['@sextant/plugin-api']) add('"@sextant/plugin-api" must be a peer dependency, not a dependency');
    if (pkg.dependencies?.['@sextant/runtime'] || pkg.peerDependencies?.['@sextant/runtime']) add('components must not depend on @sextant/runtime');
  }
  if (pkg.sextant !== undefined || isComponent) {
    const parsed = parseManifest(pkg.sextant, `${name}: sextant`);
    if (!parsed.ok) add(`invalid plugin manifest: ${parsed.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
    else if (!/^\.\/dist\//.test(parsed.manifest.plugin)) add(`sextant.plugin is ${parsed.manifest.plugin}; it must point into dist/`);
  }
  if (options.requireDocs !== false) {
    if (!existsSync(join(dir, 'CHANGELOG.md'))) add('has no CHANGELOG.md');
    if (!existsSync(join(dir, 'README.md'))) add('has no README.md');
  }
  return problems;
}
