/**
 * The two ways a build used to fail a person silently (issue 13): `--out .` deleted the current
 * folder, manifest included, and `--bundle` outside the monorepo wrote a 2 KB file that could not run.
 * Driven as a user would: the README's distribution.yaml in a folder outside the checkout.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@sextant/plugin-api';
import { needCondition } from '@sextant/testkit';
import { BUILD_MARKER, buildDistribution, FolderSource, prepareOutputFolder, type PackageSource } from '../src/index.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const cliBin = join(repo, 'tools', 'cli', 'bin', 'sextant.js');
const built = ['tools/cli', 'tools/builder', 'core/runtime', 'plugins/redis', 'plugins/nginx'].every((d) => existsSync(join(repo, d, 'dist', 'index.js')));
const made: string[] = [];

/** A folder outside the checkout holding the README's distribution.yaml. */
function userFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-user-'));
  made.push(dir);
  writeFileSync(
    join(dir, 'distribution.yaml'),
    [
      'name: acme-sextant',
      'version: 1.0.0',
      'runtime: ^0.1.0',
      'roles: [run]',
      'plugins: ["@sextant/plugin-redis@^0.1.0", "@sextant/plugin-nginx@^0.1.0"]',
      'config: { collectors: { redis: { url: "redis://127.0.0.1:6379" } } }',
      '',
    ].join('\n'),
  );
  return dir;
}

function sextant(args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS') delete env[key];
  return spawnSync(process.execPath, [cliBin, ...args], { cwd, encoding: 'utf8', env, timeout: 180_000 });
}

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('the output folder', () => {
  it('refuses --out . (the folder holding distribution.yaml): exit 2, a coded error with a hint, nothing deleted', (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build');
    const dir = userFolder();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const r = sextant(['build', 'distribution.yaml', '--out', '.', '--workspace', repo, '--no-install'], dir);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${ErrorCode.CONFIG_INVALID}: refusing to replace ${dir}`);
    expect(r.stderr).toContain('--out dist/');
    expect(readdirSync(dir).sort()).toEqual(['distribution.yaml', 'notes.txt']);
  });

  it('refuses a folder with files that it did not make, and one that holds the current folder', () => {
    const dir = userFolder();
    const theirs = join(dir, 'src');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'index.ts'), 'export {};');
    expect(() => prepareOutputFolder(theirs, dir, dir)).toThrow(/not empty and was not made by "sextant build"/);
    expect(readFileSync(join(theirs, 'index.ts'), 'utf8')).toBe('export {};');
    const cwd = join(dir, 'work', 'here');
    mkdirSync(cwd, { recursive: true });
    expect(() => prepareOutputFolder(join(dir, 'work'), join(dir, 'elsewhere'), cwd)).toThrow(/contains the current folder/);
    expect(existsSync(cwd)).toBe(true);
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => prepareOutputFolder(join(dir, 'file'), join(dir, 'elsewhere'), dir)).toThrow(/is a file/);
  });

  it('replaces a folder it made before (marker present) and makes a missing or empty one', () => {
    const dir = userFolder();
    const out = join(dir, 'dist');
    prepareOutputFolder(out, dir, dir);
    expect(readdirSync(out)).toEqual([BUILD_MARKER]);
    writeFileSync(join(out, 'stale.js'), 'old build');
    prepareOutputFolder(out, dir, dir);
    expect(readdirSync(out)).toEqual([BUILD_MARKER]);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    prepareOutputFolder(empty, dir, dir);
    expect(readdirSync(empty)).toEqual([BUILD_MARKER]);
  });
});

describe('build --bundle outside the monorepo', () => {
  it('writes a bundle that runs with no node_modules anywhere (the README example, --workspace, --no-install)', (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build');
    const dir = userFolder();
    const r = sextant(['build', 'distribution.yaml', '--out', 'dist/', '--workspace', repo, '--no-install', '--bundle'], dir);
    expect(r.status, r.stderr).toBe(0);
    const bundle = join(dir, 'dist', 'bundle', 'acme-sextant.mjs');
    expect(r.stdout).toContain(`bundle: ${bundle}`);
    expect(statSync(bundle).size).toBeGreaterThan(500_000);
    // Alone: only the bundle and package.json, in a folder with no node_modules above it.
    const alone = mkdtempSync(join(tmpdir(), 'sextant-alone-'));
    made.push(alone);
    mkdirSync(join(alone, 'bundle'));
    copyFileSync(bundle, join(alone, 'bundle', 'acme-sextant.mjs'));
    copyFileSync(join(dir, 'dist', 'package.json'), join(alone, 'package.json'));
    const list = spawnSync(process.execPath, [join('bundle', 'acme-sextant.mjs'), 'plugins', 'list', '--json'], { cwd: alone, encoding: 'utf8', timeout: 60_000 });
    expect(list.status, list.stderr).toBe(0);
    const ids = (JSON.parse(list.stdout) as { plugins: { packageName: string; state: string }[] }).plugins.map((p) => `${p.packageName}:${p.state}`);
    expect(ids).toEqual(expect.arrayContaining(['@sextant/plugin-redis:loaded', '@sextant/plugin-nginx:loaded']));
  }, 120_000);

  it('fails with a coded error (and leaves no bundle) when the imports do not resolve, instead of reporting success', async (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build');
    const dir = userFolder();
    const workspace = FolderSource.fromWorkspace(repo);
    // The packages are known but installed nowhere the bundler can see: the case that wrote a 2 KB file.
    const nowhere: PackageSource = { label: 'versions only', versions: (name) => workspace.versions(name) };
    const out = join(dir, 'dist');
    await expect(buildDistribution(join(dir, 'distribution.yaml'), { source: nowhere, install: false, bundle: true, out })).rejects.toMatchObject({
      code: ErrorCode.PLUGIN_LOAD_FAILED,
      message: expect.stringContaining('do not resolve'),
    });
    expect(existsSync(join(out, 'bundle'))).toBe(false);
  });
});
