#!/usr/bin/env node
/**
 * `npm run bench` — runs every benchmark and prints one JSON object with the figures and the goals
 * they are measured against. `--only name,name` runs a subset. Package benchmarks are the `run()`
 * functions exported by `<package>/bench/bench.ts` (compiled to `dist-bench/`, outside what is published).
 * `--peers [--series N] [--seconds S] [--warmup S] [--ingest-only]` runs only the peer benchmark (Sextant next to
 * Prometheus and VictoriaMetrics, src/peers/peers.ts): JSON on stdout, a table on stderr.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { idleRss } from './idle-rss.js';
import { agentProcess } from './agent-process.js';
import { endToEnd } from './end-to-end.js';
import { storeBench, storeRss } from './store-ingest.js';
import { correlatorThroughput, peerComparison } from './correlation.js';
import { peerBenchmark, peerTable } from './peers/peers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

type Bench = () => Promise<Record<string, number>>;

function packageBench(path: string, name = 'bench'): Bench | undefined {
  // bench/<name>.ts compiled by tools/bench/tsconfig.benches.json (not published); older layout: src/bench.ts
  const file = [join(repoRoot, path, `dist-bench/bench/${name}.js`), join(repoRoot, path, `dist/${name}.js`)].find((f) => existsSync(f));
  if (!file) return undefined;
  return async () => ((await import(pathToFileURL(file).href)) as { run: Bench }).run();
}

const GOALS: Record<string, string> = {
  storeSamplesPerSec: '>= 5,000,000 samples/s per core into the store (10k series)',
  storeBytesPerSample_gauge10s: '<= 2 bytes per stored sample (noisy gauge, 1 decimal, regular 10 s)',
  storeBytesPerSample_gauge1s: '<= 2 bytes per stored sample (noisy gauge, 1 decimal, regular 1 s)',
  storeBytesPerSample_gauge10sClockJitter: '<= 2 bytes per stored sample (noisy gauge, 10 s with a real clock\'s ms jitter)',
  storeBytesPerSample_counter10s: '<= 2 bytes per stored sample (counter)',
  storeBytesPerSample_constant10s: '<= 2 bytes per stored sample (constant)',
  storeBytesPerSample_nab: '<= 2 bytes per stored sample (NAB corpus values; many carry 10+ significant digits)',
  storeQueryLastHourUs: '<= 1,000 µs to read the last hour of a series holding 24 h at 10 s',
  registrationUsPerSeries: '<= 5 µs per new series (registry + store) in a burst of 100k',
  storeRssMiB_10000: '<= 2 bytes per sample: <= ~200 MiB RSS for 10k series x 24 h at 10 s (86.4M samples), node itself included',
  storeRssMiB_100000: '<= ~1,900 MiB RSS for 100k series x 24 h at 10 s (864M samples)',
  idleRssSettledMiB: '<= 80 MiB idle RSS of sextant run',
  detectorSamplesPerSec: '>= 2,000,000 samples/s per core through the detector (10k series), in every run (issue 20)',
  detectorSamplesPerCpuSec: '>= 2,000,000 samples per CPU-second through the detector (10k series, first run in the process: V8 compiles the model meanwhile), in every run (issue 20)',
  detectorSamplesPerCpuSecWarm: '>= 2,000,000 samples per CPU-second through a second detector in the same process (optimised code: a running server)',
  allocatedBytesPerSeries: '<= 2048 bytes of detector state held in memory per series (allocated, used or not)',
  bytesPerSeries: '<= 2048 bytes of detector state per series',
  restoreMs10k: '<= 1000 ms to restore 10k series of detector state',
  nginxLogLinesPerSec: '>= 200,000 access-log lines/s per core',
  collectStreamSamplesPerSec_b1000: '>= 2,000,000 samples/s per core at batch 1000',
  ingestSamplesPerSec_b1000: '>= 2,000,000 samples/s per core at batch 1000',
  childRssMiB: '<= 60 MiB child plugin process RSS',
  containers100CpuPercentOfCore: '<= 1% of one core for 100 containers at 10 s',
  rssMiB: '<= 100 MiB RSS of the in-process containers benchmark (100 containers)',
  agentCpuPercentOfCore: '<= 1% of one core: sextant agent process, host + 100 containers at 10 s',
  agentRssMiB: '<= 64 MiB RSS of the sextant agent process, host + 100 containers',
  endToEndSamplesPerCpuSecond: '>= 2,000,000 samples/s per server core, gRPC in -> detect -> correlate (default analysis, 10k series)',
  peerTotalMsPerInterval: 'well under 10,000 ms per 10 s interval for 1,000 groups x 10 members x 50 metrics on one core',
  correlatorAnomaliesPerCpuMinute: '>= 10,000 anomalies per minute',
  redisCorePercentAt10s: '<= 0.2% of one core per instance at 10 s',
  promParseSamplesPerSec: '>= 1,000,000 samples/s per core parsed (Prometheus text format)',
  promTargetsCpuPercentOfCore: '<= 10% of one core for 1,000 targets x 1,000 series at 15 s (scrape round, fetch excluded)',
  promTargetsWithFetchCpuPercentOfCore: '<= 10% of one core for 1,000 targets x 1,000 series at 15 s, real loopback scrapes (HTTP included)',
  remoteWriteSamplesPerSec: '>= 500,000 samples/s per core of remote write to a local receiver',
  apiSeriesRequestsPerSec: '>= 300 requests/s of GET /api/v1/series?limit=100 (1,000 series; client in the same process)',
  mountedReceiverRequestsPerSec: '>= 1,000 requests/s of a 1 KiB POST to a receiver mounted at /ingest/<name>/ of the API server',
  receiverAcceptedRequestsPerSec: '>= 1,000 requests/s of a 1 KiB POST (8 events) to an events receiver on its own port',
  throughput2to1: '>= 1.5: samples/s of 2 member processes over 1 (issue 22; on a 2-core machine)',
  cpuPerSampleRedisToMemory: '<= 2: CPU per sample through Redis (member + redis-server) over the in-memory server\'s (issue 22)',
  takeoverMs_max: '<= lease time (5 s) + one heartbeat after a member dies',
  soakAcceptedEqualsSent: '1: 10,000 series at 1 sample/s for 10 minutes into 2 member processes, accepted == sent (issue 22)',
  soakRssSlopeMiBPer10Min_max: '<= 1 MiB per 10 min RSS slope of each member after warm-up (issue 22)',
  takeoverMsP50: 'take-over after SIGKILL of a member process, p50 over 10 kills (issue 22; lease 5 s)',
  takeoverMsMax: '<= lease time (5 s) + one heartbeat + start-up of the partitions, max over 10 kills (issue 22)',
};

function positiveFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number (got "${args[i + 1] ?? ''}")`);
  return n;
}

async function peers(args: string[]): Promise<void> {
  const report = await peerBenchmark({
    series: Math.round(positiveFlag(args, 'series', 10_000)),
    seconds: positiveFlag(args, 'seconds', 60),
    warmupSeconds: positiveFlag(args, 'warmup', 15),
    ingestOnly: args.includes('--ingest-only'),
    repoRoot,
  });
  process.stderr.write(peerTable(report));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--peers')) return peers(args);
  const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1].split(',')) : undefined;
  const benches: Record<string, Bench | undefined> = {
    store: () => storeBench(),
    'store-rss-100k': () => storeRss(100_000),
    rss: () => idleRss(repoRoot),
    agent: () => agentProcess(repoRoot),
    'end-to-end': () => endToEnd(),
    host: packageBench('collectors/host'),
    containers: packageBench('collectors/containers'),
    nginx: packageBench('plugins/nginx'),
    redis: packageBench('plugins/redis'),
    swarm: packageBench('plugins/swarm'),
    rum: packageBench('plugins/rum'),
    statsd: packageBench('plugins/statsd'),
    kubernetes: packageBench('tools/kube-bench'),
    analysis: packageBench('core/analysis'),
    cluster: packageBench('core/cluster'),
    // --minutes N (default 10), --warmup-minutes N: issue 22's soak, members as `sextant server` processes
    'cluster-soak': packageBench('core/cluster', 'soak'),
    'cluster-takeover': packageBench('core/cluster', 'takeover'),
    peers: () => peerComparison(),
    correlator: () => correlatorThroughput(),
    outbox: (() => {
      const file = join(repoRoot, 'core/runtime/dist/outbox/bench.js');
      return existsSync(file) ? async () => ((await import(pathToFileURL(file).href)) as { run: Bench }).run() : undefined;
    })(),
    protocol: packageBench('core/protocol'),
    http: (() => {
      const file = join(repoRoot, 'core/runtime/dist-bench/bench/http.js');
      return existsSync(file) ? async () => ((await import(pathToFileURL(file).href)) as { run: Bench }).run() : undefined;
    })(),
    receiver: packageBench('core/integration-kit'),
    prometheus: packageBench('plugins/prometheus'),
    'remote-write': packageBench('integrations/exporter-prometheus-remote-write'),
    otlp: packageBench('integrations/exporter-otlp'),
    ingest: (() => {
      const file = join(repoRoot, 'core/protocol/dist-bench/bench/ingest-bench.js');
      return existsSync(file) ? async () => ((await import(pathToFileURL(file).href)) as { run: Bench }).run() : undefined;
    })(),
  };
  const results: Record<string, unknown> = {};
  for (const [name, bench] of Object.entries(benches)) {
    // the soak runs for minutes: only when named (--only cluster-soak)
    if (only ? !only.has(name) : name === 'cluster-soak') continue;
    if (!bench) {
      results[name] = { skipped: 'not built (run npm run build)' };
      continue;
    }
    process.stderr.write(`bench ${name}...\n`);
    try {
      results[name] = await bench();
    } catch (e) {
      results[name] = { error: (e as Error).message };
    }
  }
  const goals = Object.fromEntries(Object.entries(GOALS).filter(([k]) => Object.values(results).some((r) => r && typeof r === 'object' && k in r)));
  process.stdout.write(`${JSON.stringify({ machine: { node: process.version, cpus: (await import('node:os')).cpus().length }, results, goals }, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`sextant-bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
