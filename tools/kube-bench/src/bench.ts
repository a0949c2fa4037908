/**
 * Scale benchmark of the Kubernetes collector: a stand-in cluster of 5,000 pods on 500 nodes
 * (500 deployments, in a child process so its objects do not count), one collector that sees all
 * of it (no node of its own, leader), then 50 pod changes a second for 20 s with a collection
 * round every 10 s. Reports heap held by the informer caches after sync, RSS, and CPU per event.
 * Goals: <= 150 MiB, <= 5% of one core at 50 pod changes/s. Run: `npm run bench -- --only kubernetes`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CollectorContext, SeriesDescriptor } from '@sextant/plugin-api';
import { createKubernetesCollectorFactory, kubernetesDefaults, kubernetesConfigSchema, type KubernetesCollector, type KubernetesConfig } from '@sextant/kubernetes-kit';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

async function startStandin(pods: number, nodes: number, churn: number): Promise<{ url: string; token: string; stop(): void; kubeconfig: string; dir: string }> {
  const require = createRequire(import.meta.url);
  const main = join(require.resolve('@sextant/kube-standin/package.json').replace(/package\.json$/, ''), 'dist/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'kube-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, [main, '--seed-nodes', String(nodes), '--seed-pods', String(pods), '--churn', String(churn), '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`kube-standin exited with ${code}`)));
  });
  const info = JSON.parse(line) as { url: string; token: string };
  return { ...info, kubeconfig, dir, stop: () => child.kill('SIGTERM') };
}

function context(config: KubernetesConfig): { ctx: CollectorContext<KubernetesConfig>; samples: () => number } {
  let series = 0;
  let samples = 0;
  const noop = () => {};
  const ctx = {
    config,
    instanceId: 'kubernetes',
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    clock: { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
    status: { set: noop },
    metrics: { counter: () => ({ add: noop }), gauge: () => ({ set: noop }) },
    signal: new AbortController().signal,
    dataDir: undefined,
    sink: { series: (_d: SeriesDescriptor) => series++, sample: () => void samples++, event: noop, topology: noop, flush: noop },
    hostResource: { 'host.name': 'bench' },
    intervalMs: 10_000,
  } as unknown as CollectorContext<KubernetesConfig>;
  return { ctx, samples: () => samples };
}

export async function run(options: { pods?: number; nodes?: number; churn?: number; seconds?: number } = {}): Promise<Record<string, number>> {
  const pods = options.pods ?? 5000;
  const nodes = options.nodes ?? 500;
  const churn = options.churn ?? 50;
  const seconds = options.seconds ?? 20;
  const standin = await startStandin(pods, nodes, churn);
  const parsed = kubernetesConfigSchema.safeParse({ ...kubernetesDefaults, auth: 'kubeconfig', kubeconfig: standin.kubeconfig, kubeletSummary: false, leaderElection: { enabled: false, namespace: 'default', leaseName: 'x' } });
  if (!parsed.success) throw new Error(parsed.error.message);
  const { ctx, samples } = context(parsed.data);
  try {
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const syncStart = performance.now();
    const collector = (await createKubernetesCollectorFactory().create(ctx)) as KubernetesCollector;
    await collector.start?.();
    while (!collector.synced || collector.cachedObjects < pods) await new Promise((r) => setTimeout(r, 50));
    const syncMs = performance.now() - syncStart;
    await collector.collect(new AbortController().signal);
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const eventsBefore = collector.informerStats().pods!.events;
    const cpuBefore = process.cpuUsage();
    const wallStart = performance.now();
    for (let t = 0; t < seconds; t += 10) {
      await new Promise((r) => setTimeout(r, 10_000));
      await collector.collect(new AbortController().signal);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - wallStart;
    const events = collector.informerStats().pods!.events - eventsBefore;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const rss = process.memoryUsage().rss;
    await collector.shutdown();
    return {
      k8sPods: pods,
      k8sNodes: nodes,
      k8sCachedObjects: collector.cachedObjects,
      k8sSyncMs: Math.round(syncMs),
      k8sCacheHeapMiB: mib(heapAfter - heapBefore),
      k8sRssMiB: mib(rss),
      k8sPodEventsPerSec: Math.round((events / wallMs) * 1000 * 10) / 10,
      k8sCpuPercentOfCore: Math.round((cpuMs / wallMs) * 1000) / 10,
      k8sCpuMsPerEvent: Math.round((cpuMs / Math.max(1, events)) * 1000) / 1000,
      k8sSamplesPerRound: Math.round(samples() / (1 + seconds / 10)),
    };
  } finally {
    standin.stop();
    rmSync(standin.dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  writeFileSync(1, `${JSON.stringify(result)}\n`);
  process.exit(0);
}
