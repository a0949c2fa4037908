#!/usr/bin/env node
/**
 * `npm run check:boundaries`: the layer rules of docs/architecture.md ("Layer rules"), enforced by
 * dependency-cruiser with the rules that dependency-cruiser.config.mjs generates from layers.mjs
 * and every package's `nx.tags`; plus what an import graph cannot show (a missing or misplaced
 * layer tag, a package.json dependency across the table). Exit 1 on any violation, listing each
 * with the fix.
 *
 * Usage: node tools/boundaries/check.mjs [--root DIR]   (DIR defaults to the current directory)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS, fixFor, manifestProblems, readPackages } from './layers.mjs';

const args = process.argv.slice(2);
const root = resolve(args.includes('--root') ? args[args.indexOf('--root') + 1] : process.cwd());
const config = fileURLToPath(new URL('./dependency-cruiser.config.mjs', import.meta.url));
const depcruise = fileURLToPath(new URL('../../bin/dependency-cruise.mjs', import.meta.resolve('dependency-cruiser')));

const packages = readPackages(root);
const problems = manifestProblems(packages);

const folders = Object.keys(GROUPS).filter((g) => existsSync(join(root, g)));
if (folders.length > 0) {
  const run = spawnSync(process.execPath, [depcruise, '--config', config, '--output-type', 'json', '--no-progress', ...folders], {
    cwd: root,
    env: { ...process.env, SEXTANT_BOUNDARIES_ROOT: root },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  let result;
  try {
    result = JSON.parse(run.stdout);
  } catch {
    process.stderr.write(`dependency-cruiser did not run (exit ${run.status}):\n${run.stderr}\n`);
    process.exit(2);
  }
  const layerOf = new Map(packages.map((p) => [p.name, p.layer]));
  const seen = new Set();
  for (const v of result.summary.violations) {
    const key = `${v.from} ${v.to} ${v.rule.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const target = packages.find((p) => v.to.startsWith(`${p.dir}/`) || v.to === p.name || v.to.startsWith(`${p.name}/`));
    const source = packages.find((p) => v.from.startsWith(`${p.dir}/`));
    const targetLayer = target ? layerOf.get(target.name) : undefined;
    const fix = source && targetLayer ? fixFor(source.layer, targetLayer) : v.rule.name;
    problems.push(`${v.from}: ${source?.name} (${source?.layer}) must not import ${target?.name ?? v.to} (${targetLayer ?? '?'}); ${fix}`);
  }
}

if (problems.length) {
  process.stderr.write(`Layer boundary check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((x) => `  ${x}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`Layer boundaries OK: ${packages.length} packages checked (dependency-cruiser).\n`);
