/**
 * Group correlation through faults (issue 22), members in child processes: the leader SIGKILLed
 * while anomalies flow (another member leads, no incident duplicated, every notification delivered
 * once), then a rolling restart of every member (no incident reopened, no notification repeated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '@sextant/plugin-api';
import { SeriesRegistry } from '@sextant/runtime';
import { findBinary, needBinary } from '@sextant/testkit';
import { ClusterKeys, GroupIncidentView, GroupKeys, GroupSeriesRegistry, LocalSeriesMap, PartitionAppender, connectRedis, type RedisLink } from '../src/index.js';
import { latency, startReceiver, type Received } from './group-fixture.js';
import { spawnMember, type MemberProcess } from './member-process.js';
import { startTestRedis, until, type TestRedis } from './redis-process.js';

const INSTALL = 'apt-get install redis-server';
const LEASE_MS = 5000;

interface ChildStatus {
  owned: number;
  leader: string | null;
  isLeader: boolean;
  anomalies: number;
  commits: number;
}

describe('group correlation through a leader crash and a rolling restart (real redis-server, members in child processes)', () => {
  let redis: TestRedis;
  let link: RedisLink;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const children = new Map<string, MemberProcess>();
  const gkeys = new GroupKeys('sextant');
  let view: GroupIncidentView;
  let appender: PartitionAppender;
  const local = new SeriesRegistry(10_000);
  beforeAll(async () => {
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis();
    link = await connectRedis(redis.url);
    receiver = await startReceiver();
    view = new GroupIncidentView(link, gkeys);
    const keys = new ClusterKeys('sextant', 64);
    // What an agent-facing member does with a received batch (the test is the agent and that member).
    appender = new PartitionAppender({ link, keys, series: new LocalSeriesMap(local, 64), registry: new GroupSeriesRegistry(link, keys), memberId: 'receiver' });
  });
  afterAll(async () => {
    for (const c of children.values()) await c.kill();
    await appender?.close().catch(() => undefined);
    link?.destroy();
    await receiver?.close();
    await redis?.stop();
  });

  const spawn = async (id: string) => {
    const c = await spawnMember({ STORE_URL: redis.url, MEMBER_ID: id, LEASE_MS: String(LEASE_MS), HOOK_URL: receiver.url }, 'group-member-child');
    children.set(id, c);
    return c;
  };
  const status = (id: string) => children.get(id)?.last() as ChildStatus | undefined;
  const leaderNow = async () => (await link.call<string | null>(gkeys.lease, ['GET', gkeys.lease])) ?? undefined;
  /** Two breaching samples of service `svc-<i>` on its own host: one incident per service. */
  // Recent (the correlator resolves incidents quiet for 10 min by its clock), one second apart per service.
  const T0 = Date.now();
  const sendService = async (i: number, round = 0) => {
    const d = latency(`svc-${i}`, `host-${i}`);
    const id = local.intern(d, 'agent');
    const t = T0 + i * 1000 + round * 10;
    await appender.append({ length: 2, series: new Uint32Array([id, id]), timestamps: Float64Array.from([t, t + 1]), values: Float64Array.from([2000, 2100]) }, 'agent');
  };
  const incidentsByService = async () => {
    const by = new Map<string, Incident[]>();
    for (const inc of await view.incidents()) for (const e of inc.entities) by.set(e, [...(by.get(e) ?? []), inc]);
    return by;
  };
  const outboxSize = async () => Number(await link.call(gkeys.outbox, ['HLEN', gkeys.outbox]));
  /** Every service has its one incident, and every notification left the outbox. */
  const settled = (services: number) => async () => {
    const by = await incidentsByService();
    for (let i = 0; i < services; i++) if (!by.has(`service:svc-${i}`)) return false;
    return (await outboxSize()) === 0 && receiver.received.length >= services;
  };
  let killedAt = 0;
  let killed = '';
  /**
   * One incident per service, opened once, and every update's notification received: exactly once,
   * except the at-least-once window of a SIGKILL: an update the killed leader delivered before it
   * died but could not yet delete from the outbox is delivered again, with the same idempotency key,
   * by its successor (a receiver drops it by that key). Returns how many such repeats there were.
   */
  const checkOnceEach = async (services: number): Promise<number> => {
    const by = await incidentsByService();
    for (let i = 0; i < services; i++) expect(by.get(`service:svc-${i}`), `svc-${i}`).toHaveLength(1);
    const copies = new Map<string, Received[]>();
    for (const r of receiver.received) copies.set(r.key, [...(copies.get(r.key) ?? []), r]);
    let repeats = 0;
    for (const [key, list] of copies) {
      if (list.length === 1) continue;
      repeats += list.length - 1;
      const fromKilled = list.filter((r) => r.member === killed && r.at <= killedAt);
      expect(list.length, `${key} received ${list.length} times: ${JSON.stringify(list)} (kill of ${killed} at ${killedAt})`).toBe(2);
      expect(fromKilled, `${key}: only an update the killed leader delivered may be delivered again: ${JSON.stringify(list)}`).toHaveLength(1);
    }
    const opened = [...copies.values()].filter((l) => l[0].change === 'opened').map((l) => l[0].incident);
    expect(opened.length).toBe(services);
    expect(receiver.received.filter((r) => r.reason.startsWith('reopened'))).toEqual([]);
    return repeats;
  };

  it('SIGKILL of the leader while anomalies flow: another member leads, no incident duplicated, each notification delivered once', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    for (const id of ['m1', 'm2', 'm3']) await spawn(id);
    await until('three members share the partitions and agree on a leader', () => {
      const s = ['m1', 'm2', 'm3'].map(status);
      return s.every((x) => x && x.owned >= 15 && x.leader) && new Set(s.map((x) => x!.leader)).size === 1;
    }, 120_000).catch((e) => {
      throw new Error(`${(e as Error).message}; ${[...children.values()].map((c) => c.output()).join('\n')}`);
    });
    const first = (await leaderNow())!;
    let next = 0;
    for (; next < 15; next++) await sendService(next);
    await until('the first incidents are committed', async () => (await view.incidents()).length >= 5, 60_000);
    // Kill while the flow goes on: some anomalies are in the stream, some not yet raised.
    const flowing = (async () => {
      for (; next < 40; next++) {
        await sendService(next);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    killedAt = Date.now();
    killed = first;
    await children.get(first)!.kill();
    children.delete(first);
    let tookOverMs = 0;
    await until('another member leads', async () => {
      const l = await leaderNow();
      if (l && l !== first) tookOverMs = Date.now() - killedAt;
      return l !== undefined && l !== first;
    }, 60_000);
    await flowing;
    console.log(`group-failover: leader ${first} SIGKILLed; another led after ${tookOverMs} ms (lease ${LEASE_MS} ms)`);
    await until('every service has its incident and the outbox is empty', settled(40), 120_000).catch(async (e) => {
      const by = await incidentsByService();
      const missing = Array.from({ length: 40 }, (_, i) => `service:svc-${i}`).filter((s) => !by.has(s));
      const kinds = new Map<string, number>();
      for (const r of receiver.received) kinds.set(`${r.change} ${r.reason.slice(0, 30)}`, (kinds.get(`${r.change} ${r.reason.slice(0, 30)}`) ?? 0) + 1);
      throw new Error(`${(e as Error).message}; incidents ${(await view.incidents()).length} (missing ${missing.join(' ')}; entities ${JSON.stringify((await view.incidents()).map((i) => i.entities))}), outbox ${await outboxSize()}, received ${receiver.received.length}: ${JSON.stringify([...kinds])}; ${[...children.values()].map((c) => c.output()).join('\n').slice(-3000)}`);
    });
    await new Promise((r) => setTimeout(r, 2000)); // a duplicate would arrive meanwhile
    const repeats = await checkOnceEach(40);
    console.log(`group-failover: ${receiver.received.length} notifications for 40 incidents, ${repeats} delivered again after the kill (same idempotency key)`);
    // Spawned again under its id, it joins as a follower.
    await spawn(first);
    await until('the restarted member owns partitions', () => (status(first)?.owned ?? 0) > 0, 120_000);
  }, 400_000);

  it('rolling restart of every member: no incident reopened, no notification repeated', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const before = receiver.received.length;
    let next = 40;
    for (const id of [...children.keys()].sort()) {
      const c = children.get(id)!;
      const exited = new Promise<void>((r) => c.child.once('exit', () => r()));
      c.child.kill('SIGTERM');
      await exited;
      children.delete(id);
      // Anomalies keep coming meanwhile: more on open incidents, and new services.
      for (let i = 0; i < 5; i++) await sendService(i, 1 + next);
      await sendService(next++);
      await spawn(id);
      await until(`${id} is back and owns partitions`, () => (status(id)?.owned ?? 0) > 0, 120_000);
    }
    await until('every service has its incident and the outbox is empty', settled(next), 120_000);
    await new Promise((r) => setTimeout(r, 2000));
    await checkOnceEach(next);
    // Clean restarts hand over without any repeat: exactly the new incidents' notifications arrived.
    expect(receiver.received.slice(before).map((r) => r.key).sort()).toEqual([...new Set(receiver.received.slice(before).map((r) => r.key))].sort());
    expect(receiver.received.length - before).toBe(next - 40);
    // Still open, never resolved and opened again.
    for (const inc of await view.incidents()) expect(inc.status).toBe('open');
  }, 400_000);
});
