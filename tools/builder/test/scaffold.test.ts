/**
 * `sextant new plugin`: names, both layouts, and — for every kind — that the generated package
 * typechecks and its own tests pass at once inside the monorepo. (The standalone package's
 * `npm install && npm test` from a registry is proven by registry-e2e.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, EXTENSION_KINDS, parseManifest } from '@sextant/plugin-api';
import { findMonorepoRoot, pluginNames, scaffoldPlugin } from '../src/index.js';

const builderDir = join(import.meta.dirname, '..');
const repo = join(builderDir, '..', '..');
/** Inside the monorepo but outside every vitest project's include and the workspaces globs. */
const insideRepo = join(builderDir, '.scaffold-tmp', `run-${process.pid}`);
const outside = mkdtempSync(join(tmpdir(), 'sextant-scaffold-'));

afterAll(() => {
  rmSync(insideRepo, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS' || key === 'FORCE_COLOR') delete env[key];
  return { ...env, NO_COLOR: '1' };
}

describe('pluginNames', () => {
  it('derives id, identifiers and metric prefix from the package name', () => {
    expect(pluginNames('@acme/sextant-plugin-disk-usage')).toEqual({ packageName: '@acme/sextant-plugin-disk-usage', id: 'disk-usage', camel: 'diskUsage', pascal: 'DiskUsage', metricPrefix: 'disk_usage' });
    expect(pluginNames('my-collector').id).toBe('my-collector');
  });
  it('refuses names npm or the plugin contract would refuse, with a coded error', () => {
    expect(() => pluginNames('My Plugin')).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ID }));
    expect(() => pluginNames('9lives')).toThrow(/kebab-case/);
  });
});

describe('scaffoldPlugin', () => {
  it('writes a self-contained package outside a monorepo: published contract versions, own tsconfig and vitest config, build/test scripts', () => {
    const r = scaffoldPlugin({ name: '@acme/sextant-plugin-orders', kind: 'collector', cwd: outside });
    expect(r.dir).toBe(join(outside, 'sextant-plugin-orders'));
    expect(r.monorepoRoot).toBeUndefined();
    const pkg = JSON.parse(readFileSync(join(r.dir, 'package.json'), 'utf8'));
    expect(pkg.peerDependencies).toEqual({ '@sextant/plugin-api': '^0.1.0' });
    expect(pkg.devDependencies).toMatchObject({ '@sextant/plugin-api': '^0.1.0', '@sextant/testkit': '^0.1.0', vitest: expect.any(String), typescript: expect.any(String) });
    expect(pkg.scripts).toMatchObject({ build: 'tsc -p tsconfig.build.json', test: 'vitest run' });
    expect(JSON.stringify(pkg.exports)).not.toContain('@sextant/source');
    expect(parseManifest(pkg.sextant)).toMatchObject({ ok: true, manifest: { plugin: './dist/plugin.js', provides: ['collector'], protocol: [1] } });
    expect(JSON.parse(readFileSync(join(r.dir, 'tsconfig.json'), 'utf8')).extends).toBeUndefined();
    expect(r.files).toEqual(expect.arrayContaining(['src/plugin.ts', 'src/orders-collector.ts', 'test/orders-collector.test.ts', 'README.md', 'CHANGELOG.md', 'vitest.config.ts']));
    expect(readFileSync(join(r.dir, 'test', 'orders-collector.test.ts'), 'utf8')).toContain("describeCollectorConformance(ordersCollectorFactory");
  });

  it('refuses a folder that is not empty and an unknown kind', () => {
    const dir = join(outside, 'taken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'x');
    expect(() => scaffoldPlugin({ name: 'taken', kind: 'collector', dir })).toThrow(/already exists and is not empty/);
    expect(() => scaffoldPlugin({ name: 'x', kind: 'transmogrifier' as never, cwd: outside })).toThrow(/unknown plugin kind "transmogrifier"/);
    expect(() => scaffoldPlugin({ name: 'x', kind: 'exporter', cwd: outside })).toThrow('there is no exporter template yet');
  });

  it('recognises the monorepo from a folder inside it', () => {
    expect(findMonorepoRoot(join(repo, 'plugins', 'new-thing'))).toBe(repo);
    expect(findMonorepoRoot(join(outside, 'x'))).toBeUndefined();
  });

});

describe('plugins scaffolded inside the monorepo', () => {
  const made = EXTENSION_KINDS.filter((kind) => kind !== 'exporter').map((kind) => ({ kind, result: scaffoldPlugin({ name: `demo-${kind}`, kind, dir: join(insideRepo, kind) }) }));
  // One typecheck and one test run over all four packages (two processes instead of eight).
  writeFileSync(
    join(insideRepo, 'tsconfig.json'),
    JSON.stringify({ extends: '../../../../tsconfig.base.json', compilerOptions: { noEmit: true, composite: false, customConditions: ['@sextant/source'] }, include: ['*/src/**/*.ts', '*/test/**/*.ts'] }),
  );
  writeFileSync(
    join(insideRepo, 'vitest.config.ts'),
    "import { defineConfig, mergeConfig } from 'vitest/config';\nimport { sharedConfig } from '../../../../vitest.shared.ts';\nexport default mergeConfig(sharedConfig, defineConfig({ test: { include: ['*/test/**/*.test.ts'] } }));\n",
  );

  it.each(made.map((m) => [m.kind, m.result] as const))('%s: follows the workspace layout', (_, r) => {
    expect(r.monorepoRoot).toBe(repo);
    expect(JSON.parse(readFileSync(join(r.dir, 'tsconfig.json'), 'utf8')).extends).toBe('../../../../../tsconfig.base.json');
    expect(JSON.parse(readFileSync(join(r.dir, 'package.json'), 'utf8')).exports['.']['@sextant/source']).toBe('./src/index.ts');
    expect(readFileSync(join(r.dir, 'vitest.config.ts'), 'utf8')).toContain('vitest.shared.ts');
  });

  it('all four kinds typecheck as generated', () => {
    const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: insideRepo, encoding: 'utf8', env: childEnv() });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  }, 300_000);

  it('all four kinds pass their own tests at once (conformance suite + the plugin in a real runtime)', () => {
    const vitest = spawnSync(process.execPath, [join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], { cwd: insideRepo, encoding: 'utf8', env: childEnv(), timeout: 280_000 });
    const output = vitest.stdout + vitest.stderr;
    expect(vitest.status, output).toBe(0);
    expect(output).toMatch(/Test Files\s+4 passed \(4\)/);
  }, 300_000);
});
