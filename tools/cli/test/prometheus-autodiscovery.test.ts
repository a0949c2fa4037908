/**
 * Zero-config Prometheus scraping, end to end: `sextant run` next to a container that carries the
 * de-facto `prometheus.io/scrape|port|path` labels scrapes it with no configuration, through the
 * discovery rule in @sextant/plugin-prometheus' manifest. The container is a busybox image made
 * with `docker import` (no registry is reachable) serving a static exposition page with httpd,
 * on the host network (loopback only).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, needCondition } from '@sextant/testkit';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'tools/cli/dist/bin.js');
const runId = `${process.pid}-${Date.now().toString(36)}`;
const LABEL = `io.sextant.test=${runId}`;
const dockerUp = existsSync('/var/run/docker.sock') && spawnSync('docker', ['version', '--format', '{{.Server.APIVersion}}'], { timeout: 10_000 }).status === 0;
const reason = 'dockerd is not running (apt-get install docker.io; dockerd --bridge=none --iptables=false)';

const PAGE = ['# HELP demo_jobs_processed_total Jobs processed.', '# TYPE demo_jobs_processed_total counter', 'demo_jobs_processed_total{queue="mail"} 1234', '# TYPE demo_queue_depth gauge', 'demo_queue_depth 7', ''].join('\n');

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();
}

let work = '';
let image = '';
let child: ChildProcess | undefined;

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', join(repo, 'tools/cli/tsconfig.lib.json'), join(repo, 'plugins/prometheus/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'sextant-cli-prometheus-'));
  if (!dockerUp) return;
  const dir = mkdtempSync(join(tmpdir(), 'sextant-cli-prom-rootfs-'));
  for (const d of ['bin', 'tmp', 'proc', 'sys', 'dev', 'etc', 'www', 'www/custom']) mkdirSync(join(dir, d));
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  for (const applet of ['sh', 'sleep', 'httpd']) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'www', 'custom', 'path'), PAGE);
  const tar = join(tmpdir(), `sextant-cli-prom-rootfs-${runId}.tar`);
  execFileSync('tar', ['-C', dir, '-cf', tar, '.']);
  image = `sextant-test/demo-exporter:${runId}`;
  docker('import', '--change', `LABEL ${LABEL}`, tar, image);
  rmSync(tar, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dockerUp) {
    const ids = docker('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean);
    if (ids.length) docker('rm', '-f', ...ids);
    if (image) spawnSync('docker', ['rmi', '-f', image]);
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('prometheus autodiscovery with a real Docker engine', () => {
  it('scrapes a container labelled prometheus.io/scrape=true with no plugin configuration', async (ctx) => {
    needCondition(ctx, dockerUp, reason);
    const port = await freePort();
    const cfg = join(work, 'sextant.yaml');
    writeFileSync(cfg, ['interval: 1s', 'autodiscovery: { settle: 1s }', 'collectors:', '  containers: {}', ''].join('\n'));
    const proc = spawn(process.execPath, [bin, 'run', '--port', '0', '--config', cfg, '--print', 'samples', '--format', 'jsonl'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const wait = async (re: RegExp, ms = 60_000) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const m = re.exec(out);
        if (m) return m;
        if (proc.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no ${re} in sextant run output:\n${out.slice(-4000)}`);
    };
    await wait(/API listening on/);
    const name = `sextant-prom-${runId}`;
    const id = docker(
      'run', '-d', '--name', name, '--label', LABEL, '--network', 'host',
      '--label', 'prometheus.io/scrape=true', '--label', `prometheus.io/port=${port}`, '--label', 'prometheus.io/path=/custom/path',
      image, 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/www',
    );
    const started = await wait(/autodiscovery: started (prometheus\/c-[0-9a-f]+)/);
    expect(id.startsWith(started[1].split('/c-')[1])).toBe(true);
    const line = JSON.parse((await wait(/^(\{"metric":"demo_jobs_processed_total"[^\n]*)$/m))[1]) as { value: number; resource: Record<string, unknown>; attributes: Record<string, unknown> };
    expect(line).toMatchObject({ value: 1234, attributes: { queue: 'mail' }, resource: { 'service.name': name, 'container.id': id, 'url.full': `http://127.0.0.1:${port}/custom/path` } });
    await wait(/^\{"metric":"up"[^\n]*"value":1/m);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }, 180_000);
});
