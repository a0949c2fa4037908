/**
 * Containers end to end with a real Docker engine: autodiscovery starts and stops plugin instances
 * as containers come and go, `plugins explain` says why, and `isolation: in-container` reaches a
 * server that listens only on a `--network none` container's own loopback.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needCondition } from '@sextant/testkit';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'tools/cli/dist/bin.js');
const runId = `${process.pid}-${Date.now().toString(36)}`;
const LABEL = `io.sextant.test=${runId}`;
const dockerUp = existsSync('/var/run/docker.sock') && spawnSync('docker', ['version', '--format', '{{.Server.APIVersion}}'], { timeout: 10_000 }).status === 0;
const reason = 'dockerd is not running (apt-get install docker.io; dockerd --bridge=none --iptables=false)';
let work: string;
const children: ChildProcess[] = [];

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();
}

const STUB_STATUS = 'Active connections: 3 \nserver accepts handled requests\n 10 10 42 \nReading: 0 Writing: 1 Waiting: 2 \n';

function buildImage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-cli-rootfs-'));
  for (const d of ['bin', 'tmp', 'proc', 'sys', 'dev', 'etc', 'www']) mkdirSync(join(dir, d));
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  for (const applet of ['sh', 'sleep', 'httpd']) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'www', 'nginx_status'), STUB_STATUS);
  const tar = join(tmpdir(), `sextant-cli-rootfs-${runId}.tar`);
  execFileSync('tar', ['-C', dir, '-cf', tar, '.']);
  const ref = `nginx:sextant-cli-${runId}`;
  docker('import', '--change', `LABEL ${LABEL}`, tar, ref);
  rmSync(tar, { force: true });
  rmSync(dir, { recursive: true, force: true });
  return ref;
}

function startRun(args: string[]): { child: ChildProcess; out: () => string; wait: (re: RegExp, ms?: number) => Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, [bin, 'run', '--port', '0', ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return {
    child,
    out: () => out,
    async wait(re, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no ${re} in sextant run output:\n${out.slice(-4000)}`);
    },
  };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', (c) => r(c)));
}

let image = '';
beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', join(repo, 'tools/cli/tsconfig.lib.json'), join(repo, 'plugins/nginx/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'sextant-cli-containers-'));
  if (dockerUp) image = buildImage();
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (dockerUp) {
    const ids = docker('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean);
    if (ids.length) docker('rm', '-f', ...ids);
    if (image) spawnSync('docker', ['rmi', '-f', image]);
  }
  rmSync(work, { recursive: true, force: true });
});

describe('containers with a real Docker engine', () => {
  it('autodiscovery starts the nginx plugin for an nginx container and stops it when the container goes', async (ctx) => {
    needCondition(ctx, dockerUp, reason);
    const cfg = join(work, 'auto.yaml');
    writeFileSync(cfg, ['interval: 1s', 'autodiscovery: { settle: 1s }', 'collectors:', '  containers: {}', ''].join('\n'));
    const run = startRun(['--config', cfg]);
    const api = (await run.wait(/API listening on (http:\/\/\S+)/))[1];
    const name = `sextant-auto-${runId}`;
    const id = docker('run', '-d', '--name', name, '--label', LABEL, '--network', 'host', image, 'sleep', '600');
    const started = await run.wait(/autodiscovery: started (nginx\/c-[0-9a-f]+)/);
    expect(id.startsWith(started[1].split('/c-')[1])).toBe(true);
    const body = (await (await fetch(`${api}/api/v1/plugins`)).json()) as { instances: { id: string; plugin: string }[] };
    expect(body.instances.find((i) => i.id === started[1])?.plugin).toBe('nginx');
    docker('rm', '-f', name);
    await run.wait(new RegExp(`autodiscovery: stopped ${started[1].replace('/', '\\/')}`));
    expect(await stop(run.child)).toBe(0);
  }, 120_000);

  it('explains which plugins match a container and why', async (ctx) => {
    needCondition(ctx, dockerUp, reason);
    const name = `sextant-explain-${runId}`;
    docker('run', '-d', '--name', name, '--label', LABEL, '--label', 'io.sextant.plugins={"nginx":{"timeout":"2s"}}', '--network', 'host', image, 'sleep', '600');
    const out = execFileSync(process.execPath, [bin, 'plugins', 'explain', name], { cwd: work, encoding: 'utf8' });
    expect(out).toContain(`container ${name}`);
    expect(out).toMatch(/^nginx: .*-> nginx\/c-[0-9a-f]+ .*url=http:\/\/127\.0\.0\.1:80\/nginx_status/m);
    expect(out).toMatch(/^redis: image \S+ does not match redis/m);
    const isolated = `sextant-explain-none-${runId}`;
    docker('run', '-d', '--name', isolated, '--label', LABEL, '--network', 'none', image, 'sleep', '600');
    const why = execFileSync(process.execPath, [bin, 'plugins', 'explain', isolated], { cwd: work, encoding: 'utf8' });
    expect(why).toContain('container has no IP address (network mode none)');
    docker('rm', '-f', isolated);
    const missing = spawnSync(process.execPath, [bin, 'plugins', 'explain', 'no-such-container-xyz'], { cwd: work, encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no container "no-such-container-xyz"');
    docker('rm', '-f', name);
  }, 120_000);

  it('isolation: in-container reaches a server on the container\'s own loopback (network none)', async (ctx) => {
    needCondition(ctx, dockerUp, reason);
    needCondition(ctx, process.getuid?.() === 0, 'in-container isolation needs root');
    const name = `sextant-netns-${runId}`;
    docker('run', '-d', '--name', name, '--label', LABEL, '--network', 'none', image, 'httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/www');
    const cfg = join(work, 'incontainer.yaml');
    writeFileSync(cfg, ['interval: 1s', 'autodiscovery: { enabled: false }', 'collectors:', '  containers: {}', `  nginx/inside: { isolation: in-container, container: ${name}, url: "http://127.0.0.1:8080/nginx_status", startTimeout: 30s }`, ''].join('\n'));
    const run = startRun(['--config', cfg, '--print', 'samples', '--format', 'jsonl']);
    const line = await run.wait(/^(\{"metric":"nginx\.connections_current"[^\n]*"state":"active"[^\n]*)$/m, 90_000);
    expect((JSON.parse(line[1]) as { value: number }).value).toBe(3);
    expect(await stop(run.child)).toBe(0);
    docker('rm', '-f', name);
  }, 150_000);
});
