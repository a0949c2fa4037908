/**
 * A member answers like a single server for the group's detectors: peers meet in one partition,
 * events and maintenance windows reach every member's partition detectors, and any member's API
 * serves the expectation bands, feedback and detector statuses of partitions another member owns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { ApiServer, seriesKey } from '@sextant/runtime';
import { findBinary, needBinary } from '@sextant/testkit';
import { partitionOf } from '../src/index.js';
import { startTestRedis, stopWithin, until, type TestRedis } from './redis-process.js';
import { startMember, type TestMember } from './member-fixture.js';

const INSTALL = 'apt-get install redis-server';
const TOKEN = 'member-detectors-test-token';
const STEP = 10_000;

interface ApiMember extends TestMember {
  readonly api: ApiServer;
  readonly url: string;
}

async function call(m: ApiMember, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${m.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() };
}

describe('partition detectors seen from any member (real redis-server, 3 members with their APIs)', () => {
  let redis: TestRedis;
  const members: ApiMember[] = [];
  const [a, b] = [0, 1];

  const processed = () => members.reduce((n, m) => n + m.member.totals().processed, 0);
  const appended = () => members.reduce((n, m) => n + m.member.appender.counters.appended, 0);
  const settle = () => until('every appended sample processed', () => processed() >= appended() && members.every((m) => m.member.appender.pending === 0), 60_000);
  /** A service name whose series (one container, this metric) land in a partition `owner` holds. */
  const ownedBy = (owner: number, prefix: string, metric = 'app.latency'): string => {
    for (let i = 0; ; i++) {
      const name = `${prefix}-${i}`;
      if (members[owner].member.ownedPartitions.includes(partitionOf({ metric, resource: { 'container.id': 'c1', 'service.name': name }, attributes: {} }, 64))) return name;
    }
  };

  beforeAll(async () => {
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis();
    for (const id of ['a', 'b', 'c']) {
      // peer-outlier first: it models no expectation, so the bands must still come from the baseline (as on one server).
      // With the group's correlation (as `sextant server --store` runs): silences and maintenance windows in Redis, so any member's API ends any window.
      const m = await startMember(redis.url, id, { detectors: { 'peer-outlier': {}, baseline: {} }, correlators: {}, leaseMs: 30_000, heartbeatMs: 500 });
      const api = new ApiServer(m.rt.runtime, { host: '127.0.0.1', port: 0, token: TOKEN, logger: m.rt.runtime.logger });
      const { url } = await api.listen();
      await m.member.serveApi(api, url);
      members.push({ ...m, api, url });
    }
    await until('64 partitions balanced over 3 members', () => {
      const owned = members.map((m) => m.member.ownedPartitions.length);
      return owned.reduce((x, y) => x + y, 0) === 64 && owned.every((n) => n > 0 && n <= 22);
    });
  }, 120_000);

  afterAll(async () => {
    for (const m of members) {
      await stopWithin(() => m.api.close());
      await stopWithin(() => m.stop());
    }
    await redis?.stop();
  });

  it('10 replicas of a service sent to three members meet in one partition: the deviating replica is flagged by peer-outlier', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const replicas: SeriesDescriptor[] = Array.from({ length: 10 }, (_, i) => ({ metric: 'container.cpu.usage', unit: '1', type: 'gauge', resource: { 'container.id': `checkout-${i}`, 'service.name': 'checkout', 'host.name': `host-${i % 3}` }, attributes: {} }));
    const t0 = Date.now() - 20 * STEP;
    for (let r = 0; r < 16; r++) {
      for (let k = 0; k < 3; k++) {
        // Each agent (member) reports the replicas on its hosts.
        const mine = replicas.map((d, i) => ({ d, i })).filter(({ i }) => i % 3 === k);
        await members[k].send(`agent-${k}`, mine.map(({ d, i }) => ({ descriptor: d, t: t0 + r * STEP, v: i === 7 && r >= 4 ? 200 : 50 + (i % 3) * 0.5 })));
      }
    }
    await settle();
    // Every replica was applied by one and the same member.
    const where = replicas.map((d) => members.findIndex((m) => (m.acceptedPerSeries.get(seriesKey(d)) ?? 0) > 0));
    expect(new Set(where).size).toBe(1);
    const owner = members[where[0]];
    const flagged = () => owner.rt.runtime.pipeline.anomalies.query({ where: (x) => x.detector === 'peer-outlier' });
    await until('a peer-outlier anomaly', () => flagged().length > 0, 30_000);
    expect(new Set(flagged().map((x) => x.resource['container.id']))).toEqual(new Set(['checkout-7']));
  }, 120_000);

  it('a maintenance window posted to member A pauses learning for a series member B owns', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const paused = ownedBy(b, 'shop');
    const control = ownedBy(b, 'control');
    const series = (service: string): SeriesDescriptor => ({ metric: 'app.latency', unit: 'ms', type: 'gauge', resource: { 'container.id': 'c1', 'service.name': service }, attributes: {} });
    const t0 = Date.now() - 200 * STEP;
    const send = async (from: number, to: number, value: (r: number) => number) => {
      for (let r = from; r < to; r++) await members[a].send('agent-a', [paused, control].map((s) => ({ descriptor: series(s), t: t0 + r * STEP, v: value(r) })));
      await settle();
    };
    await send(0, 60, (r) => 100 + (r % 2));
    const baseline = members[b].member.detectors.proxy('baseline');
    const idOnB = (s: string) => members[b].rt.runtime.registry.lookup(series(s))!;
    const before = { paused: baseline.expectation(idOnB(paused))!.expected, control: baseline.expectation(idOnB(control))!.expected };

    const posted = await call(members[a], 'POST', '/api/v1/maintenance', { match: { 'service.name': paused }, duration: '2h', comment: 'disk swap' });
    expect(posted.status).toBe(201);
    await until('member B knows the window', () => members[b].member.events.remoteWindows.some((w) => w.match['service.name'] === paused), 20_000);
    await send(60, 80, () => 0);
    const after = { paused: baseline.expectation(idOnB(paused))!.expected, control: baseline.expectation(idOnB(control))!.expected };
    // Twenty zeros moved the control's expectation; the paused series learned nothing from them.
    expect(before.control - after.control).toBeGreaterThan(5);
    expect(Math.abs(after.paused - before.paused)).toBeLessThan(1);

    // Ending the window early on member A resumes learning on B.
    const ended = await call(members[a], 'DELETE', `/api/v1/maintenance/${posted.json.maintenance.id}`);
    expect(ended.status).toBe(200);
    await until('member B ended the window', () => !members[b].member.events.remoteWindows.some((w) => w.match['service.name'] === paused), 20_000);
    await send(80, 100, () => 0);
    expect(before.paused - baseline.expectation(idOnB(paused))!.expected).toBeGreaterThan(5);
  }, 180_000);

  it('a maintenance window posted to member B and ended on member A resumes learning on both', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const service = ownedBy(b, 'batch');
    const paused = (m: ApiMember) => m.member.detectors.proxy('baseline').pausedMatches.some((x) => x['service.name'] === service);
    const posted = await call(members[b], 'POST', '/api/v1/maintenance', { match: { 'service.name': service }, duration: '1h' });
    expect(posted.status).toBe(201);
    // B's pipeline paused its own detectors at once; A and C learn of it from the group.
    expect(paused(members[b])).toBe(true);
    await until('every member paused', () => members.every(paused), 20_000);
    const ended = await call(members[a], 'DELETE', `/api/v1/maintenance/${posted.json.maintenance.id}`);
    expect(ended.status).toBe(200);
    await until('every member resumed', () => members.every((m) => !paused(m)), 20_000);
  }, 60_000);

  it('member A serves the band of a series member B owns, feedback posted to A reaches B, and every member lists the detectors', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const service = ownedBy(b, 'api');
    const d: SeriesDescriptor = { metric: 'app.latency', unit: 'ms', type: 'gauge', resource: { 'container.id': 'c1', 'service.name': service }, attributes: {} };
    const t0 = Date.now() - 100 * STEP;
    for (let r = 0; r < 40; r++) await members[a].send('agent-a', [{ descriptor: d, t: t0 + r * STEP, v: 20 + (r % 3) }]);
    await settle();
    const idOnA = members[a].rt.runtime.registry.lookup(d)!;
    const idOnB = members[b].rt.runtime.registry.lookup(d)!;
    // B models it; A does not run that partition.
    expect(members[a].member.ownedPartitions).not.toContain(partitionOf(d, 64));
    const onB = await call(members[b], 'GET', `/api/v1/series/${idOnB}/samples`);
    expect(onB.json.expectation).toMatchObject({ state: expect.any(String), expected: expect.any(Number) });
    // B stored the samples with their bands; A has none of them and answers with B's.
    expect(onB.json.samples).toHaveLength(40);
    expect(onB.json.samples.filter((p: { lower?: number; upper?: number }) => p.lower !== undefined && p.upper !== undefined).length).toBeGreaterThan(30);
    expect(members[a].rt.runtime.store.read(idOnA)).toHaveLength(0);
    const onA = await call(members[a], 'GET', `/api/v1/series/${idOnA}/samples`);
    expect(onA.status).toBe(200);
    expect(onA.json.expectation).toEqual(onB.json.expectation);
    expect(onA.json.samples).toEqual(onB.json.samples);
    const window = await call(members[a], 'GET', `/api/v1/series/${idOnA}/samples?from=${t0 + 30 * STEP}`);
    expect(window.json.samples).toHaveLength(10);
    const listed = await call(members[a], 'GET', `/api/v1/series?service.name=${service}`);
    expect(listed.json.series[0].expectation).toEqual(onB.json.expectation);

    const fb = await call(members[a], 'POST', '/api/v1/feedback', { verdict: 'not-a-problem', series: idOnA, timestamp: t0 + 39 * STEP });
    expect(fb.status).toBe(201);
    expect(fb.json.feedback).toEqual([{ detector: 'baseline', series: idOnA, threshold: expect.any(Number) }]);
    // B's baseline instance kept the record (in B's series ids).
    const log = await call(members[b], 'GET', '/api/v1/feedback');
    expect(log.json.feedback).toContainEqual(expect.objectContaining({ detector: 'baseline', series: idOnB, verdict: 'not-a-problem', thresholdAfter: fb.json.feedback[0].threshold }));
    // ... and every member lists it, in its own series ids.
    const logOnA = await call(members[a], 'GET', '/api/v1/feedback');
    expect(logOnA.json.feedback).toContainEqual(expect.objectContaining({ detector: 'baseline', series: idOnA, verdict: 'not-a-problem', thresholdAfter: fb.json.feedback[0].threshold }));
    const logOnC = await call(members[2], 'GET', '/api/v1/feedback');
    const idOnC = members[2].rt.runtime.registry.lookup(d);
    expect(idOnC).toBeDefined();
    expect(logOnC.json.feedback.filter((r: { verdict: string }) => r.verdict === 'not-a-problem')).toEqual([expect.objectContaining({ detector: 'baseline', series: idOnC })]);

    for (const m of members) {
      const plugins = await call(m, 'GET', '/api/v1/plugins');
      const detectors = plugins.json.instances.filter((s: { kind: string }) => s.kind === 'detector');
      expect(detectors.map((s: { id: string }) => s.id).sort()).toEqual(['baseline', 'peer-outlier']);
      for (const s of detectors) {
        expect(s.state).toBe('ok');
        expect(s.message).toMatch(/64 of 64 partitions running on 3 member/);
      }
    }
  }, 120_000);

  it('refuses what does not belong: internal endpoints without the group\'s secret, a member with another partition count', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const refused = members[b].member.api.counters.refused;
    for (const [method, path] of [['GET', 'expectations?series=1'], ['GET', 'samples?series=1'], ['POST', 'feedback?detector=baseline&series=1&verdict=missed-here&timestamp=1']]) {
      const res = await fetch(`${members[b].url}/api/v1/cluster/internal/${path}`, { method, headers: { 'x-sextant-group-secret': 'guess' } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SEXTANT_ERR_UNAUTHORIZED');
    }
    expect(members[b].member.api.counters.refused).toBe(refused + 3);
    await expect(startMember(redis.url, 'd', { partitions: 32 })).rejects.toMatchObject({ code: 'SEXTANT_ERR_CONFIG_INVALID', message: expect.stringMatching(/partitions=64.*partitions=32/) });
  }, 60_000);

  it('a partition taken over gets the group\'s recent events: a deploy announced before keeps peer-outlier quiet on the new owner (stops member C)', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const c = 2;
    const metric = 'container.memory.usage';
    const inPartitionOf = (owner: number, prefix: string) => {
      for (let i = 0; ; i++) {
        const name = `${prefix}-${i}`;
        if (members[owner].member.ownedPartitions.includes(partitionOf({ metric, resource: { 'container.id': 'x', 'service.name': name }, attributes: {} }, 64))) return name;
      }
    };
    const deployed = inPartitionOf(c, 'deployed');
    const control = inPartitionOf(c, 'steady');
    const t0 = Date.now() - 30 * STEP;
    // The deploy reaches C's instances now; A and B have no instance of that partition yet.
    expect((await call(members[a], 'POST', '/api/v1/events', { type: 'deploy', title: `deploy ${deployed} 2.0`, timestamp: t0, resource: { 'service.name': deployed } })).status).toBe(201);
    await until('C has the deploy', () => members[c].member.events.recentEvents().some((r) => r.event.resource['service.name'] === deployed), 20_000);
    await stopWithin(() => members[c].member.stop());
    await until('A and B own every partition', () => members[a].member.ownedPartitions.length + members[b].member.ownedPartitions.length === 64, 60_000);
    const replicas = (service: string): SeriesDescriptor[] => Array.from({ length: 8 }, (_, i) => ({ metric, unit: 'By', type: 'gauge', resource: { 'container.id': `${service}-${i}`, 'service.name': service }, attributes: {} }));
    for (let r = 0; r < 16; r++) {
      const round = [deployed, control].flatMap((svc) => replicas(svc).map((d, i) => ({ descriptor: d, t: t0 + (r + 1) * STEP, v: i === 3 && r >= 4 ? 900 : 100 + (i % 2) })));
      await members[a].send('agent-a', round);
    }
    await settle();
    const flagged = (svc: string) => [a, b].flatMap((k) => members[k].rt.runtime.pipeline.anomalies.query({ where: (x) => x.detector === 'peer-outlier' && x.resource['service.name'] === svc }));
    await until('the control service\'s outlier is flagged', () => flagged(control).length > 0, 30_000);
    // Within the deploy's quiet period (5 min of data time) on the new owner too.
    expect(flagged(deployed)).toEqual([]);
  }, 180_000);

  it('a member that joins after the events stream lost a window still pauses learning for it (the group\'s record of windows)', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const posted = await call(members[a], 'POST', '/api/v1/maintenance', { match: { 'service.name': 'archive' }, duration: '1h' });
    expect(posted.status).toBe(201);
    await until('B has the window', () => members[b].member.events.remoteWindows.some((w) => w.id === posted.json.maintenance.id), 20_000);
    // The stream keeps ~10,000 entries: here it lost everything before the new member reads it.
    await members[a].member.link.call('{sextant}:detector-events', ['XTRIM', '{sextant}:detector-events', 'MAXLEN', '0']);
    const late = await startMember(redis.url, 'd', { detectors: { 'peer-outlier': {}, baseline: {} }, correlators: {}, leaseMs: 30_000, heartbeatMs: 500 });
    try {
      await until('the new member paused', () => late.member.detectors.proxy('baseline').pausedMatches.some((m) => m['service.name'] === 'archive'), 20_000);
      expect(await call(members[a], 'DELETE', `/api/v1/maintenance/${posted.json.maintenance.id}`)).toMatchObject({ status: 200 });
      await until('the new member resumed', () => !late.member.detectors.proxy('baseline').pausedMatches.some((m) => m['service.name'] === 'archive'), 20_000);
    } finally {
      await stopWithin(() => late.stop());
    }
  }, 90_000);
});
