/**
 * The store goes away under load: members keep what they received within a bound, resume when
 * Redis is back (AOF on, as a group's Redis should run), and count what they had to drop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';
import { findBinary, needBinary } from '@sextant/testkit';
import { startMember, type TestMember } from './member-fixture.js';
import { startTestRedis, stopWithin, until, type TestRedis } from './redis-process.js';

const INSTALL = 'apt-get install redis-server';
const DURABLE = ['--appendonly', 'yes', '--appendfsync', 'always'];

const descriptor = (i: number): SeriesDescriptor => ({ metric: 'queue.depth', unit: '1', type: 'gauge', resource: { 'host.name': `h${i % 50}` }, attributes: { queue: `q${i}` } });

describe('Redis restarted under load (real redis-server)', () => {
  let redis: TestRedis | undefined;
  const members: TestMember[] = [];
  afterEach(async () => {
    for (const m of members.splice(0)) await stopWithin(() => m.stop());
    await redis?.stop();
    redis = undefined;
  });

  it('members buffer while Redis is down and resume: every sample processed once', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis(DURABLE);
    for (const id of ['a', 'b']) members.push(await startMember(redis.url, id));
    await until('balanced', () => members.every((m) => m.member.ownedPartitions.length === 32));
    const SERIES = 2000;
    const ROUNDS = 6;
    const t0 = Date.now() - ROUNDS * 60_000;
    const pending: Promise<void>[] = [];
    let sent = 0;
    for (let r = 0; r < ROUNDS; r++) {
      // Down for a while: the sends of this round wait in the members' buffers.
      if (r === 2) await redis.kill();
      for (let k = 0; k < 2; k++) {
        const chunk = Array.from({ length: SERIES / 2 }, (_, j) => ({ descriptor: descriptor(k * (SERIES / 2) + j), t: t0 + r * 60_000, v: r }));
        pending.push(members[k].send(`agent-${k}`, chunk));
        sent += chunk.length;
      }
      if (r === 2) {
        await until('the members noticed', () => members.every((m) => m.member.appender.counters.retries > 0), 30_000);
        expect(members.reduce((n, m) => n + m.member.appender.pending, 0)).toBeGreaterThan(0);
        await redis.relaunch();
      }
    }
    await Promise.all(pending);
    const processed = () => members.reduce((n, m) => n + m.member.totals().processed, 0);
    await until(`all ${sent} samples processed`, () => processed() >= sent, 120_000);
    let wrong = 0;
    for (let i = 0; i < SERIES; i++) {
      const key = seriesKey(descriptor(i));
      const where = members.map((m) => m.acceptedPerSeries.get(key) ?? 0);
      if (where.filter((c) => c > 0).length !== 1 || where.reduce((a, b) => a + b, 0) !== ROUNDS) wrong++;
    }
    expect(wrong).toBe(0);
    expect(processed()).toBe(sent);
    expect(members.reduce((n, m) => n + m.member.appender.counters.droppedBufferFull, 0)).toBe(0);
  }, 240_000);

  it('a member whose buffer bound is hit while Redis is down drops and counts, and the rest arrives', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis(DURABLE);
    const m = await startMember(redis.url, 'small', { maxBufferedSamples: 3000 });
    members.push(m);
    await until('owns everything', () => m.member.ownedPartitions.length === 64);
    const t0 = Date.now() - 60_000;
    const batch = (r: number) => Array.from({ length: 1000 }, (_, i) => ({ descriptor: descriptor(i), t: t0 + r * 1000, v: r }));
    await m.send('agent', batch(0));
    await redis.kill();
    // A batch over the bound is refused (the agent is not acknowledged and keeps it); the others wait for Redis.
    const waiting: Promise<string>[] = [];
    for (let r = 1; r <= 5; r++) waiting.push(m.send('agent', batch(r)).then(() => 'stored', () => 'refused'));
    await until('the bound is hit', () => m.member.appender.counters.droppedBufferFull > 0, 30_000);
    await redis.relaunch();
    expect(await Promise.all(waiting)).toEqual(['stored', 'stored', 'stored', 'refused', 'refused']);
    const dropped = m.member.appender.counters.droppedBufferFull;
    expect(dropped).toBe(2000); // 5 batches of 1000 against a bound of 3000
    await until('what was kept is processed', () => m.member.totals().processed >= 6000 - dropped, 120_000).catch(async (e) => {
      // Say where it stands: which partitions lag, in which state, and the counters.
      const st = await m.member.status();
      const stuck = st.owned.filter((o) => o.lag || o.state !== 'running').slice(0, 8);
      throw new Error(`${(e as Error).message}: ${JSON.stringify({ processed: st.processed, ingest: st.ingest, leases: st.leases, owned: st.owned.length, stuck })}`);
    });
    expect(m.member.totals().processed).toBe(6000 - dropped);
    expect((await m.member.status()).ingest.droppedBufferFull).toBe(2000);
  }, 240_000);
});
