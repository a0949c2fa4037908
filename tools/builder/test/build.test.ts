/**
 * `buildDistribution` from this monorepo's packages (no registry): the generated package, its entry
 * point running for real, a local-folder plugin packed into vendor/, the single-file bundle running
 * with no node_modules at all, and a conflict that stops the build before anything is written.
 * (The same flow through a real registry and npm install is in registry-e2e.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needCondition } from '@sextant/testkit';
import { buildDistribution, DistributionConflictError, FolderSource, readDistributionManifest, type BuildDistributionResult } from '../src/index.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const work = join(import.meta.dirname, '..', '.scaffold-tmp', `build-${process.pid}`);
const outside = mkdtempSync(join(tmpdir(), 'sextant-bundle-'));
const built = ['tools/cli', 'core/runtime', 'plugins/example-random', 'plugins/nginx'].every((d) => existsSync(join(repo, d, 'dist', 'index.js')));
const source = FolderSource.fromWorkspace(repo);

function node(args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS') delete env[key];
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env, timeout: 60_000 });
}

let result: BuildDistributionResult;

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  writeFileSync(
    join(work, 'distribution.yaml'),
    [
      'name: "@acme/tiny-sextant"',
      'version: 2.0.0',
      'runtime: ^0.1.0',
      'plugins:',
      "  - '@sextant/plugin-nginx@^0.1.0'",
      `  - { name: '@sextant/plugin-example-random', path: '${join(repo, 'plugins', 'example-random')}' }`,
      'config:',
      '  collectors:',
      '    random: { streams: 2, seed: 7 }',
      'docker: true',
      '',
    ].join('\n'),
  );
  if (built) result = await buildDistribution(join(work, 'distribution.yaml'), { source, install: false, verify: true, bundle: true, out: join(work, 'out') });
}, 240_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('buildDistribution from the workspace', () => {
  it('writes exact versions, a local plugin packed into vendor/, and a Dockerfile', (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build');
    const pkg = JSON.parse(readFileSync(join(result.outDir, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.bin).toEqual({ 'tiny-sextant': './main.js' });
    expect(pkg.dependencies['@sextant/plugin-nginx']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.dependencies['@sextant/runtime']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.dependencies['@sextant/plugin-example-random']).toMatch(/^file:vendor\/sextant-plugin-example-random-\d+\.\d+\.\d+\.tgz$/);
    expect(existsSync(join(result.outDir, pkg.dependencies['@sextant/plugin-example-random'].slice('file:'.length)))).toBe(true);
    expect(readFileSync(join(result.outDir, 'Dockerfile'), 'utf8')).toContain('COPY vendor ./vendor');
  });

  it('imports exactly the chosen plugins statically and never scans node_modules', (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build');
    const entry = readFileSync(join(result.outDir, 'main.js'), 'utf8');
    expect(entry.match(/^import \* as plugin\d+ from "([^"]+)";$/gm)).toEqual([
      'import * as plugin0 from "@sextant/plugin-nginx/plugin";',
      'import * as plugin1 from "@sextant/plugin-example-random/plugin";',
    ]);
    expect(entry).toContain('scan: false');
    // The monorepo's node_modules holds every plugin; the distribution still lists only its own.
    const list = node(['main.js', 'plugins', 'list', '--json'], result.outDir);
    expect(list.status, list.stderr).toBe(0);
    const plugins = (JSON.parse(list.stdout) as { plugins: { packageName: string; source: string }[] }).plugins;
    expect(plugins.map((p) => p.packageName).sort()).toEqual(['@sextant/plugin-example-random', '@sextant/plugin-nginx']);
    expect(plugins.every((p) => p.source === 'builtin')).toBe(true);
  });

  it('runs with its default configuration and lists the components in its README', (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build');
    const run = node([join(result.outDir, 'main.js'), 'run', '--duration', '1s', '--interval', '500ms', '--no-api', '--print', 'samples'], outside);
    expect(run.status, run.stderr).toBe(0);
    const metrics = new Set(run.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { metric: string }).metric));
    expect(metrics).toEqual(new Set(['example.random.value']));
    expect(result.components?.map((c) => `${c.kind} ${c.type}`).sort()).toEqual(['collector nginx', 'collector random']);
    expect(readFileSync(join(result.outDir, 'README.md'), 'utf8')).toContain('| @sextant/plugin-example-random | collector | random | development |');
  });

  it('makes a single-file bundle that runs with no node_modules at all', (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build');
    mkdirSync(join(outside, 'bundle'));
    copyFileSync(result.bundle!, join(outside, 'bundle', 'tiny-sextant.mjs'));
    copyFileSync(join(result.outDir, 'package.json'), join(outside, 'package.json'));
    const list = node([join('bundle', 'tiny-sextant.mjs'), 'plugins', 'list', '--json'], outside);
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { plugins: unknown[] }).plugins).toHaveLength(2);
  });
});

describe('a conflict stops the build', () => {
  it('throws DistributionConflictError with one sentence per problem and writes nothing', async () => {
    const file = join(work, 'broken.yaml');
    writeFileSync(file, "name: broken\nversion: 1.0.0\nplugins:\n  - '@sextant/plugin-nginx@^7.0.0'\n  - '@sextant/runtime'\n");
    const out = join(work, 'broken-out');
    const error = await buildDistribution(readDistributionManifest(file), { source, install: false, out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DistributionConflictError);
    const sentences = (error as DistributionConflictError).conflicts.map((c) => c.sentence);
    expect(sentences[0]).toMatch(/^no release of @sextant\/plugin-nginx matches \^7\.0\.0 \(newest on workspace .* is \d+\.\d+\.\d+\); use @sextant\/plugin-nginx@\^\d+\.\d+\.\d+\.$/);
    expect(sentences[1]).toMatch(/^@sextant\/runtime@\S+ is not a Sextant plugin/);
    expect(existsSync(out)).toBe(false);
  });
});
