/**
 * Peer benchmark: Sextant next to Prometheus (and VictoriaMetrics when installed) in the same
 * window, on the same load, on this machine. `npm run bench -- --peers [--series N] [--seconds S]
 * [--warmup S] [--ingest-only]`; JSON on stdout, a table on stderr.
 *
 * Setup, and why it compares like with like:
 * - One load process (not measured) serves `series` gauges on a local exporter endpoint, values
 *   changing every second. Prometheus scrapes it every 1 s and evaluates two recording rules every
 *   10 s: a z-score of every series against its last 5 minutes, and a peer z-score of every series
 *   against the other members of its group. VictoriaMetrics (single node, `-promscrape.config`)
 *   scrapes the same endpoint; it evaluates no rules (that is vmalert's job), so it is an
 *   ingest-and-store reference, not an analysis one.
 * - Sextant `server` (the component that stores and analyses, as Prometheus does) receives the
 *   same values at the same rate from the same load process through its own `IngestClient`, the
 *   way `sextant agent` ships them, and runs its default analysis (baseline per series,
 *   peer-outlier per group, incidents). We do not use `sextant run` scraping the endpoint with
 *   @sextant/plugin-prometheus: one scrape target is one resource in Sextant, so its series would
 *   have no peer groups and the peer analysis, half of what Prometheus computes here, would not
 *   run. Each system thus ingests in its native protocol (text scrape vs. columnar gRPC); the
 *   parsing cost of the text format is Prometheus', the agent side is nobody's.
 * - CPU is utime + stime from /proc/PID/stat of each real process (the binaries and node itself
 *   are spawned directly, no shell or npx in between), RSS is VmRSS from /proc/PID/status; both
 *   over the same window after a warm-up in which every system has seen every series.
 * - Retention: Prometheus and VictoriaMetrics keep everything (15 days / 1 month by default);
 *   Sextant's embedded store keeps its fixed window per series.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, freePort, waitForPort } from '@sextant/testkit';

export interface PeerBenchOptions {
  /** Number of series (default 10,000). */
  readonly series: number;
  /** Measured window in seconds (default 60). */
  readonly seconds: number;
  /** Seconds between start and the window, so every system has registered every series (default 15). */
  readonly warmupSeconds: number;
  /** No analysis anywhere: Prometheus without its recording rules, Sextant with `detectors: {}` and `correlators: {}`. */
  readonly ingestOnly?: boolean;
  readonly repoRoot: string;
}

export interface SystemFigures {
  readonly cpuSeconds: number;
  readonly cpuPercentOfCore: number;
  /** CPU seconds per million offered samples (series x seconds). */
  readonly cpuSecondsPerMillionSamples: number;
  readonly rssMiBEnd: number;
  readonly rssMiBPeak: number;
  /** What the system itself reports having stored in the window. */
  readonly samplesIngested: number;
}

type Result = SystemFigures | { readonly skipped: string } | { readonly error: string };

const TOKEN = 'bench-peers-token-0123456789';
const CLK_TCK = 100; // Linux USER_HZ; `getconf CLK_TCK` is 100 on every kernel this runs on
const here = dirname(fileURLToPath(import.meta.url));

/** NaN once the process is gone (it then gets an error result, not figures). */
function cpuSecondsOf(pid: number): number {
  if (!existsSync(`/proc/${pid}/stat`)) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime (14), stime (15)
}

function rssMiBOf(pid: number): number {
  if (!existsSync(`/proc/${pid}/status`)) return Number.NaN;
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before ${url} answered; its stderr is above`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stopByPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Every process this benchmark spawned, stopped by pid at the end whatever happened. */
const spawned = new Set<ChildProcess>();

function spawnQuiet(file: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  spawned.add(child);
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => void (tail = (tail + d.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (code && code !== 0 && signal === null) process.stderr.write(`${file} exited with ${code}: ${tail}\n`);
  });
  return child;
}

interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  /** Cumulative samples the system reports having stored. */
  readonly stored: () => Promise<number>;
}

function scrapeConfig(exporterPort: number, withRules: boolean): string {
  return [
    `global: { scrape_interval: 1s, scrape_timeout: 1s${withRules ? ', evaluation_interval: 10s' : ''} }`,
    ...(withRules ? ['rule_files: [rules.yml]'] : []),
    'scrape_configs:',
    '  - job_name: bench',
    `    static_configs: [{ targets: ["127.0.0.1:${exporterPort}"] }]`,
    '',
  ].join('\n');
}

/** z-score per series against its last 5 minutes, and against its peers (same group) right now. */
const RULES = `groups:
  - name: bench
    interval: 10s
    rules:
      - record: bench_value:zscore_5m
        expr: (bench_value - avg_over_time(bench_value[5m])) / stddev_over_time(bench_value[5m])
      - record: bench_value:peer_zscore
        expr: (bench_value - on(group) group_left avg by (group) (bench_value)) / on(group) group_left stddev by (group) (bench_value)
`;

async function startPrometheus(dir: string, exporterPort: number, withRules: boolean): Promise<Running | string> {
  const bin = findBinary('prometheus');
  if (!bin) return 'prometheus not installed (apt-get install prometheus)';
  const home = join(dir, 'prometheus');
  mkdirSync(home);
  writeFileSync(join(home, 'prometheus.yml'), scrapeConfig(exporterPort, withRules));
  writeFileSync(join(home, 'rules.yml'), RULES);
  const port = await freePort();
  const child = spawnQuiet(bin, [`--config.file=${join(home, 'prometheus.yml')}`, `--storage.tsdb.path=${join(home, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']);
  await waitForHttp(`http://127.0.0.1:${port}/-/ready`, child);
  return { name: 'prometheus', child, stored: () => metricSum(`http://127.0.0.1:${port}/metrics`, 'prometheus_tsdb_head_samples_appended_total') };
}

async function startVictoriaMetrics(dir: string, exporterPort: number): Promise<Running | string> {
  const bin = findBinary('victoria-metrics') ?? findBinary('victoria-metrics-prod');
  if (!bin) return 'victoria-metrics not installed (apt-get install victoria-metrics)';
  const home = join(dir, 'victoria-metrics');
  mkdirSync(home);
  writeFileSync(join(home, 'scrape.yml'), scrapeConfig(exporterPort, false));
  const port = await freePort();
  const child = spawnQuiet(bin, [`-storageDataPath=${join(home, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`, `-promscrape.config=${join(home, 'scrape.yml')}`, '-loggerLevel=ERROR']);
  await waitForHttp(`http://127.0.0.1:${port}/health`, child);
  return { name: 'victoriametrics', child, stored: () => metricSum(`http://127.0.0.1:${port}/metrics`, 'vm_rows_inserted_total') };
}

async function startSextant(dir: string, repoRoot: string, load: LoadProcess, withAnalysis: boolean): Promise<Running | string> {
  const bin = join(repoRoot, 'tools/cli/dist/bin.js');
  if (!existsSync(bin)) return 'tools/cli/dist/bin.js not built (run npm run build)';
  const home = join(dir, 'sextant');
  mkdirSync(home);
  // no API port (nothing here reads it); stock plugins only; the default analysis (no detectors:
  // or correlators: section) or none
  const analysis = withAnalysis ? '' : 'detectors: {}\ncorrelators: {}\n';
  writeFileSync(join(home, 'sextant.yaml'), `dataDir: ${JSON.stringify(join(home, 'data'))}\nplugins: { discover: false }\nserver: { enabled: false }\n${analysis}`);
  const port = await freePort();
  // SEXTANT_BENCH_SERVER_NODE_ARGS / SEXTANT_BENCH_SERVER_ENV ("K=V K2=V2"): node flags and
  // environment for the server process only, to compare settings in the same run.
  const nodeArgs = (process.env.SEXTANT_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const env = Object.fromEntries((process.env.SEXTANT_BENCH_SERVER_ENV ?? '').split(' ').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const child = spawnQuiet(process.execPath, [...nodeArgs, bin, 'server', '--insecure-loopback', '--listen', `127.0.0.1:${port}`, '--token', TOKEN, '--config', join(home, 'sextant.yaml'), '--log-level', 'warn'], env);
  await waitForPort(port, '127.0.0.1', 30_000);
  load.child.send({ feed: { address: `127.0.0.1:${port}`, token: TOKEN } });
  return {
    name: 'sextant',
    child,
    stored: async () => {
      // handed to the client minus what the server reported refusing (stored = accepted)
      const s = await load.stats();
      return s ? s.samples - s.refusedByServer.samples : 0;
    },
  };
}

interface LoadProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stats(): Promise<{ samples: number; refusedByServer: { samples: number } } | undefined>;
}

async function startLoad(series: number): Promise<LoadProcess> {
  const script = join(here, 'load-process.js');
  const child = fork(script, [String(series)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`load process exited with ${code}`)));
    child.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'ready' in m) resolve((m as unknown as { port: number }).port);
    });
  });
  return {
    child,
    port,
    stats: () =>
      new Promise((resolve) => {
        const on = (m: unknown): void => {
          if (typeof m === 'object' && m !== null && 'stats' in m) {
            child.off('message', on);
            resolve((m as { stats: never }).stats);
          }
        };
        child.on('message', on);
        child.send('stats');
      }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sextant's figure divided by the peer's; null where the peer's is 0 (too short a window to see any CPU). */
function ratio(a: Result | undefined, b: Result | undefined): Record<string, number | null> | undefined {
  if (!a || !b || !('cpuSeconds' in a) || !('cpuSeconds' in b)) return undefined;
  const r = (x: number, y: number) => (y > 0 ? Math.round((x / y) * 100) / 100 : null);
  return { cpu: r(a.cpuSeconds, b.cpuSeconds), rssEnd: r(a.rssMiBEnd, b.rssMiBEnd), rssPeak: r(a.rssMiBPeak, b.rssMiBPeak) };
}

export async function peerBenchmark(options: PeerBenchOptions): Promise<Record<string, unknown>> {
  const { series, seconds, warmupSeconds } = options;
  const dir = mkdtempSync(join(tmpdir(), 'sextant-bench-peers-'));
  const load = await startLoad(series);
  const running: Running[] = [];
  const results: Record<string, Result> = {};
  try {
    const starts = [
      ['sextant', startSextant(dir, options.repoRoot, load, !options.ingestOnly)],
      ['prometheus', startPrometheus(dir, load.port, !options.ingestOnly)],
      ['victoriametrics', startVictoriaMetrics(dir, load.port)],
    ] as const;
    const started = await Promise.allSettled(starts.map(([, start]) => start));
    started.forEach((r, i) => {
      const name = starts[i]![0];
      if (r.status === 'rejected') results[name] = { error: (r.reason as Error).message };
      else if (typeof r.value === 'string') results[name] = { skipped: r.value };
      else running.push(r.value);
    });
    await sleep(warmupSeconds * 1000);
    const cpu0 = running.map((r) => cpuSecondsOf(r.child.pid!));
    const stored0 = await Promise.all(running.map((r) => r.stored().catch(() => Number.NaN)));
    const peak = running.map(() => 0);
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(Math.min(1000, seconds * 1000 - (performance.now() - t0)));
      running.forEach((r, i) => (peak[i] = Math.max(peak[i]!, rssMiBOf(r.child.pid!) || 0)));
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = running.map((r) => cpuSecondsOf(r.child.pid!));
    const rssEnd = running.map((r) => rssMiBOf(r.child.pid!));
    const stored1 = await Promise.all(running.map((r) => r.stored().catch(() => Number.NaN)));
    running.forEach((r, i) => {
      const cpuSeconds = cpu1[i]! - cpu0[i]!;
      if (r.child.exitCode !== null || r.child.signalCode !== null || Number.isNaN(cpuSeconds) || Number.isNaN(rssEnd[i]!)) {
        results[r.name] = { error: `exited during the measurement (${r.child.exitCode ?? r.child.signalCode ?? 'gone'}); its stderr is above` };
        return;
      }
      results[r.name] = {
        cpuSeconds: round(cpuSeconds, 2),
        cpuPercentOfCore: round((cpuSeconds / wall) * 100, 1),
        cpuSecondsPerMillionSamples: round(cpuSeconds / ((series * wall) / 1e6), 2),
        rssMiBEnd: round(rssEnd[i]!, 1),
        rssMiBPeak: round(Math.max(peak[i]!, rssEnd[i]!), 1),
        samplesIngested: stored1[i]! - stored0[i]!,
      };
    });
    const ordered = Object.fromEntries(['sextant', 'prometheus', 'victoriametrics'].filter((n) => results[n]).map((n) => [n, results[n]!]));
    return {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() },
      load: { series, seconds: round(wall, 1), warmupSeconds, analysis: !options.ingestOnly, scrapeInterval: '1s', ruleInterval: options.ingestOnly ? 'none' : '10s', offeredSamples: Math.round(series * wall) },
      results: ordered,
      ratios: { sextantToPrometheus: ratio(results.sextant, results.prometheus), sextantToVictoriaMetrics: ratio(results.sextant, results.victoriametrics) },
    };
  } finally {
    await Promise.all([...spawned].map((child) => stopByPid(child)));
    spawned.clear();
    if (load.child.connected) load.child.send('stop');
    await stopByPid(load.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The readable form of {@link peerBenchmark}'s result. */
export function peerTable(report: Record<string, unknown>): string {
  const results = report.results as Record<string, Result>;
  const rows = [['system', 'CPU s', '% of core', 'CPU s / 1M samples', 'RSS end MiB', 'RSS peak MiB', 'samples stored']];
  for (const [name, r] of Object.entries(results)) {
    if ('cpuSeconds' in r) rows.push([name, String(r.cpuSeconds), String(r.cpuPercentOfCore), String(r.cpuSecondsPerMillionSamples), String(r.rssMiBEnd), String(r.rssMiBPeak), String(r.samplesIngested)]);
    else rows.push([name, 'skipped' in r ? `skipped: ${r.skipped}` : `error: ${r.error}`]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.filter((row) => row.length > 2).map((row) => (row[c] ?? '').length)));
  const lines = rows.map((row) => (row.length === 2 ? `${row[0]!.padEnd(widths[0]!)}  ${row[1]}` : row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')));
  const ratios = report.ratios as Record<string, Record<string, number | null> | undefined>;
  const x = (v: number | null | undefined) => (typeof v === 'number' ? `${v}x` : 'n/a');
  for (const [name, r] of Object.entries(ratios)) if (r) lines.push(`${name}: CPU ${x(r.cpu)}, RSS end ${x(r.rssEnd)}, RSS peak ${x(r.rssPeak)}`);
  return `${lines.join('\n')}\n`;
}
