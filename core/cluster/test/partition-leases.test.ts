import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary, needBinary } from '@sextant/testkit';
import { ClusterKeys, PartitionLeases, connectRedis, type RedisLink } from '../src/index.js';
import { startTestRedis, until, type TestRedis } from './redis-process.js';

const INSTALL = 'apt-get install redis-server';
const P = 64;

describe('membership and partition leases (real redis-server)', () => {
  let redis: TestRedis;
  const links: RedisLink[] = [];
  beforeAll(async () => {
    if (findBinary('redis-server')) redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const l of links) l.destroy();
    await redis?.stop();
  });

  it('balances 64 partitions over 3 members, and the 2 survivors own all of them after one stops heartbeating', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const keys = new ClusterKeys('leasetest', P);
    const events: string[] = [];
    const members: PartitionLeases[] = [];
    for (const id of ['m-a', 'm-b', 'm-c']) {
      const link = await connectRedis(redis.url);
      links.push(link);
      members.push(
        new PartitionLeases({
          link,
          keys,
          memberId: id,
          leaseMs: 4000,
          heartbeatMs: 300,
          listener: { acquired: (p) => void events.push(`${id}+${p}`), releasing: async (p) => void events.push(`${id}-${p}`), lost: (p) => void events.push(`${id}!${p}`) },
        }),
      );
    }
    const probe = links[0];
    // Invariant checked on every poll: no two members are sure of holding one partition at once, and
    // the one that is has its id in the lease key (read before and after, so a handover between the
    // reads is not mistaken for a violation).
    let violations = 0;
    const readLeases = () => Promise.all(Array.from({ length: P }, (_, p) => probe.call<string | null>(keys.lease(p), ['GET', keys.lease(p)])));
    const checkOwnersAgree = async (live: PartitionLeases[]) => {
      const before = await readLeases();
      const believers = new Map<number, string[]>();
      for (const m of live) for (let p = 0; p < P; p++) if (m.holds(p)) believers.set(p, [...(believers.get(p) ?? []), m.memberId]);
      const after = await readLeases();
      for (const [p, who] of believers) {
        if (who.length > 1 || (before[p] !== who[0] && after[p] !== who[0])) violations++;
      }
      return after;
    };
    for (const m of members) m.start();
    await until('all 64 partitions owned, balanced over 3 members', async () => {
      await checkOwnersAgree(members);
      const total = members.reduce((n, m) => n + m.owned.size, 0);
      return total === P && members.every((m) => m.owned.size <= Math.ceil(P / 3) && m.members.length === 3);
    });
    const victim = members[2];
    const orphaned = [...victim.owned];
    expect(orphaned.length).toBeGreaterThan(0);
    victim.halt(); // no release, no more heartbeats: a crash as the others see it
    const survivors = members.slice(0, 2);
    await until('the survivors own every partition', async () => {
      const leases = await checkOwnersAgree(survivors);
      return survivors.reduce((n, m) => n + m.owned.size, 0) === P && leases.every((l) => l === 'm-a' || l === 'm-b');
    });
    expect(violations).toBe(0);
    expect(survivors.every((m) => m.members.length === 2)).toBe(true);
    expect(survivors.every((m) => m.owned.size === P / 2)).toBe(true);
    for (const p of orphaned) expect(events.some((e) => e === `m-a+${p}` || e === `m-b+${p}`)).toBe(true);
    // A clean stop hands everything back: the survivor takes it all.
    await survivors[1].stop();
    await until('one member owns all', async () => {
      await checkOwnersAgree([survivors[0]]);
      return survivors[0].owned.size === P;
    });
    expect(violations).toBe(0);
    await survivors[0].stop();
    const left = await Promise.all(Array.from({ length: P }, (_, p) => probe.call<string | null>(keys.lease(p), ['GET', keys.lease(p)])));
    expect(left.every((l) => l === null)).toBe(true);
  }, 120_000);
});
