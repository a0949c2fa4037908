/**
 * A rolling restart under load: three members in child processes, each in turn stopped with
 * SIGTERM (a clean leave: checkpoint, release) and started again with the same member id while
 * samples keep arriving. Every sample is processed exactly once over all the incarnations, and
 * every member ends owning partitions. (Incidents and notifications through a rolling restart:
 * group-failover.test.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { SeriesRegistry } from '@sextant/runtime';
import { findBinary, needBinary } from '@sextant/testkit';
import { ClusterKeys, GroupSeriesRegistry, LocalSeriesMap, PartitionAppender, connectRedis, type RedisLink } from '../src/index.js';
import { spawnMember, type MemberProcess } from './member-process.js';
import { startTestRedis, until, type TestRedis } from './redis-process.js';

const INSTALL = 'apt-get install redis-server';
const SERIES = 1000;
const LEASE_MS = 10_000;

interface Status {
  owned: number;
  processed: number;
  duplicates: number;
  final?: boolean;
  counts?: Record<string, number>;
}

const descriptor = (n: number): SeriesDescriptor => ({ metric: 'jobs.queued', unit: '1', type: 'gauge', resource: { 'service.name': `svc-${n % 30}`, 'host.name': `h${n % 20}` }, attributes: { n } });

describe('rolling restart of every member under load (real redis-server, members in child processes)', () => {
  let redis: TestRedis | undefined;
  let link: RedisLink | undefined;
  const incarnations: MemberProcess[] = [];
  afterAll(async () => {
    for (const m of incarnations) await m.kill();
    link?.destroy();
    await redis?.stop();
  });

  const status = (m: MemberProcess) => m.last() as unknown as Status | undefined;
  const exited = (m: MemberProcess) => new Promise<void>((r) => (m.child.exitCode !== null || m.child.signalCode !== null ? r() : m.child.once('exit', () => r())));
  async function leave(m: MemberProcess): Promise<void> {
    const done = exited(m);
    m.child.kill('SIGTERM');
    await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
    if (!status(m)?.final) throw new Error(`a member did not leave cleanly on SIGTERM: ${m.output()}`);
  }

  it('each member stopped (SIGTERM) and started again in turn: every sample processed exactly once, every member owns partitions', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis();
    link = await connectRedis(redis.url);
    const env = (id: string) => ({ STORE_URL: redis!.url, MEMBER_ID: id, LEASE_MS: String(LEASE_MS) });
    const ids = ['r0', 'r1', 'r2'];
    const live = new Map<string, MemberProcess>();
    for (const id of ids) {
      const m = await spawnMember(env(id), 'rolling-member-child');
      incarnations.push(m);
      live.set(id, m);
    }
    const ownedNow = () => ids.map((id) => status(live.get(id)!)?.owned ?? 0);
    await until('three members share the partitions', () => ownedNow().reduce((a, b) => a + b, 0) === 64 && ownedNow().every((n) => n > 0), 120_000);

    // The load enters through an appender in this process (a receiving member that owns nothing).
    const keys = new ClusterKeys('sextant', 64);
    const local = new SeriesRegistry(SERIES * 2);
    const appender = new PartitionAppender({ link, keys, series: new LocalSeriesMap(local, 64), registry: new GroupSeriesRegistry(link, keys), memberId: 'receiver' });
    const seriesIds = Uint32Array.from({ length: SERIES }, (_, n) => local.intern(descriptor(n), 'agent'));
    const t0 = Date.now() - 3_600_000;
    let rounds = 0;
    let sending = true;
    const load = (async () => {
      while (sending) {
        const t = t0 + rounds * 1000;
        await appender.append({ length: SERIES, series: seriesIds, timestamps: new Float64Array(SERIES).fill(t), values: new Float64Array(SERIES).fill(rounds) }, 'agent');
        rounds++;
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    for (const id of ids) {
      await until(`${id} is working`, () => (status(live.get(id)!)?.processed ?? 0) > 0, 60_000);
      await leave(live.get(id)!);
      const again = await spawnMember(env(id), 'rolling-member-child');
      incarnations.push(again);
      live.set(id, again);
      await until(`${id} owns partitions again`, () => (status(again)?.owned ?? 0) > 0, 120_000);
    }
    sending = false;
    await load;
    const sent = rounds * SERIES;
    expect(appender.counters.appended).toBe(sent);
    expect(appender.counters.droppedBufferFull + appender.counters.droppedShutdown).toBe(0);

    const processed = () => incarnations.reduce((n, m) => n + (status(m)?.processed ?? 0), 0);
    await until(`all ${sent} samples processed`, () => processed() >= sent, 120_000).catch((e) => {
      throw new Error(`${(e as Error).message}: ${processed()} processed`);
    });
    // Every member ends owning partitions, and together all of them.
    await until('balanced again', () => ownedNow().reduce((a, b) => a + b, 0) === 64 && ownedNow().every((n) => n > 0), 120_000);
    for (const id of ids) await leave(live.get(id)!);

    const perSeries = new Map<string, number>();
    for (const m of incarnations) for (const [n, c] of Object.entries(status(m)!.counts!)) perSeries.set(n, (perSeries.get(n) ?? 0) + c);
    let wrong = 0;
    for (let n = 0; n < SERIES; n++) if (perSeries.get(String(n)) !== rounds) wrong++;
    expect(wrong).toBe(0);
    expect(incarnations.reduce((n, m) => n + status(m)!.processed, 0)).toBe(sent);
    expect(incarnations.length).toBe(6);
  }, 600_000);
});
