/**
 * Zero-config scraping of Kubernetes pods, end to end: `sextant run` with the kubernetes collector
 * (publishContainers) against the strict API stand-in (`@sextant/kube-standin`), and a pod annotated
 * `prometheus.io/scrape|port|path` is scraped at pod IP + annotated port with no prometheus config,
 * through the same discovery rule as labelled Docker containers. The "pod IP" is 127.0.0.1, where
 * the test serves the exporter page (no traffic leaves loopback).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeStandin, type KubeStandin } from '@sextant/kube-standin';
import { serve, type TestServer } from './http-fixture.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'tools/cli/dist/bin.js');
const PAGE = ['# TYPE shop_orders_total counter', 'shop_orders_total{state="paid"} 4321', ''].join('\n');

let k: KubeStandin | undefined;
let exporter: TestServer | undefined;
let child: ChildProcess | undefined;
let work = '';

beforeAll(async () => {
  // `sextant run` loads the plugins from their dist/
  execFileSync('npx', ['tsc', '-b', join(repo, 'tools/cli/tsconfig.lib.json'), join(repo, 'plugins/prometheus/tsconfig.lib.json'), join(repo, 'plugins/kubernetes/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'sextant-prom-k8s-'));
  k = await startKubeStandin();
  k.cluster.addNode('node-1');
  exporter = await serve((req, res) => {
    if (req.url !== '/custom/metrics') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(PAGE);
  });
}, 300_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  await exporter?.close();
  await k?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function pod(name: string, annotations: Record<string, string>, port: number, id: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: name }, annotations },
    spec: {
      nodeName: 'node-1',
      // the sidecar comes first: the annotations belong to the container that declares the port
      containers: [{ name: 'proxy', image: 'envoy:1.30' }, { name: 'app', image: 'shop:2', ports: [{ containerPort: port, protocol: 'TCP' }] }],
    },
    status: {
      phase: 'Running',
      podIP: '127.0.0.1',
      containerStatuses: [
        { name: 'proxy', ready: true, restartCount: 0, containerID: `containerd://${id}0`, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
        { name: 'app', ready: true, restartCount: 0, containerID: `containerd://${id}1`, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
      ],
    },
  };
}

describe('prometheus autodiscovery of Kubernetes pods', () => {
  it('scrapes a pod annotated prometheus.io/scrape=true at pod IP + annotated port and path, once per pod, with no prometheus config', async () => {
    const port = Number(new URL(exporter!.url).port);
    k!.api.store.create('/pods', pod('checkout', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/custom/metrics' }, port, 'aaa') as never);
    k!.api.store.create('/pods', pod('quiet', {}, port, 'bbb') as never);
    const kubeconfig = k!.writeKubeconfig(join(work, 'kubeconfig'));
    const cfg = join(work, 'sextant.yaml');
    writeFileSync(cfg, [
      'interval: 1s',
      'autodiscovery: { settle: 1s }',
      'collectors:',
      `  kubernetes: { auth: kubeconfig, kubeconfig: ${JSON.stringify(kubeconfig)}, nodeName: node-1, publishContainers: true, kubeletSummary: false, leaderElection: { enabled: false } }`,
      '',
    ].join('\n'));
    const proc = spawn(process.execPath, [bin, 'run', '--port', '0', '--config', cfg, '--print', 'samples', '--format', 'jsonl'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const wait = async (re: RegExp, ms = 90_000) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const m = re.exec(out);
        if (m) return m;
        if (proc.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no ${re} in sextant run output:\n${out.slice(-4000)}`);
    };
    const started = await wait(/autodiscovery: started (prometheus\/c-[0-9a-z]+)/);
    expect(started[1]).toBe('prometheus/c-aaa1');
    const line = JSON.parse((await wait(/^(\{"metric":"shop_orders_total"[^\n]*)$/m))[1]) as { value: number; resource: Record<string, unknown>; attributes: Record<string, unknown> };
    expect(line).toMatchObject({ value: 4321, attributes: { state: 'paid' }, resource: { 'url.full': `http://127.0.0.1:${port}/custom/metrics`, 'container.id': 'aaa1' } });
    await wait(/^\{"metric":"up"[^\n]*"value":1/m);
    // neither the sidecar of the annotated pod nor the pod without annotations is scraped
    expect(out.match(/autodiscovery: started prometheus\//g)).toHaveLength(1);
    expect(exporter!.requests.every((r) => r.url === '/custom/metrics')).toBe(true);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }, 180_000);
});
