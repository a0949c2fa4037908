/**
 * Agent overhead as a user sees it (issue 20): a real `sextant agent` process collecting the host
 * (this machine's /proc and /sys) and 100 containers (a synthetic engine on a unix socket and
 * generated cgroup v2 files, advanced every 10 s like real counters) at a 10 s interval, shipping
 * everything to a real `sextant server` over gRPC on loopback. CPU is read from /proc/<pid>/stat
 * (utime + stime) over the measured window, RSS from /proc/<pid>/status; the synthetic engine and
 * the server run in other processes and are not counted.
 *
 * Figures: `agentCpuPercentOfCore` (goal <= 1), `agentRssMiB` (settled, goal <= 64),
 * `agentPeakRssMiB`, `agentSamplesPerRound` (from the server's ingest counter), `agentSeconds`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface SyntheticHostLike {
  readonly cgroupRoot: string;
  readonly procRoot: string;
  advance(seconds: number): void;
}
interface SyntheticEngineLike {
  readonly socketPath: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  add(c: Record<string, unknown>): void;
}

const CLK_TCK = 100;

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function startCli(repoRoot: string, args: string[], cwd: string, nodeArgs: readonly string[] = [], bin = join(repoRoot, 'tools/cli/dist/bin.js'), env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [...nodeArgs, bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + String(d)).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + String(d)).slice(-4000)));
  return { child, output: () => out };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, output: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms: ${output()}`);
}

async function metricSum(apiPort: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function agentProcess(repoRoot: string, opts: { containers?: number; seconds?: number; warmupSeconds?: number } = {}): Promise<Record<string, number>> {
  const containers = opts.containers ?? 100;
  const seconds = opts.seconds ?? Number(process.env.SEXTANT_BENCH_AGENT_SECONDS ?? 60);
  const warmup = opts.warmupSeconds ?? 25;
  const benchDir = join(repoRoot, 'collectors/containers/dist/bench');
  if (!existsSync(join(benchDir, 'synthetic-host.js'))) throw new Error('collectors/containers is not built (npm run build)');
  const { SyntheticHost } = (await import(pathToFileURL(join(benchDir, 'synthetic-host.js')).href)) as { SyntheticHost: new (o: unknown) => SyntheticHostLike };
  const { SyntheticEngine } = (await import(pathToFileURL(join(benchDir, 'synthetic-engine.js')).href)) as { SyntheticEngine: new (socket: string) => SyntheticEngineLike };

  const dir = mkdtempSync(join(tmpdir(), 'sextant-bench-agent-'));
  const list = Array.from({ length: containers }, (_, i) => ({ id: (i + 1).toString(16).padStart(64, 'b'), pid: 20_000 + i, cpuLimitCores: 1, memoryLimitBytes: 2 ** 28 }));
  const host = new SyntheticHost({ dir, version: 2, driver: 'systemd', containers: list });
  const engine = new SyntheticEngine(join(dir, 'engine.sock'));
  // Images no plugin claims, so autodiscovery starts nothing and only the collectors are measured.
  list.forEach((c, i) => engine.add({ id: c.id, name: `bench-${i}`, image: 'registry.example/bench/app:1', pid: c.pid, ip: `10.2.0.${(i % 250) + 1}`, exposed: [8080], labels: { 'com.docker.compose.service': `s${i % 10}` } }));
  await engine.start();
  const ticker = setInterval(() => host.advance(10), 10_000);

  const token = 'bench-token-0123456789abcdef';
  const ingestPort = await freePort();
  const apiPort = await freePort();
  writeFileSync(join(dir, 'server.yaml'), `dataDir: ${JSON.stringify(join(dir, 'server-data'))}\nplugins: { discover: false }\n`);
  writeFileSync(
    join(dir, 'agent.yaml'),
    [
      `dataDir: ${JSON.stringify(join(dir, 'agent-data'))}`,
      'plugins: { discover: false }',
      'collectors:',
      '  host: { interval: 10s }',
      `  containers: { interval: 10s, socket: ${JSON.stringify(engine.socketPath)}, cgroupRoot: ${JSON.stringify(host.cgroupRoot)}, procRoot: ${JSON.stringify(host.procRoot)} }`,
      '',
    ].join('\n'),
  );
  const server = startCli(repoRoot, ['server', '--config', join(dir, 'server.yaml'), '--listen', `127.0.0.1:${ingestPort}`, '--insecure-loopback', '--token', token, '--port', String(apiPort), '--log-level', 'error'], dir);
  let agent: ReturnType<typeof startCli> | undefined;
  try {
    await waitFor('sextant server', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${apiPort}/healthz`)).ok;
      } catch {
        return false;
      }
    }, 60_000, server.output);
    agent = startCli(repoRoot, ['agent', '--config', join(dir, 'agent.yaml'), '--server', `127.0.0.1:${ingestPort}`, '--insecure', '--token', token, '--log-level', 'error'], dir, (process.env.SEXTANT_BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean), process.env.SEXTANT_BENCH_AGENT_BIN || undefined, Object.fromEntries((process.env.SEXTANT_BENCH_AGENT_ENV ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
    const pid = agent.child.pid!;
    await new Promise((r) => setTimeout(r, warmup * 1000));
    if (agent.child.exitCode !== null) throw new Error(`sextant agent exited early: ${agent.output()}`);
    const accepted0 = await metricSum(apiPort, 'sextant_samples_accepted_total');
    const t0 = cpuTicks(pid);
    const start = Date.now();
    const rss: number[] = [];
    while (Date.now() - start < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      if (agent.child.exitCode !== null) throw new Error(`sextant agent exited early: ${agent.output()}`);
      rss.push(statusKiB(pid, 'VmRSS'));
    }
    const cpuS = (cpuTicks(pid) - t0) / CLK_TCK;
    const wallS = (Date.now() - start) / 1000;
    const accepted = (await metricSum(apiPort, 'sextant_samples_accepted_total')) - accepted0;
    const peak = statusKiB(pid, 'VmHWM');
    const settled = Math.max(...rss.slice(Math.floor(rss.length / 2)));
    const r1 = (n: number) => Math.round(n * 1000) / 1000;
    return {
      agentCpuPercentOfCore: r1((cpuS / wallS) * 100),
      agentRssMiB: r1(settled / 1024),
      agentPeakRssMiB: r1(peak / 1024),
      agentSamplesPerRound: Math.round((accepted / wallS) * 10),
      agentContainers: containers,
      agentSeconds: Math.round(wallS),
    };
  } finally {
    clearInterval(ticker);
    if (agent) await stop(agent.child);
    await stop(server.child);
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
