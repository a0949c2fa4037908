/**
 * A private Redis Cluster per test file: 3 masters + 3 replicas (`cluster-enabled yes`), each a
 * redis-server on a free loopback port (and a free cluster bus port, `cluster-port`), in a temp
 * directory, joined with `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`,
 * stopped by pid. `cluster-node-timeout` is low (default 1000 ms) so a killed master's replica is
 * promoted within seconds (`cluster-replica-validity-factor 0`: a replica always stands for
 * election, however long ago it last heard from its master on this loaded machine).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from '@sextant/testkit';
import { until } from './redis-process.js';

const run = promisify(execFile);

export interface ClusterNode {
  readonly port: number;
  readonly pid: number | undefined;
  /** True while its process runs. */
  readonly alive: boolean;
}

export interface TestRedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` (three seed nodes). */
  readonly url: string;
  /** Sends a command with redis-cli to one node; returns its raw output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** `CLUSTER NODES` of a live node, parsed. */
  topology(): Promise<{ id: string; port: number; master: boolean; masterId: string | undefined; failed: boolean; slots: string[] }[]>;
  /** The port of the master that serves `key`'s slot (asked of a live node). */
  masterOf(key: string): Promise<number>;
  /** A replica of the master on `port`. */
  replicaOf(port: number): Promise<number>;
  /** SIGKILLs one node (its files stay). */
  kill(port: number): Promise<void>;
  /** Waits until every live node reports `cluster_state:ok` and every slot is served by a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** True when redis-cli can create clusters (Redis >= 5) next to redis-server. */
export async function canRunRedisCluster(): Promise<boolean> {
  try {
    await run('redis-cli', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export async function startTestRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-cluster-rc-'));
  const nodes: { port: number; proc: ChildProcess; exited: Promise<void> }[] = [];
  const stopAll = async () => {
    for (const n of nodes) {
      if (n.proc.exitCode === null && n.proc.signalCode === null) {
        n.proc.kill('SIGKILL');
        await n.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const bus = await freePort();
      const d = join(dir, String(port));
      mkdirSync(d);
      const args = ['--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000), '--cluster-replica-validity-factor', '0', '--save', '', '--appendonly', 'no', '--dir', d];
      const proc = spawn('redis-server', args, { stdio: 'ignore' });
      nodes.push({ port, proc, exited: new Promise((r) => proc.once('exit', () => r())) });
    }
    for (const n of nodes) await waitForPort(n.port, '127.0.0.1', 15_000);
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
  } catch (e) {
    await stopAll();
    throw e;
  }
  const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 15_000 })).stdout;
  const live = () => nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  const topology = async () => {
    const text = await cli(live()[0].port, 'CLUSTER', 'NODES');
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const f = line.split(' ');
        const flags = f[2].split(',');
        return { id: f[0], port: Number(f[1].split(':')[1].split('@')[0]), master: flags.includes('master'), masterId: f[3] === '-' ? undefined : f[3], failed: flags.some((x) => x === 'fail' || x === 'fail?'), slots: f.slice(8) };
      });
  };
  const cluster: TestRedisCluster = {
    get nodes() {
      return nodes.map((n) => ({ port: n.port, pid: n.proc.pid, alive: n.proc.exitCode === null && n.proc.signalCode === null }));
    },
    url: `redis+cluster://${nodes
      .slice(0, 3)
      .map((n) => `127.0.0.1:${n.port}`)
      .join(',')}`,
    cli,
    topology,
    async masterOf(key) {
      const slot = Number((await cli(live()[0].port, 'CLUSTER', 'KEYSLOT', key)).trim());
      const shards = (await topology()).filter((n) => n.master && !n.failed);
      for (const s of shards) {
        for (const range of s.slots) {
          const [a, b] = range.split('-').map(Number);
          if (slot >= a && slot <= (b ?? a)) return s.port;
        }
      }
      throw new Error(`no live master serves slot ${slot}`);
    },
    async replicaOf(port) {
      const t = await topology();
      const master = t.find((n) => n.port === port);
      const replica = t.find((n) => n.masterId === master?.id && !n.failed);
      if (!replica) throw new Error(`no live replica of 127.0.0.1:${port}`);
      return replica.port;
    },
    async kill(port) {
      const n = nodes.find((x) => x.port === port);
      if (n && n.proc.exitCode === null && n.proc.signalCode === null) {
        n.proc.kill('SIGKILL');
        await n.exited;
      }
    },
    async waitHealthy(timeoutMs = 60_000) {
      await until(
        'the Redis Cluster to be healthy',
        async () => {
          try {
            for (const n of live()) if (!/cluster_state:ok/.test(await cli(n.port, 'CLUSTER', 'INFO'))) return false;
            const served = (await topology()).filter((n) => n.master && !n.failed).reduce((k, n) => k + n.slots.reduce((s, r) => s + (r.includes('-') ? Number(r.split('-')[1]) - Number(r.split('-')[0]) + 1 : 1), 0), 0);
            return served === 16384;
          } catch {
            return false;
          }
        },
        timeoutMs,
        200,
      );
    },
    stop: stopAll,
  };
  await cluster.waitHealthy();
  return cluster;
}
