/**
 * The first application plugins as a stranger gets them: `npm pack` of @sextant/plugin-nginx and
 * @sextant/plugin-redis, installed into an empty folder next to the CLI, found by
 * `sextant plugins list` from that folder (not from the monorepo) and loadable.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let work: string;

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', join(repo, 'tools/cli/tsconfig.lib.json'), join(repo, 'plugins/nginx/tsconfig.lib.json'), join(repo, 'plugins/redis/tsconfig.lib.json'), join(repo, 'core/integration-kit/tsconfig.lib.json'), join(repo, 'core/plugin-kit/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
  work = realpathSync(mkdtempSync(join(tmpdir(), 'sextant-pack-')));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack of the nginx and redis plugins', () => {
  it('installs into an empty folder next to the CLI and sextant plugins list finds and loads both', () => {
    // The redis plugin builds on @sextant/integration-kit (MetricWriter) and both on @sextant/plugin-kit
    // (durations, CounterRate): their tarballs ship beside them.
    const tarballs = ['plugins/nginx', 'plugins/redis', 'core/integration-kit', 'core/plugin-kit'].map((p) => {
      const out = execFileSync('npm', ['pack', '--pack-destination', work, '--json'], { cwd: join(repo, p), encoding: 'utf8' });
      const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
      // Only what is needed ships: the build, the README, the changelog, package.json.
      expect(info.files.every((f) => /^(dist\/|README\.md$|CHANGELOG\.md$|package\.json$|LICENSE)/.test(f.path))).toBe(true);
      if (p.startsWith('plugins/')) expect(info.files.some((f) => f.path === 'dist/plugin.js')).toBe(true);
      expect(info.files.some((f) => f.path.startsWith('src/') || f.path.startsWith('test/'))).toBe(false);
      return join(work, info.filename);
    });
    const app = join(work, 'app');
    mkdirSync(join(app, 'node_modules', '@sextant'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'sextant-pack-test', private: true, type: 'module' }));
    // The plugins come from their tarballs, their own dependencies from the npm registry; the CLI
    // and the contract come from this checkout (published separately; linked after the install,
    // which would prune them as extraneous).
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--legacy-peer-deps', '--no-audit', '--no-fund', ...tarballs], { cwd: app, stdio: 'pipe', timeout: 300_000 });
    mkdirSync(join(app, 'node_modules', '@sextant'), { recursive: true });
    symlinkSync(join(repo, 'tools/cli'), join(app, 'node_modules/@sextant/cli'));
    symlinkSync(join(repo, 'core/plugin-api'), join(app, 'node_modules/@sextant/plugin-api'));
    const out = execFileSync(process.execPath, [join(app, 'node_modules/@sextant/cli/dist/bin.js'), 'plugins', 'list', '--json'], { cwd: app, encoding: 'utf8' });
    const { plugins } = JSON.parse(out) as { plugins: { id: string; packageName: string; dir?: string; state: string; compatible: boolean; kinds: string[] }[] };
    for (const name of ['@sextant/plugin-nginx', '@sextant/plugin-redis']) {
      const p = plugins.find((x) => x.packageName === name)!;
      expect(p, name).toBeDefined();
      expect(p.dir?.startsWith(join(app, 'node_modules')), `${name} found in ${p.dir}`).toBe(true);
      expect(p).toMatchObject({ state: 'loaded', compatible: true, kinds: ['collector'] });
    }
  }, 300_000);
});
