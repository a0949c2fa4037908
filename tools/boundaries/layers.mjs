/**
 * The layer table of the monorepo (docs/architecture.md, "Layer rules"), read by the
 * dependency-cruiser configuration beside this file. Every package names its layer in the
 * `nx.tags` of its package.json; this table says which layers a layer may depend on.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** layer -> layers it may import (its own code under src/ and bench/). */
export const LAYERS = {
  'layer:contract': [],
  'layer:plugin-kit': [],
  'layer:protocol': ['layer:contract', 'layer:plugin-kit'],
  'layer:core': ['layer:contract', 'layer:plugin-kit', 'layer:protocol', 'layer:core'],
  'layer:testkit': ['layer:contract', 'layer:plugin-kit', 'layer:protocol', 'layer:core'],
  'layer:kit': ['layer:contract', 'layer:plugin-kit'],
  'layer:component': ['layer:contract', 'layer:plugin-kit', 'layer:protocol', 'layer:kit'],
  'layer:distribution': ['layer:contract', 'layer:plugin-kit', 'layer:protocol', 'layer:core', 'layer:testkit', 'layer:kit', 'layer:component', 'layer:distribution', 'layer:tool'],
  'layer:tool': ['layer:contract', 'layer:plugin-kit', 'layer:protocol', 'layer:core', 'layer:testkit', 'layer:kit', 'layer:component', 'layer:distribution', 'layer:tool'],
};

/** Test files (never shipped) may also use the testkit and components, as fixtures. */
export const TEST_EXTRA = ['layer:testkit', 'layer:component'];

/** Top-level folders holding packages, and the layers a package in each may have. */
export const GROUPS = {
  core: ['layer:contract', 'layer:plugin-kit', 'layer:protocol', 'layer:core', 'layer:testkit', 'layer:kit'],
  collectors: ['layer:component'],
  plugins: ['layer:component'],
  integrations: ['layer:component'],
  tools: ['layer:distribution', 'layer:tool', 'layer:testkit'],
};

/** The fix a user reads when `from` imports `to` across the table. */
export function fixFor(from, to) {
  if (to === 'layer:core' && from === 'layer:component') return 'plugins talk to the runtime only through @sextant/plugin-api (refs, factories, coreServices); something several components need goes into a kit';
  const allowed = LAYERS[from] ?? [];
  return `a ${from} package may use ${allowed.join(', ') || 'no other @sextant package'}`;
}

/** Every workspace package under `root`: name, folder (relative, e.g. `plugins/nginx`), layer, package.json. */
export function readPackages(root) {
  const packages = [];
  for (const group of Object.keys(GROUPS)) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      const layer = (pkg.nx?.tags ?? []).find((t) => t.startsWith('layer:'));
      packages.push({ name: pkg.name, dir: `${group}/${name}`, group, layer, pkg });
    }
  }
  return packages;
}

/**
 * What dependency-cruiser cannot see: a package without a known layer tag, a layer in the wrong
 * folder, and a package.json dependency list that crosses the table (a dependency that is never
 * imported still gets installed with the package).
 */
export function manifestProblems(packages) {
  const problems = [];
  const byName = new Map(packages.map((p) => [p.name, p]));
  for (const p of packages) {
    if (!p.layer) problems.push(`${p.dir}/package.json: no "layer:*" nx tag; add one of ${Object.keys(LAYERS).join(', ')}`);
    else if (!LAYERS[p.layer]) problems.push(`${p.dir}/package.json: unknown tag ${p.layer}; the layers are ${Object.keys(LAYERS).join(', ')}`);
    else if (!GROUPS[p.group].includes(p.layer)) problems.push(`${p.dir}/package.json: a package under ${p.group}/ must be tagged ${GROUPS[p.group].join(' or ')} (is ${p.layer})`);
  }
  for (const p of packages) {
    if (!LAYERS[p.layer]) continue;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dep of Object.keys(p.pkg[field] ?? {})) {
        const t = byName.get(dep);
        if (!t || t === p || !t.layer || LAYERS[p.layer].includes(t.layer)) continue;
        problems.push(`${p.dir}/package.json ${field}: ${p.name} (${p.layer}) must not depend on ${dep} (${t.layer}); ${fixFor(p.layer, t.layer)}`);
      }
    }
  }
  return problems;
}
