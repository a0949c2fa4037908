/**
 * One correlator for the group (issue 22): three members, anomalies raised by the owners of
 * different partitions, one incident that every member's API lists, each notification delivered
 * once by the group, and a silence posted to one member that holds back another member's anomaly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '@sextant/plugin-api';
import { findBinary, needBinary } from '@sextant/testkit';
import { GroupIncidentView, GroupKeys, connectRedis, partitionOf } from '../src/index.js';
import { getJson, incidentsOf, latency, startGroupMember, startReceiver, TOKEN, type GroupMember, type Received } from './group-fixture.js';
import { startTestRedis, stopWithin, until, type TestRedis } from './redis-process.js';

const INSTALL = 'apt-get install redis-server';

describe('group correlation (real redis-server, three members in one process)', () => {
  let redis: TestRedis;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const members: GroupMember[] = [];
  beforeAll(async () => {
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis();
    receiver = await startReceiver();
    for (const id of ['a', 'b', 'c']) members.push(await startGroupMember(redis.url, id, receiver.url));
    await until('the partitions are spread over three members and one leads', () => members.every((m) => m.member.ownedPartitions.length >= 20) && members.filter((m) => m.member.correlation?.isLeader).length === 1, 90_000);
  }, 120_000);
  afterAll(async () => {
    for (const m of members) await stopWithin(() => m.stop());
    await receiver?.close();
    await redis?.stop();
  });

  /** A host whose `svc.latency` series of `service` lives in a partition `owner` holds. */
  const hostOwnedBy = (service: string, owner: GroupMember, skip: ReadonlySet<string> = new Set()): string => {
    for (let i = 0; i < 10_000; i++) {
      const host = `${service}-host-${i}`;
      if (!skip.has(host) && owner.member.ownedPartitions.includes(partitionOf(latency(service, host), 64))) return host;
    }
    throw new Error(`no host of ${service} in a partition of ${owner.id}`);
  };
  const keysOf = (rs: readonly Received[]) => rs.map((r) => r.key);

  it('anomalies owned by two members make one incident, listed alike by every member, each update notified once', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const [a, b, c] = members;
    const leader = members.find((m) => m.member.correlation!.isLeader)!;
    const hostA = hostOwnedBy('checkout', a);
    const hostB = hostOwnedBy('checkout', b);
    const t0 = Date.now() - 60_000;
    // Received by member c (an agent may connect to any member); analysed by a's and b's partitions.
    await c.send('agent-1', [0, 1, 2].flatMap((k) => [
      { descriptor: latency('checkout', hostA), t: t0 + k * 10_000, v: 900 },
      { descriptor: latency('checkout', hostB), t: t0 + k * 10_000 + 1, v: 950 },
    ]));
    await until('both owners raised anomalies', () => a.rt.runtime.pipeline.anomalies.query().length >= 3 && b.rt.runtime.pipeline.anomalies.query().length >= 3, 60_000);
    // Six anomalies from two owners reach the leader's correlator and are committed.
    const lead = () => leader.member.correlation!.status().lead;
    await until('the leader applied and committed every anomaly', async () => (lead()?.counters.anomalies ?? 0) >= 6 && lead()?.checkpointId === lead()?.appliedId && (await incidentsOf(c.api)).length > 0, 60_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; members: ${JSON.stringify(await Promise.all(members.map(async (m) => ({ id: m.id, correlation: m.member.correlation!.status(), incidents: (await incidentsOf(m.api)).map((i) => i.entities) }))))}`);
    });
    const lists = await Promise.all(members.map((m) => incidentsOf(m.api)));
    expect(lists[0]).toHaveLength(1);
    expect(lists[1]).toEqual(lists[0]);
    expect(lists[2]).toEqual(lists[0]);
    const incident = lists[0][0];
    const one = await getJson<{ incident: Incident }>(`${b.api}/api/v1/incidents/${incident.id}`);
    expect(one.status).toBe(200);
    expect(one.body.incident.id).toBe(incident.id);
    // Non-leaders run no correlator: only the leader committed anything.
    for (const m of members) expect(m.member.correlation!.status().lead !== undefined).toBe(m === leader);
    await until('the outbox is empty', async () => (leader.member.correlation!.status().lead?.outboxPending ?? 1) === 0 && receiver.received.length > 0, 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // anything duplicated would arrive meanwhile
    // Both hosts are the one entity service:checkout: one incident, opened once, one notification.
    expect(receiver.received.map((r) => [r.incident, r.change])).toEqual([[incident.id, 'opened']]);
    expect(new Set(keysOf(receiver.received)).size).toBe(receiver.received.length);
    // What went out, on a member that does not lead (its own outbox delivered nothing).
    const follower = members.find((m) => m !== leader)!;
    await until('the delivery is recorded for the group', async () => (await getJson<{ notifications: { outcome: string }[] }>(`${follower.api}/api/v1/incidents/${incident.id}/notifications`)).body.notifications.some((n) => n.outcome === 'delivered'), 30_000);
    const sent = await getJson<{ notifications: { notifier: string; sequence: number; outcome: string; attempts: number }[] }>(`${follower.api}/api/v1/incidents/${incident.id}/notifications`);
    expect(sent.body.notifications).toEqual([expect.objectContaining({ notifier: 'test-webhook/ops', sequence: 1, outcome: 'delivered', attempts: 1 })]);
    // GET /api/v1/cluster's figures: every member knows the leader.
    for (const m of members) expect((await m.member.status()).correlation?.leader).toBe(leader.id);
  }, 180_000);

  it('an unreadable entry on the correlation stream is skipped and counted; what follows is still correlated', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const [a, , c] = members;
    const leader = members.find((m) => m.member.correlation!.isLeader)!;
    const keys = leader.member.correlation!.keys;
    const link = leader.member.link;
    await link.call(keys.stream, ['XADD', keys.stream, '*', 'k', 'a', 'm', 'intruder', 'd', '{"not": "an anomaly"']);
    await link.call(keys.stream, ['XADD', keys.stream, '*', 'k', 'x', 'd', '{}']);
    const host = hostOwnedBy('inventory', a);
    await c.send('agent-3', [0, 1, 2].map((k) => ({ descriptor: latency('inventory', host), t: Date.now() + k * 1000, v: 3000 })));
    await until('the inventory incident exists', async () => (await incidentsOf(a.api)).some((i) => i.entities.includes('service:inventory')), 60_000);
    expect(leader.member.correlation!.status().lead!.counters.corrupt).toBe(2);
    leader.member.publishMetrics();
    const metrics = await (await fetch(`${leader.api}/metrics`)).text();
    expect(metrics).toMatch(/sextant_cluster_correlation_applied\{[^}]*kind="unreadable"[^}]*\} 2/);
    expect(metrics).toMatch(/sextant_cluster_leader\{member="[a-c]"\} 1/);
  }, 120_000);

  it('a silence posted to member a holds back the notifications of an anomaly member b owns', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const [a, b, c] = members;
    const before = receiver.received.length;
    const posted = await getJson<{ silence: { id: string } }>(`${a.api}/api/v1/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ match: { 'service.name': 'payments' }, duration: '1h', comment: 'payments migration' }),
    });
    expect(posted.status).toBe(201);
    const silenceId = posted.body.silence.id;
    // Every member lists it (stored in Redis, not in a's event log only).
    await until('every member lists the silence', async () => {
      for (const m of members) {
        const s = (await getJson<{ silences: { id: string; active: boolean }[] }>(`${m.api}/api/v1/silences`)).body.silences;
        if (!s.some((x) => x.id === silenceId && x.active)) return false;
      }
      return true;
    }, 30_000);
    // The synchronous view (GroupWindows.active(), refreshed every heartbeat) has it on member b too.
    await until('member b sees the silence in force', () => b.member.correlation!.windows.active(Date.now(), 'silence').some((w) => w.id === silenceId), 30_000);
    const host = hostOwnedBy('payments', b);
    // Stamped after the silence began (a window applies by the anomaly's time).
    const t0 = Date.now() + 1000;
    await c.send('agent-2', [0, 1, 2].map((k) => ({ descriptor: latency('payments', host), t: t0 + k * 1000, v: 2000 })));
    let held: Incident | undefined;
    await until('the payments incident exists, held back', async () => {
      held = (await incidentsOf(c.api)).find((i) => i.entities.includes('service:payments'));
      return held !== undefined;
    }, 60_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; members: ${JSON.stringify(await Promise.all(members.map(async (m) => ({ id: m.id, anomalies: m.rt.runtime.pipeline.anomalies.query().length, correlation: m.member.correlation!.status(), incidents: await incidentsOf(m.api) }))))}`);
    });
    expect(held!.suppressed.map((s) => s.reason)).toContain('silenced');
    const leader = members.find((m) => m.member.correlation!.isLeader)!;
    await until('the leader committed it', async () => (leader.member.correlation!.status().lead?.outboxPending ?? 1) === 0, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received.slice(before).filter((r) => r.incident === held!.id)).toEqual([]);
    await until('the held update is recorded', async () => (await getJson<{ notifications: { outcome: string }[] }>(`${a.api}/api/v1/incidents/${held!.id}/notifications`)).body.notifications.length > 0, 30_000);
    const rows = (await getJson<{ notifications: { outcome: string; notifier: string }[] }>(`${a.api}/api/v1/incidents/${held!.id}/notifications`)).body.notifications;
    expect(rows.every((r) => r.outcome === 'held' && r.notifier === 'test-webhook/ops')).toBe(true);
    // Ended early through a third member's API.
    const ended = await getJson<{ silence: { id: string; active: boolean; endedAt?: number } }>(`${c.api}/api/v1/silences/${silenceId}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ended.status).toBe(200);
    expect(ended.body.silence.active).toBe(false);
    await until('every member sees it ended', async () => {
      const s = (await getJson<{ silences: { id: string; active: boolean }[] }>(`${a.api}/api/v1/silences`)).body.silences;
      return s.some((x) => x.id === silenceId && !x.active);
    }, 30_000);
  }, 180_000);
});

describe('an invalid correlators section', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    if (findBinary('redis-server')) redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('refuses to start the member with CONFIG_INVALID naming the key, and leaves the group again', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const receiver = await startReceiver();
    try {
      await expect(startGroupMember(redis.url, 'bad', receiver.url, { correlators: { incidents: { groupWindow: 'soon' } } })).rejects.toThrow(/correlators\.incidents\.groupWindow/);
      const link = await connectRedis(redis.url);
      try {
        // Its partitions were released and it left the member list: nobody holds a lease.
        await until('no member is left', async () => Number(await link.call('{sextant}:members', ['ZCARD', '{sextant}:members'])) === 0, 30_000);
        expect(await link.call('{sextant:corr}:lease', ['GET', '{sextant:corr}:lease'])).toBeNull();
      } finally {
        link.destroy();
      }
    } finally {
      await receiver.close();
    }
  }, 120_000);
});

describe('the group keeps a week of ended silences', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    if (findBinary('redis-server')) redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('forgets windows ended before the cut, with their end events, and keeps the others', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const link = await connectRedis(redis.url);
    try {
      const view = new GroupIncidentView(link, new GroupKeys('prune'));
      const day = 86_400_000;
      const now = Date.now();
      const ev = (id: string, type: string, timestamp: number, attributes: Record<string, string | number>) => ({ id, type, title: id, timestamp, resource: { 'service.name': 'db' }, attributes, source: 'api' });
      await view.storeWindowEvent(ev('old', 'silence', now - 10 * day, { from: now - 10 * day, until: now - 9 * day }));
      await view.storeWindowEvent(ev('cut-short', 'maintenance', now - 10 * day, { from: now - 10 * day, until: now + day }));
      await view.storeWindowEvent(ev('cut-short-end', 'maintenance.end', now - 9 * day, { window: 'cut-short' }));
      await view.storeWindowEvent(ev('recent', 'silence', now - day, { from: now - day, until: now - day / 2 }));
      await view.storeWindowEvent(ev('running', 'silence', now, { from: now, until: now + day }));
      expect(await view.forgetEnded(now - 7 * day)).toBe(3);
      expect((await view.windowEvents()).map((e) => e.id).sort()).toEqual(['recent', 'running']);
    } finally {
      link.destroy();
    }
  });
});
