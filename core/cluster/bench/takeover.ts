/**
 * `npm run bench -- --only cluster-takeover [--kills 10]` (issue 22): take-over time after a
 * SIGKILL, members as separate `sextant server --store` processes (default lease 5 s).
 *
 * Three members share the 64 partitions. Each round SIGKILLs one of them (in turn), measures from
 * the kill until every partition the victim owned is owned by a survivor and running again
 * (its `/api/v1/cluster`, polled every 50 ms), then starts the victim again with the same
 * `--member-id` and waits until the three are balanced before the next kill.
 *
 * Figures: takeoverMsP50, takeoverMsMax, takeoverMsMin over `--kills` kills, leaseMs (the
 * members' lease time: the floor of a take-over, since a dead member's leases must expire).
 */
import { ServerMember, percentile, startRedis, waitFor } from './group-processes.js';

const MEMBERS = 3;
const LEASE_MS = 5000; // ClusterMember's default, which `sextant server --store` uses
const PARTITIONS = 64;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive whole number (got "${process.argv[i + 1] ?? ''}")`);
  return n;
}

async function balanced(members: readonly ServerMember[]): Promise<boolean> {
  const s = await Promise.all(members.map((m) => m.status()));
  if (s.some((x) => x === undefined || x.members.length !== members.length)) return false;
  const owned = s.map((x) => x!.owned.filter((o) => o.state === 'running').length);
  return owned.reduce((a, b) => a + b, 0) === PARTITIONS && owned.every((n) => n <= Math.ceil(PARTITIONS / members.length));
}

export async function run(): Promise<Record<string, number>> {
  const kills = flag('kills', 10);
  const redis = await startRedis();
  const members: ServerMember[] = [];
  try {
    for (let k = 0; k < MEMBERS; k++) members.push(await ServerMember.start({ store: redis.url, memberId: `takeover-${k}` }));
    const times: number[] = [];
    for (let round = 0; round < kills; round++) {
      await waitFor('three balanced members', () => balanced(members), 180_000, 250);
      const v = round % MEMBERS;
      const victim = members[v];
      const orphaned = (await victim.status())!.owned.map((o) => o.partition);
      const survivors = members.filter((_, k) => k !== v);
      const begin = performance.now();
      await victim.kill();
      await waitFor(`survivors own the ${orphaned.length} partitions of the killed member`, async () => {
        const s = await Promise.all(survivors.map((m) => m.status()));
        const running = new Set(s.flatMap((x) => (x ? x.owned.filter((o) => o.state === 'running').map((o) => o.partition) : [])));
        return orphaned.every((p) => running.has(p));
      }, 120_000, 50);
      times.push(performance.now() - begin);
      await victim.stop();
      members[v] = await ServerMember.start({ store: redis.url, memberId: `takeover-${v}` });
    }
    const sorted = [...times].sort((a, b) => a - b);
    if (process.env.SEXTANT_BENCH_TAKEOVER_TIMES) process.stderr.write(`${JSON.stringify(times.map(Math.round))}\n`);
    return {
      takeoverMsP50: Math.round(percentile(sorted, 0.5)),
      takeoverMsMax: Math.round(sorted[sorted.length - 1]),
      takeoverMsMin: Math.round(sorted[0]),
      takeoverKills: kills,
      leaseMs: LEASE_MS,
    };
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await redis.stop();
  }
}
