/**
 * What the group benchmarks (soak.ts, takeover.ts) run: a redis-server and real `sextant server
 * --store` processes (tools/cli/dist/bin.js, as a user starts them), each on free loopback ports,
 * stopped by pid; their CPU and RSS read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist-bench/bench/<file>.js -> the repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export const TOKEN = 'cluster-bench-token-0123456789';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const c = connect(port, '127.0.0.1', () => {
      c.end();
      r(true);
    });
    c.once('error', () => r(false));
  });
}

/** Polls `check` every `everyMs` until true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** CPU seconds (utime + stime) a process used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ = 100
  } catch {
    return 0;
  }
}

/** Resident set size in MiB (VmRSS); NaN once the process is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface BenchRedis {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sextant-cluster-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('error', () => undefined);
  try {
    await waitFor(`redis-server on ${port}`, () => portOpen(port), 15_000, 50);
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message} (is redis-server installed? apt-get install redis-server)`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What `GET /api/v1/cluster` answers (the parts the benchmarks read). */
export interface MemberStatus {
  readonly members: readonly string[];
  readonly owned: readonly { partition: number; state: string; lag?: number }[];
  readonly ingest: { appended: number; droppedBufferFull: number; droppedShutdown: number; buffered: number };
  readonly processed: { processed: number; duplicates: number; replaySkipped: number; claimed: number };
  readonly leases: { acquired: number; released: number; lost: number };
}

export interface MemberOptions {
  readonly store: string;
  readonly memberId: string;
  /** YAML written to the member's config file (default: none, the built-in defaults). */
  readonly configYaml?: string;
}

/** One `sextant server --store` process. */
export class ServerMember {
  private out = '';
  private readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly ingestAddress: string,
    readonly apiPort: number,
    private readonly dir: string,
  ) {
    const keep = (d: Buffer) => void (this.out = (this.out + d.toString()).slice(-8000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((r) => child.once('exit', () => r()));
  }

  static async start(o: MemberOptions): Promise<ServerMember> {
    const bin = join(repoRoot, 'tools/cli/dist/bin.js');
    if (!existsSync(bin)) throw new Error(`${bin} is missing: build the CLI first (npm run build)`);
    const dir = mkdtempSync(join(tmpdir(), 'sextant-cluster-bench-member-'));
    const [listen, api] = [await freePort(), await freePort()];
    const args = [bin, 'server', '--store', o.store, '--member-id', o.memberId, '--insecure-loopback', '--listen', `127.0.0.1:${listen}`, '--port', String(api), '--token', TOKEN];
    if (o.configYaml !== undefined) {
      writeFileSync(join(dir, 'sextant.yaml'), o.configYaml);
      args.push('-c', join(dir, 'sextant.yaml'));
    }
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const m = new ServerMember(child, `127.0.0.1:${listen}`, api, dir);
    await waitFor(`member ${o.memberId} API`, async () => {
      if (child.exitCode !== null) throw new Error(`member ${o.memberId} exited (${child.exitCode}): ${m.out}`);
      return (await m.status()) !== undefined;
    }, 300_000, 200); // generous: on the shared build machine a start can take minutes
    return m;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  /** The member's `/api/v1/cluster`, or undefined while it does not answer. */
  async status(): Promise<MemberStatus | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.apiPort}/api/v1/cluster`, { signal: AbortSignal.timeout(10_000) });
      return res.ok ? ((await res.json()) as MemberStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGKILL: a crash as the group sees it. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait (a clean leave: flush, checkpoint, release); SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
