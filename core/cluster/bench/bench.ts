/**
 * `npm run bench -- --only cluster`: figures for docs and the README (no thresholds in tests).
 *
 * - inMemorySamplesPerSec: the single-server path (IngestServer handler -> pipeline.ingest), for comparison.
 * - groupSamplesPerSec_1 / _3: samples/s from the ingest handler through the partition streams to
 *   the owners' pipelines, with 1 and 3 members. All members run in this one Node thread, so this
 *   is the cost of the Redis path per sample, not the scaling of separate processes.
 * - *CpuNsPerSample: CPU per sample of the in-memory path, of this process as a member, and of
 *   redis-server (from /proc); redisPathCostX = (member + redis-server) / in-memory.
 * - takeoverMs_p50 / _max: a member halts (no release: a crash as the others see it) -> every one
 *   of its partitions is running on a survivor again; lease 5 s (the default), 3 kills.
 *
 * Needs redis-server on the PATH (started on a free loopback port, no persistence, stopped by pid).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { Runtime, validateRuntimeConfig } from '@sextant/runtime';
import { ClusterMember } from '../src/cluster-member.js';

const SERIES = 10_000;
const BATCH = 1000;

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

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => {
        c.end();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}

async function runtime(): Promise<Runtime> {
  const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { enabled: false }, collectors: {}, detectors: {}, correlators: {}, notifiers: {} });
  const rt = await Runtime.load({ config: loaded.config!, builtins: [], log: { level: 'silent' }, hostResource: { 'host.name': 'bench' } });
  await rt.start();
  return rt;
}

const descriptor = (i: number): SeriesDescriptor => ({ metric: 'bench.value', unit: '1', type: 'gauge', resource: { 'host.name': `h${i % 100}` }, attributes: { n: i } });

interface Feed {
  onSeries(source: string, localId: number, d: SeriesDescriptor): number | null | void;
  onBatch(source: string, batch: { length: number; series: Uint32Array; timestamps: Float64Array; values: Float64Array }): void | Promise<void>;
}

/** Registers the SERIES series with `feed`; returns their ids. */
function register(feed: Feed): Uint32Array {
  const ids = new Uint32Array(SERIES);
  for (let i = 0; i < SERIES; i++) ids[i] = feed.onSeries('bench', i, descriptor(i)) as number;
  return ids;
}

/** Sends rounds `from`..`to`-1 of SERIES samples through `feed` in batches of BATCH; returns the samples sent. */
async function drive(feed: Feed, ids: Uint32Array, from: number, to: number, t0: number): Promise<number> {
  const batch = { length: BATCH, series: new Uint32Array(BATCH), timestamps: new Float64Array(BATCH), values: new Float64Array(BATCH) };
  const pending: (void | Promise<void>)[] = [];
  let sent = 0;
  for (let r = from; r < to; r++) {
    for (let off = 0; off < SERIES; off += BATCH) {
      for (let j = 0; j < BATCH; j++) {
        batch.series[j] = ids[off + j];
        batch.timestamps[j] = t0 + r * 1000;
        batch.values[j] = (off + j + r) % 97;
      }
      pending.push(feed.onBatch('bench', batch));
      sent += BATCH;
    }
    await Promise.all(pending.splice(0));
  }
  return sent;
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('benchmark timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** CPU time (ns) used so far by a process, from /proc/PID/stat (utime + stime); 0 where unreadable. */
function processCpuNs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e9) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return 0;
  }
}

const ownCpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

interface GroupFigures {
  readonly samplesPerSec: number;
  /** CPU of this process (all members) per sample, ns. */
  readonly memberCpuNsPerSample: number;
  /** CPU of redis-server per sample, ns. */
  readonly redisCpuNsPerSample: number;
}

async function groupThroughput(url: string, group: string, members: number, rounds: number, redisPid: number): Promise<GroupFigures> {
  const started = await Promise.all(
    Array.from({ length: members }, async (_, k) => {
      const rt = await runtime();
      const member = await ClusterMember.start({ runtime: rt, store: url, detectors: {}, group, memberId: `m${k}`, checkpointMs: 2000 });
      return { rt, member };
    }),
  );
  await until(() => started.reduce((n, s) => n + s.member.ownedPartitions.length, 0) === 64 && started.every((s) => s.member.ownedPartitions.length <= Math.ceil(64 / members)), 60_000);
  const t0 = Date.now() - 3_600_000;
  const processed = () => started.reduce((n, s) => n + s.member.totals().processed, 0);
  // Agents spread over the members, like a load balancer in front of them; the first round
  // (every series new to the registry, the stores and the owners) is warm-up, not measured.
  const ids = started.map((s) => register(s.member.ingestHandler));
  const warm = (await Promise.all(started.map((s, k) => drive(s.member.ingestHandler, ids[k], 0, 1, t0)))).reduce((a, b) => a + b, 0);
  await until(() => processed() >= warm, 300_000);
  const begin = performance.now();
  const cpu0 = ownCpuNs();
  const redis0 = processCpuNs(redisPid);
  const per = Math.ceil(rounds / members);
  const sent = (await Promise.all(started.map((s, k) => drive(s.member.ingestHandler, ids[k], 1, 1 + per, t0)))).reduce((a, b) => a + b, 0);
  await until(() => processed() >= warm + sent, 300_000);
  const figures = { samplesPerSec: sent / ((performance.now() - begin) / 1000), memberCpuNsPerSample: (ownCpuNs() - cpu0) / sent, redisCpuNsPerSample: (processCpuNs(redisPid) - redis0) / sent };
  for (const s of started) {
    await s.member.stop();
    await s.rt.stop();
  }
  return figures;
}

async function takeover(url: string, kills: number): Promise<number[]> {
  const live: { rt: Runtime; member: ClusterMember }[] = [];
  const add = async (id: string) => {
    const rt = await runtime();
    live.push({ rt, member: await ClusterMember.start({ runtime: rt, store: url, detectors: {}, group: 'takeover', memberId: id, pollMs: 10 }) });
  };
  for (const id of ['a', 'b', 'c']) await add(id);
  const times: number[] = [];
  for (let k = 0; k < kills; k++) {
    await until(() => live.reduce((n, s) => n + s.member.ownedPartitions.length, 0) === 64 && live.every((s) => s.member.ownedPartitions.length <= 22), 60_000);
    const victim = live.shift()!;
    const orphaned = victim.member.ownedPartitions;
    const begin = performance.now();
    victim.member.halt();
    await until(() => orphaned.every((p) => live.some((s) => s.member.ownedPartitions.includes(p))), 60_000);
    times.push(performance.now() - begin);
    await victim.rt.stop();
    await add(`n${k}`);
  }
  for (const s of live) {
    await s.member.stop();
    await s.rt.stop();
  }
  return times;
}

export async function run(): Promise<Record<string, number>> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sextant-cluster-bench-'));
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    const url = `redis://127.0.0.1:${port}`;
    const rt = await runtime();
    const t0 = Date.now() - 3_600_000;
    const local: Feed = { onSeries: (s, _l, d) => rt.registry.intern(d, s), onBatch: (s, b) => rt.pipeline.ingest(b, s) };
    const localIds = register(local);
    await drive(local, localIds, 0, 1, t0);
    const begin = performance.now();
    const cpu0 = ownCpuNs();
    const sentLocal = await drive(local, localIds, 1, 21, t0);
    const inMemory = sentLocal / ((performance.now() - begin) / 1000);
    const inMemoryCpuNs = (ownCpuNs() - cpu0) / sentLocal;
    await rt.stop();
    const one = await groupThroughput(url, 'bench1', 1, 30, redis.pid!);
    const three = await groupThroughput(url, 'bench3', 3, 30, redis.pid!);
    const times = (await takeover(url, 3)).sort((a, b) => a - b);
    return {
      inMemorySamplesPerSec: Math.round(inMemory),
      inMemoryCpuNsPerSample: Math.round(inMemoryCpuNs),
      groupSamplesPerSec_1: Math.round(one.samplesPerSec),
      groupSamplesPerSec_3: Math.round(three.samplesPerSec),
      memberCpuNsPerSample_1: Math.round(one.memberCpuNsPerSample),
      redisServerCpuNsPerSample_1: Math.round(one.redisCpuNsPerSample),
      // CPU per sample through Redis (member + redis-server) over the in-memory path's.
      redisPathCostX: Math.round(((one.memberCpuNsPerSample + one.redisCpuNsPerSample) / inMemoryCpuNs) * 10) / 10,
      takeoverMs_p50: Math.round(times[Math.floor(times.length / 2)]),
      takeoverMs_max: Math.round(times[times.length - 1]),
    };
  } finally {
    if (redis.pid !== undefined && redis.exitCode === null) process.kill(redis.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
