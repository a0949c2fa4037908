/**
 * Learned state survives a SIGKILL: a member in a child process learns a series' baseline and
 * checkpoints it; it is killed; the member that takes the partition over restores the checkpoint,
 * replays what came after it exactly once, and raises the spike the dead member would have raised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { SeriesRegistry, seriesKey } from '@sextant/runtime';
import { findBinary, needBinary } from '@sextant/testkit';
import { ClusterKeys, GroupSeriesRegistry, LocalSeriesMap, PartitionAppender, compareStreamIds, connectRedis, decodeSamples, partitionOf, type RedisLink } from '../src/index.js';
import { startMember, type TestMember } from './member-fixture.js';
import { spawnMember, type MemberProcess } from './member-process.js';
import { startTestRedis, stopWithin, until, type TestRedis } from './redis-process.js';

const INSTALL = 'apt-get install redis-server';
const LEASE_MS = 5000;

describe('take-over after SIGKILL (real redis-server, member in a child process)', () => {
  let redis: TestRedis;
  let link: RedisLink;
  let child: MemberProcess | undefined;
  let survivor: TestMember | undefined;
  beforeAll(async () => {
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis();
    link = await connectRedis(redis.url);
  });
  afterAll(async () => {
    await child?.kill();
    if (survivor) await stopWithin(() => survivor!.stop());
    link?.destroy();
    await redis?.stop();
  });

  it('the new owner restores the learned baseline, replays after the checkpoint once, and raises the spike', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const keys = new ClusterKeys('sextant', 64);
    child = await spawnMember({ STORE_URL: redis.url, MEMBER_ID: 'doomed', LEASE_MS: String(LEASE_MS), CHECKPOINT_MS: '1000' });
    await until('the child member owns every partition', () => child!.last()?.owned === 64, 90_000).catch((e) => {
      throw new Error(`${(e as Error).message}; child said: ${child!.output()}`);
    });
    // An agent-facing member that owns nothing: just the appender, as a receiving member uses it.
    const local = new SeriesRegistry(1000);
    const appender = new PartitionAppender({ link, keys, series: new LocalSeriesMap(local, 64), registry: new GroupSeriesRegistry(link, keys), memberId: 'receiver' });
    const latency: SeriesDescriptor = { metric: 'checkout.latency', unit: 'ms', type: 'gauge', resource: { 'service.name': 'checkout', 'host.name': 'web-1' }, attributes: {} };
    const id = local.intern(latency, 'agent');
    const p = partitionOf(latency, 64);
    const stream = keys.stream(p);
    const send = (t: number[], v: number[]) => appender.append({ length: t.length, series: new Uint32Array(t.length).fill(id), timestamps: Float64Array.from(t), values: Float64Array.from(v) }, 'agent');
    // Three days every 10 minutes (the baseline trusts a series after two days and 250 samples).
    const STEP = 600_000;
    const t0 = Date.now() - 3 * 86_400_000 - 2 * 3_600_000; // the last sample (the spike) is still in the past
    const normal = (i: number) => 100 + 4 * Math.sin(i / 9) + ((i * 7919) % 13) / 6.5 - 1;
    const history = 432;
    for (let i = 0; i < history; i += 24) {
      const n = Math.min(24, history - i);
      await send(Array.from({ length: n }, (_, k) => t0 + (i + k) * STEP), Array.from({ length: n }, (_, k) => normal(i + k)));
    }
    const lastId = async () => String(((await link.call<unknown[][]>(stream, ['XREVRANGE', stream, '+', '-', 'COUNT', '1']))[0] ?? [])[0]);
    const checkpointAt = async () => String((await link.call<string | null>(keys.checkpoint(p), ['HGET', keys.checkpoint(p), 'at'])) ?? '0-0');
    const learnedUpTo = await lastId();
    await until('the child checkpointed the whole history', async () => compareStreamIds(await checkpointAt(), learnedUpTo) >= 0, 90_000);
    // A few more after that checkpoint, then the kill: these are replayed by the next owner.
    for (let i = history; i < history + 6; i++) await send([t0 + i * STEP], [normal(i)]);
    await until('the child applied them', () => (child!.last()?.processed ?? 0) >= history + 6, 60_000);
    await child.kill();
    expect(child.last()!.anomalies).toBe(0);
    // What the next owner must replay: the samples in entries after the dead member's last checkpoint.
    const at = await checkpointAt();
    const entries = await link.callBuffers<[Buffer, Buffer[]][]>(stream, ['XRANGE', stream, '-', '+']);
    let replay = 0;
    for (const [eid, fields] of entries) {
      if (compareStreamIds(eid.toString(), at) <= 0) continue;
      const d = fields[fields.findIndex((f) => f.toString() === 'd') + 1];
      replay += decodeSamples(d)!.length;
    }
    // The replay alone is far too short to trust a series (250 samples over two days): an alert needs the restored state.
    expect(replay).toBeGreaterThan(0);
    expect(replay).toBeLessThan(50);
    survivor = await startMember(redis.url, 'survivor', { detectors: { baseline: {} }, leaseMs: LEASE_MS, heartbeatMs: 500 });
    await until('the survivor owns the partition after the dead lease expired', () => survivor!.member.ownedPartitions.includes(p), 90_000);
    await until('the survivor replayed', () => survivor!.member.totals().processed >= replay, 60_000);
    const spikeAt = t0 + (history + 6) * STEP;
    await send([spikeAt], [900]);
    await until('the survivor raised the spike', () => survivor!.rt.runtime.pipeline.anomalies.query().some((a) => a.metric === 'checkout.latency'), 60_000);
    const anomaly = survivor.rt.runtime.pipeline.anomalies.query().find((a) => a.metric === 'checkout.latency')!;
    expect(anomaly.timestamp).toBe(spikeAt);
    expect(anomaly.kind).toBe('spike');
    // Nothing applied twice: the replay after the checkpoint plus the spike, and no sample of the history again.
    expect(survivor.acceptedPerSeries.get(seriesKey(latency))).toBe(replay + 1);
    expect(survivor.member.totals().duplicates).toBe(0);
  }, 300_000);
});
