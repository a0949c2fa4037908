/**
 * `npm run bench -- --only cluster-soak [--minutes 10] [--warmup-minutes 3]` (issue 22): 10,000
 * series at 1 sample/s for `--minutes` into a group of 2 real `sextant server --store` processes
 * (default analysis), one agent connection (IngestClient, gRPC) per member with 5,000 series each.
 *
 * Figures:
 * - soakSent / soakAppended / soakProcessed: samples the agents handed over, that the members
 *   appended to the partition streams, and that the owners applied (all must be equal; soakLost =
 *   sent - processed, soakDropped = what any counter says was dropped, so a loss is never silent).
 * - soakRssSlopeMiBPer10Min_<member>: the member's RSS (VmRSS, sampled every 10 s) after the
 *   warm-up, least-squares slope scaled to 10 minutes; _max is the larger of the two.
 *   soakRssFloorSlopeMiBPer10Min_*: the same over the lowest RSS of each minute (after a major
 *   GC), which the GC saw-tooth (tens of MiB) does not swamp.
 *   The members run with `store.points: 120` (two minutes of history at 1 s) so the stored
 *   history is full before the warm-up ends: what grows after it is not retained data. With the
 *   default 8,640 points the store fills for 2.4 h at this rate and RSS grows by design.
 * - soakMemberCpuPercentOfCore (mean of the two), soakRedisCpuPercentOfCore over the whole run.
 */
import type { IngestClient as IngestClientType, SeriesDefinition } from '@sextant/protocol';
import { ServerMember, TOKEN, cpuSeconds, rssMiB, slope, startRedis, waitFor } from './group-processes.js';

const SERIES = 10_000;
const MEMBERS = 2;
const STORE_POINTS = 120;
const RSS_EVERY_MS = 10_000;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number (got "${process.argv[i + 1] ?? ''}")`);
  return n;
}

export async function run(): Promise<Record<string, number>> {
  const minutes = flag('minutes', 10);
  const warmupMinutes = flag('warmup-minutes', Math.min(3, minutes * 0.3));
  const { IngestClient } = await import('@sextant/protocol');
  const redis = await startRedis();
  const members: ServerMember[] = [];
  const clients: IngestClientType[] = [];
  try {
    for (let k = 0; k < MEMBERS; k++) members.push(await ServerMember.start({ store: redis.url, memberId: `soak-${k}`, configYaml: `store:\n  points: ${STORE_POINTS}\n` }));
    await waitFor('balanced ownership', async () => {
      const s = await Promise.all(members.map((m) => m.status()));
      return s.every((x) => x !== undefined && x.owned.length === 64 / MEMBERS && x.owned.every((o) => o.state === 'running'));
    }, 120_000, 250);
    const per = SERIES / MEMBERS;
    const defs = members.map((_, k): SeriesDefinition[] =>
      Array.from({ length: per }, (_, j) => {
        const i = k * per + j;
        return { localId: j, descriptor: { metric: 'soak.requests.latency', unit: 'ms', type: 'gauge', resource: { 'host.name': `host-${i % 200}`, 'service.name': `svc-${i % 1000}` }, attributes: { route: `/r${i}` } } };
      }),
    );
    for (let k = 0; k < MEMBERS; k++) clients.push(new IngestClient({ address: members[k].ingestAddress, insecure: true, token: TOKEN, sourceId: `soak-agent-${k}` }));
    const batch = { length: per, series: Uint32Array.from({ length: per }, (_, j) => j), timestamps: new Float64Array(per), values: new Float64Array(per) };
    const cpu0 = members.map((m) => cpuSeconds(m.pid));
    const redisCpu0 = cpuSeconds(redis.pid);
    const rss: { t: number; mib: number[] }[] = [];
    const start = Date.now();
    const end = start + minutes * 60_000;
    let nextRss = start;
    let seconds = 0;
    for (let tick = 0; ; tick++) {
      const at = start + tick * 1000;
      if (at >= end) break;
      const wait = at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let k = 0; k < MEMBERS; k++) {
        for (let j = 0; j < per; j++) {
          batch.timestamps[j] = at;
          batch.values[j] = 120 + 20 * Math.sin((tick + j) / 60) + ((j * 7919 + tick * 104_729) % 17);
        }
        clients[k].send(tick === 0 ? defs[k] : [], batch);
      }
      seconds++;
      if (Date.now() >= nextRss) {
        rss.push({ t: (Date.now() - start) / 60_000, mib: members.map((m) => rssMiB(m.pid)) });
        nextRss += RSS_EVERY_MS;
      }
    }
    for (const c of clients) if (!(await c.flush(120_000))) throw new Error('cluster-soak: a member did not acknowledge everything within 120 s');
    const sent = clients.reduce((n, c) => n + c.stats().samples, 0);
    let last: Awaited<ReturnType<ServerMember['status']>>[] = [];
    const sum = (f: (s: NonNullable<(typeof last)[number]>) => number) => last.reduce((n, s) => n + (s ? f(s) : 0), 0);
    await waitFor('every sample processed', async () => {
      last = await Promise.all(members.map((m) => m.status()));
      return last.every((s) => s !== undefined) && sum((s) => s.processed.processed) >= sent;
    }, 180_000, 500).catch(() => undefined);
    const elapsedS = (Date.now() - start) / 1000;
    const cpu = members.map((m, k) => (cpuSeconds(m.pid) - cpu0[k]) / elapsedS);
    const steady = rss.filter((r) => r.t >= warmupMinutes);
    const slopes = members.map((_, k) => (steady.length >= 3 ? slope(steady.map((r) => r.t), steady.map((r) => r.mib[k])) * 10 : Number.NaN));
    // RSS of a Node process saws up and down by tens of MiB between major GCs: the lowest RSS of
    // each minute (what is left after a collection) shows growth the raw samples hide in noise.
    const floors = new Map<number, number[]>();
    for (const r of steady) {
      const minute = Math.floor(r.t);
      const f = floors.get(minute) ?? members.map(() => Number.POSITIVE_INFINITY);
      floors.set(minute, f.map((v, k) => Math.min(v, r.mib[k])));
    }
    const floorT = [...floors.keys()];
    const floorSlopes = members.map((_, k) => (floorT.length >= 3 ? slope(floorT, floorT.map((t) => floors.get(t)![k])) * 10 : Number.NaN));
    const clientDropped = clients.reduce((n, c) => n + Object.values(c.stats().droppedSamples).reduce((a, b) => a + b, 0) + c.stats().refusedByServer.samples, 0);
    const processed = sum((s) => s.processed.processed);
    const figures: Record<string, number> = {
      soakSeries: SERIES,
      soakMinutes: minutes,
      soakWarmupMinutes: warmupMinutes,
      soakSecondsSent: seconds,
      soakSent: sent,
      soakAppended: sum((s) => s.ingest.appended),
      soakProcessed: processed,
      soakLost: sent - processed,
      soakDropped: clientDropped + sum((s) => s.ingest.droppedBufferFull + s.ingest.droppedShutdown),
      soakDuplicates: sum((s) => s.processed.duplicates),
      // Partitions whose lease lapsed while the member lived (a starved process): the next owner
      // replays from the last checkpoint what the lapsed one had already applied.
      soakLeasesLost: sum((s) => s.leases.lost),
      soakReplaySkipped: sum((s) => s.processed.replaySkipped),
      soakClaimed: sum((s) => s.processed.claimed),
      soakAcceptedEqualsSent: processed === sent ? 1 : 0,
      soakRssSlopeMiBPer10Min_max: Math.round(Math.max(...slopes) * 100) / 100,
      soakMemberCpuPercentOfCore: Math.round((cpu.reduce((a, b) => a + b, 0) / cpu.length) * 1000) / 10,
      soakRedisCpuPercentOfCore: Math.round(((cpuSeconds(redis.pid) - redisCpu0) / elapsedS) * 1000) / 10,
      soakRssFloorSlopeMiBPer10Min_max: Math.round(Math.max(...floorSlopes) * 100) / 100,
      soakRssSamples: steady.length,
    };
    members.forEach((_, k) => {
      figures[`soakRssSlopeMiBPer10Min_${k}`] = Math.round(slopes[k] * 100) / 100;
      figures[`soakRssFloorSlopeMiBPer10Min_${k}`] = Math.round(floorSlopes[k] * 100) / 100;
      figures[`soakRssMiBAfterWarmup_${k}`] = Math.round((steady[0]?.mib[k] ?? Number.NaN) * 10) / 10;
      figures[`soakRssMiBEnd_${k}`] = Math.round((rss[rss.length - 1]?.mib[k] ?? Number.NaN) * 10) / 10;
    });
    if (process.env.SEXTANT_BENCH_SOAK_RSS) process.stderr.write(`${JSON.stringify(rss)}\n`);
    return figures;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(members.map((m) => m.stop()));
    await redis.stop();
  }
}
