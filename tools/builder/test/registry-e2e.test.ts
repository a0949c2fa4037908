/**
 * The end-to-end proof of the distribution story (issue 9), through a real npm registry:
 *
 *   start verdaccio (127.0.0.1, throwaway storage) -> `nx release publish` every package to it ->
 *   (1) `npm install @sextant/cli` + two plugins in an empty folder; `sextant run --duration` uses both,
 *       and nothing else is pulled in;
 *   (2) `sextant build` a distribution of three plugins; it runs with node and lists exactly them;
 *   (3) `sextant build` with an incompatible plugin version explains the conflict and the fix;
 *   (4) `sextant new plugin`, `npm test`, build, pack, install next to the CLI: discovered and loaded,
 *       in-process and as a child process.
 *
 * Needs the packages built (`npm run build`, which `npm test` does first) and the public npm
 * registry for third-party packages (verdaccio proxies them). Slow by nature: one publish, and the
 * installs share one folder. Every process started here is stopped by pid in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary, freePort, needBinary, needCondition, waitForPort } from '@sextant/testkit';
import { startLocalRegistry, type LocalRegistry } from './local-registry.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const NEEDED_DIST = ['core/plugin-api', 'core/runtime', 'core/testkit', 'core/protocol', 'core/analysis', 'collectors/host', 'plugins/example-random', 'plugins/redis', 'plugins/nginx', 'tools/cli', 'tools/builder'];
const built = NEEDED_DIST.every((d) => existsSync(join(repo, d, 'dist', 'index.js')));

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sh(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Runs and expects exit 0; the failure message carries the output. */
async function ok(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Ran> {
  const r = await sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`);
  return r;
}

const metricsOf = (jsonl: string) => new Set(jsonl.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { metric: string }).metric));

let work: string;
let registry: LocalRegistry | undefined;
let env: NodeJS.ProcessEnv;
/** The user's project: @sextant/cli and the plugins they chose. */
let project: string;
const started: ChildProcess[] = [];
const timings: Record<string, number> = {};

describe.skipIf(!built && process.env.SEXTANT_REQUIRE_ALL !== '1')('registry end to end (verdaccio, nx release publish, npm install)', () => {
  beforeAll(async () => {
    if (!built) throw new Error(`SEXTANT_REQUIRE_ALL=1 but the packages are not built (missing dist in one of ${NEEDED_DIST.join(', ')}); run npm run build`);
    const t0 = Date.now();
    work = mkdtempSync(join(tmpdir(), 'sextant-e2e-'));
    registry = await startLocalRegistry(join(work, 'registry'));
    env = registry.env();
    timings.registryStartMs = Date.now() - t0;
    const t1 = Date.now();
    await ok('npx', ['nx', 'release', 'publish', '--registry', registry.url, '--parallel', '2'], { cwd: repo, env, timeoutMs: 900_000 });
    timings.publishMs = Date.now() - t1;
    project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'e2e-project', private: true, type: 'module' }));
  }, 1_200_000);

  afterAll(async () => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    process.stdout.write(`registry e2e timings: ${JSON.stringify(timings)}\n`);
  }, 60_000);

  it('(1) npm install @sextant/cli plus two plugins gives a working `sextant run` that uses both, and nothing else', async (ctx) => {
    const redisServer = needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    const t0 = Date.now();
    await ok('npm', ['install', '--registry', registry!.url, '--no-audit', '--no-fund', '@sextant/cli', '@sextant/plugin-redis', '@sextant/plugin-example-random'], { cwd: project, env });
    timings.installCliMs = Date.now() - t0;

    const installed = readdirSync(join(project, 'node_modules', '@sextant')).sort();
    expect(installed).toContain('plugin-redis');
    expect(installed).toContain('plugin-example-random');
    for (const unwanted of ['testkit', 'builder', 'plugin-nginx', 'bench', 'eval']) expect(installed, `@sextant/${unwanted} must not be installed`).not.toContain(unwanted);
    for (const devOnly of ['vitest', 'typescript', 'nx', 'verdaccio']) expect(existsSync(join(project, 'node_modules', devOnly)), `${devOnly} must not be installed`).toBe(false);
    // Published packages work without src/: the @sextant/source condition points at nothing here.
    expect(existsSync(join(project, 'node_modules', '@sextant', 'runtime', 'src'))).toBe(false);

    const port = await freePort();
    const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    started.push(redis);
    await waitForPort(port);
    writeFileSync(join(project, 'sextant.yaml'), `collectors:\n  random: { streams: 2 }\n  redis: { url: 'redis://127.0.0.1:${port}' }\n`);
    const run = await ok(join(project, 'node_modules', '.bin', 'sextant'), ['run', '--duration', '3s', '--interval', '1s', '--no-api', '--print', 'samples'], { cwd: project, env, timeoutMs: 60_000 });
    redis.kill('SIGTERM');
    const metrics = metricsOf(run.stdout);
    expect(metrics).toContain('example.random.value');
    expect([...metrics].some((m) => m.startsWith('redis.'))).toBe(true);
  }, 900_000);

  it('(2) sextant build makes a distribution of three plugins that runs with node and lists exactly them', async () => {
    const t0 = Date.now();
    await ok('npm', ['install', '--registry', registry!.url, '--no-audit', '--no-fund', '@sextant/builder'], { cwd: project, env });
    writeFileSync(
      join(project, 'distribution.yaml'),
      [
        'name: acme-sextant',
        'version: 1.0.0',
        'runtime: ^0.1.0',
        'roles: [run]',
        'plugins:',
        "  - '@sextant/plugin-example-random@^0.1.0'",
        "  - '@sextant/plugin-nginx@^0.1.0'",
        "  - { name: '@sextant/plugin-redis', version: ^0.1.0 }",
        'config:',
        '  collectors:',
        '    random: { streams: 3 }',
        'docker: true',
        '',
      ].join('\n'),
    );
    const build = await ok(join(project, 'node_modules', '.bin', 'sextant'), ['build', 'distribution.yaml', '--registry', registry!.url, '--out', 'acme'], { cwd: project, env });
    timings.buildDistributionMs = Date.now() - t0;
    expect(build.stdout).toContain('@sextant/plugin-nginx 0.1.0');
    const out = join(project, 'acme');
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const range of Object.values(pkg.dependencies)) expect(range, 'exact versions').toMatch(/^\d+\.\d+\.\d+$/);
    const entry = readFileSync(join(out, 'main.js'), 'utf8');
    expect(entry.match(/^import \* as plugin\d+ from/gm)).toHaveLength(3);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/\| @sextant\/plugin-redis \| collector \| redis \| beta \|/);
    expect(existsSync(join(out, 'Dockerfile'))).toBe(true);

    // Run it from a folder whose node_modules has other plugins: it must not scan them.
    const list = await ok(process.execPath, [join(out, 'main.js'), 'plugins', 'list', '--json'], { cwd: project, env });
    const plugins = (JSON.parse(list.stdout) as { plugins: { packageName: string; state: string; compatible: boolean }[] }).plugins;
    expect(plugins.map((p) => p.packageName).sort()).toEqual(['@sextant/plugin-example-random', '@sextant/plugin-nginx', '@sextant/plugin-redis']);
    expect(plugins.every((p) => p.state === 'loaded' && p.compatible)).toBe(true);
    const run = await ok(process.execPath, ['main.js', 'run', '--duration', '2s', '--interval', '1s', '--no-api', '--print', 'samples'], { cwd: out, env, timeoutMs: 60_000 });
    expect(metricsOf(run.stdout)).toEqual(new Set(['example.random.value']));
  }, 900_000);

  it('(3) sextant build with an incompatible plugin version explains the conflict in one sentence with the fix', async () => {
    // A third-party plugin with an old release built for this contract and a new one built for a future one.
    for (const [version, apiRange, protocol] of [['0.1.0', '^0.1.0', 1], ['0.3.0', '^0.3.0', 2]] as const) {
      const dir = join(work, `future-${version}`);
      mkdirSync(join(dir, 'dist'), { recursive: true });
      writeFileSync(join(dir, 'dist', 'plugin.js'), 'export default undefined;\n');
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: '@sextant/plugin-future', version, type: 'module', files: ['dist'], exports: { './plugin': './dist/plugin.js' }, peerDependencies: { '@sextant/plugin-api': apiRange }, sextant: { plugin: './dist/plugin.js', protocol: [protocol], provides: ['collector'] } }),
      );
      await ok('npm', ['publish', '--registry', registry!.url], { cwd: dir, env });
    }
    writeFileSync(join(project, 'incompatible.yaml'), "name: acme-broken\nversion: 1.0.0\nruntime: ^0.1.0\nplugins:\n  - '@sextant/plugin-example-random@^0.1.0'\n  - '@sextant/plugin-future@^0.3.0'\n");
    const r = await sh(join(project, 'node_modules', '.bin', 'sextant'), ['build', 'incompatible.yaml', '--registry', registry!.url, '--out', 'broken'], { cwd: project, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '@sextant/plugin-future@0.3.0 needs @sextant/plugin-api ^0.3.0, but @sextant/runtime 0.1.0 ships @sextant/plugin-api ^0.1.0; use @sextant/plugin-future@^0.1.0 (its newest release that fits @sextant/runtime 0.1.0).',
    );
    expect(existsSync(join(project, 'broken')), 'nothing is written').toBe(false);
  }, 300_000);

  it('(4) a scaffolded plugin passes npm test, packs, installs next to the CLI and loads in-process and as a child process', async () => {
    const t0 = Date.now();
    const scaffold = await ok(join(project, 'node_modules', '.bin', 'sextant'), ['new', 'plugin', 'acme-probe', '--kind', 'collector', '--dir', join(work, 'acme-probe')], { cwd: project, env });
    expect(scaffold.stdout).toContain('src/plugin.ts');
    const plugin = join(work, 'acme-probe');
    await ok('npm', ['install', '--registry', registry!.url, '--no-audit', '--no-fund'], { cwd: plugin, env });
    const test = await ok('npm', ['test'], { cwd: plugin, env });
    expect(test.stdout).toMatch(/Tests\s+\d+ passed/);
    await ok('npm', ['run', 'build'], { cwd: plugin, env });
    const pack = await ok('npm', ['pack', '--json'], { cwd: plugin, env });
    const tarball = join(plugin, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);
    timings.scaffoldTestPackMs = Date.now() - t0;

    await ok('npm', ['install', '--registry', registry!.url, '--no-audit', '--no-fund', tarball], { cwd: project, env });
    const sextant = join(project, 'node_modules', '.bin', 'sextant');
    const list = await ok(sextant, ['plugins', 'list', '--json'], { cwd: project, env });
    const found = (JSON.parse(list.stdout) as { plugins: { packageName: string; state: string; source: string }[] }).plugins.find((p) => p.packageName === 'acme-probe');
    expect(found).toMatchObject({ state: 'loaded', source: 'node_modules' });

    writeFileSync(join(project, 'probe.yaml'), "collectors:\n  acme-probe: { windows: ['1m'] }\n");
    const inProcess = await ok(sextant, ['run', '-c', 'probe.yaml', '--duration', '2s', '--interval', '1s', '--no-api', '--print', 'samples'], { cwd: project, env, timeoutMs: 60_000 });
    expect(metricsOf(inProcess.stdout)).toEqual(new Set(['acme_probe.load_average', 'acme_probe.memory.free_ratio']));

    // The same package as a supervised child process (sextant.plugin.v1 over gRPC), seen through the API.
    const port = await freePort();
    writeFileSync(join(project, 'probe-child.yaml'), "collectors:\n  acme-probe: { windows: ['1m'], isolation: process }\n");
    const child = sh(sextant, ['run', '-c', 'probe-child.yaml', '--duration', '8s', '--interval', '1s', '--port', String(port), '--print', 'samples'], { cwd: project, env, timeoutMs: 60_000 });
    await waitForPort(port, '127.0.0.1', 30_000);
    let instance: { isolation?: string; state?: string } | undefined;
    for (let i = 0; i < 50 && instance?.state !== 'ok'; i++) {
      const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/plugins`)).json()) as { instances: { id: string; isolation: string; state: string }[] };
      instance = body.instances.find((x) => x.id === 'acme-probe');
      if (instance?.state !== 'ok') await new Promise((r) => setTimeout(r, 100));
    }
    expect(instance).toMatchObject({ isolation: 'process', state: 'ok' });
    const childRun = await child;
    expect(childRun.code, childRun.stderr).toBe(0);
    expect(metricsOf(childRun.stdout)).toContain('acme_probe.load_average');
  }, 900_000);
});

describe('registry end to end prerequisites', () => {
  it('has the packages built, or says how to build them', (ctx) => {
    needCondition(ctx, built, 'the packages are not built; run npm run build before the registry end-to-end test');
    expect(findBinary('npm')).toBeDefined();
  });
});
