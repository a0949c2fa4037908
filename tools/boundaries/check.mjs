#!/usr/bin/env node
/**
 * Layer boundaries of the monorepo (docs/architecture.md, "Layer rules"), from the `nx.tags` of every package:
 *
 *   layer:contract      @sextant/plugin-api         imports no other @sextant package
 *   layer:protocol      @sextant/protocol           plugin-api
 *   layer:core          runtime, analysis, ui       plugin-api, protocol, other core (never collectors/plugins/integrations/tools)
 *   layer:testkit       @sextant/testkit            plugin-api, protocol, core
 *   layer:kit           @sextant/integration-kit    plugin-api only: shared building blocks that
 *                       components may use instead of copying them (outbound HTTP, secrets,
 *                       event receivers). Lives under core/.
 *   layer:component     collectors, plugins, integrations: plugin-api, protocol and kit.
 *                       NEVER @sextant/runtime.
 *   layer:distribution  cli, builder                anything
 *   layer:tool          bench, eval, ...            anything
 *   Test files of any package may also use the testkit and components (as fixtures).
 *
 * Checks import/export/require specifiers in .ts/.mts/.js/.mjs files under src/ and test/, and the
 * package.json dependency lists. Usage: node check.mjs [--root DIR]. Exit 1 on any violation.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const root = args.includes('--root') ? args[args.indexOf('--root') + 1] : process.cwd();
const GROUPS = ['core', 'collectors', 'plugins', 'integrations', 'tools'];

const ALLOWED = {
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
/** Test files (never shipped) may additionally use the testkit and components as fixtures. */
const TEST_EXTRA = ['layer:testkit', 'layer:component'];

const packages = new Map();
for (const group of GROUPS) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const pkgFile = join(dir, name, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    const layer = (pkg.nx?.tags ?? []).find((t) => t.startsWith('layer:'));
    packages.set(pkg.name, { name: pkg.name, dir: join(dir, name), group, layer, pkg });
  }
}

const problems = [];
for (const p of packages.values()) {
  if (!p.layer) problems.push(`${relative(root, p.dir)}/package.json: no "layer:*" nx tag; add one of ${Object.keys(ALLOWED).join(', ')}`);
  else if (!ALLOWED[p.layer]) problems.push(`${relative(root, p.dir)}/package.json: unknown tag ${p.layer}`);
  if (p.group === 'core' && !['layer:contract', 'layer:plugin-kit', 'layer:protocol', 'layer:core', 'layer:testkit', 'layer:kit'].includes(p.layer)) {
    problems.push(`${p.name}: packages under core/ must be tagged contract, protocol, core, testkit or kit (is ${p.layer})`);
  }
  if (['collectors', 'plugins', 'integrations'].includes(p.group) && p.layer !== 'layer:component') {
    problems.push(`${p.name}: packages under ${p.group}/ must be tagged layer:component (is ${p.layer})`);
  }
}

function files(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'gen') continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...files(full));
    else if (/\.(m?ts|m?js|cts|cjs)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)['"](@sextant\/[a-z0-9-]+)(?:\/[^'"]*)?['"]/g;

function check(p, target, where, isTest) {
  if (target === p.name) return;
  const t = packages.get(target);
  if (!t) return;
  const allowed = [...(ALLOWED[p.layer] ?? []), ...(isTest ? TEST_EXTRA : [])];
  if (!allowed.includes(t.layer)) {
    const fix = target === '@sextant/runtime' ? 'plugins talk to the runtime only through @sextant/plugin-api' : `a ${p.layer} package may use ${allowed.join(', ') || 'no other @sextant package'}`;
    problems.push(`${where}: ${p.name} (${p.layer}) must not import ${target} (${t.layer}); ${fix}`);
  }
}

for (const p of packages.values()) {
  if (!p.layer) continue;
  for (const file of [...files(join(p.dir, 'src')), ...files(join(p.dir, 'test')), ...files(join(p.dir, 'bench'))]) {
    const text = readFileSync(file, 'utf8');
    const isTest = /(^|\/)test\//.test(relative(p.dir, file)) || /\.test\.[mc]?[jt]s$/.test(file);
    for (const m of text.matchAll(SPEC)) {
      const line = text.slice(0, m.index).split('\n').length;
      check(p, m[1], `${relative(root, file)}:${line}`, isTest);
    }
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const dep of Object.keys(p.pkg[field] ?? {})) check(p, dep, `${relative(root, p.dir)}/package.json ${field}`, false);
  }
}

if (problems.length) {
  process.stderr.write(`Layer boundary check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((x) => `  ${x}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`Layer boundaries OK: ${packages.size} packages checked.\n`);
