/**
 * An agent is acknowledged only once its samples are in Redis: a member in a child process is
 * SIGKILLed right after acknowledging batches while more are in flight; every acknowledged sample is
 * in the partition streams and is processed by the member that takes the partitions over. And a
 * member whose buffer bound is hit refuses the batch to the agent (retryable), which keeps it and
 * sends it again: nothing is acknowledged that was not stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { IngestClient, IngestServer } from '@sextant/protocol';
import { seriesKey } from '@sextant/runtime';
import { findBinary, needBinary } from '@sextant/testkit';
import { ClusterKeys, connectRedis, decodeSamples, type RedisLink } from '../src/index.js';
import { startMember, type TestMember } from './member-fixture.js';
import { spawnMember, type MemberProcess } from './member-process.js';
import { startTestRedis, stopWithin, until, type TestRedis } from './redis-process.js';

const INSTALL = 'apt-get install redis-server';
const TOKEN = 'cluster-ack-test-token-0123456789';
const LEASE_MS = 4000;
const SERIES = 2000;
const BATCH = 500;

const descriptor = (i: number): SeriesDescriptor => ({ metric: 'orders.rate', unit: '1/s', type: 'gauge', resource: { 'service.name': `svc${i % 40}` }, attributes: { n: i } });

describe('acknowledged only once in Redis (real redis-server, member in a child process)', () => {
  let redis: TestRedis;
  let link: RedisLink;
  let child: MemberProcess | undefined;
  let survivor: TestMember | undefined;
  const clients: IngestClient[] = [];
  beforeAll(async () => {
    if (!findBinary('redis-server')) return;
    redis = await startTestRedis();
    link = await connectRedis(redis.url);
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await child?.kill();
    if (survivor) await stopWithin(() => survivor!.stop());
    link?.destroy();
    await redis?.stop();
  });

  it('a member SIGKILLed right after acknowledging: every acknowledged sample is in Redis and processed by the next owner', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    // No checkpoint before the kill, so the streams still hold every entry the dead member appended.
    child = await spawnMember({ STORE_URL: redis.url, MEMBER_ID: 'doomed', LEASE_MS: String(LEASE_MS), CHECKPOINT_MS: '600000', TOKEN }, 'ingest-member-child');
    const status = () => child!.last() as unknown as { port: number; owned: number; appended: number } | undefined;
    await until('the child member owns every partition', () => status()?.owned === 64, 90_000).catch((e) => {
      throw new Error(`${(e as Error).message}; child said: ${child!.output()}`);
    });
    const client = new IngestClient({ address: `127.0.0.1:${status()!.port}`, insecure: true, token: TOKEN, sourceId: 'agent-1', backoff: { initialMs: 20, maxMs: 200 } });
    clients.push(client);
    const t0 = Date.now() - 3_600_000;
    // Batch b holds series (b * BATCH .. b * BATCH + BATCH - 1) % SERIES at time t0 + b s.
    const batchOf = (b: number) => {
      const series = new Uint32Array(BATCH);
      for (let j = 0; j < BATCH; j++) series[j] = (b * BATCH + j) % SERIES;
      return { length: BATCH, series, timestamps: new Float64Array(BATCH).fill(t0 + b * 1000), values: new Float64Array(BATCH).fill(b) };
    };
    const defs = Array.from({ length: SERIES }, (_, i) => ({ localId: i, descriptor: descriptor(i) }));
    client.send(defs);
    // Keep sending; kill the member as soon as it has acknowledged some batches, while others are in flight.
    let sent = 0;
    let ackedAtKill = 0;
    const giveUp = Date.now() + 60_000;
    while (ackedAtKill === 0) {
      for (let k = 0; k < 4; k++) client.send([], batchOf(sent++));
      await new Promise((r) => setTimeout(r, 2));
      // Message 1 carried the definitions; message 1 + b carries batch b.
      const acked = client.stats().acked - 1;
      if (acked >= 8 && sent > acked + 4) ackedAtKill = acked;
      if (Date.now() > giveUp) throw new Error(`no acknowledgement after ${sent} batches: ${JSON.stringify(client.stats())} ${child.output()}`);
    }
    await child.kill();
    const acked = Array.from({ length: ackedAtKill }, (_, b) => b);
    // 1. In Redis: every sample of every acknowledged batch is in a partition stream.
    const keys = new ClusterKeys('sextant', 64);
    const inRedis = new Set<string>();
    const indexKey = new Map<string, number>(); // `${p}:${index}` -> series number
    for (let p = 0; p < 64; p++) {
      const byIndex = await link.call<Record<string, string> | string[]>(keys.series(p), ['HGETALL', keys.series(p)]);
      const pairs = Array.isArray(byIndex) ? byIndex : Object.entries(byIndex).flat();
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const n = defs.findIndex((d) => seriesKey(d.descriptor) === pairs[i]);
        indexKey.set(`${p}:${pairs[i + 1]}`, n);
      }
      const entries = await link.callBuffers<[Buffer, Buffer[]][]>(keys.stream(p), ['XRANGE', keys.stream(p), '-', '+']);
      for (const [, fields] of entries) {
        const d = decodeSamples(fields[fields.findIndex((f) => f.toString() === 'd') + 1])!;
        for (let i = 0; i < d.length; i++) inRedis.add(`${indexKey.get(`${p}:${d.series[i]}`)}@${d.timestamps[i]}`);
      }
    }
    const missing = (has: (key: string) => boolean) => {
      let n = 0;
      for (const b of acked) {
        const batch = batchOf(b);
        for (let j = 0; j < BATCH; j++) if (!has(`${batch.series[j]}@${batch.timestamps[j]}`)) n++;
      }
      return n;
    };
    expect(ackedAtKill).toBeGreaterThan(0);
    expect(missing((k) => inRedis.has(k))).toBe(0);
    // 2. Processed: the member that takes the partitions over applies every acknowledged sample.
    survivor = await startMember(redis.url, 'survivor', { leaseMs: LEASE_MS, heartbeatMs: 400 });
    const processed = new Set<string>();
    const numberOf = new Map(defs.map((d) => [seriesKey(d.descriptor), d.localId]));
    survivor.rt.runtime.pipeline.observe((batch, registry) => {
      for (let i = 0; i < batch.length; i++) processed.add(`${numberOf.get(seriesKey(registry.describe(batch.series[i])!))}@${batch.timestamps[i]}`);
    });
    await until('the survivor processed every acknowledged sample', () => missing((k) => processed.has(k)) === 0, 120_000);
    // And nothing twice: what the streams hold is processed once.
    await until('the survivor processed the streams', () => survivor!.member.totals().processed >= inRedis.size, 120_000);
    expect(survivor.member.totals().processed).toBe(inRedis.size);
    expect(processed.size).toBe(inRedis.size);
  }, 300_000);

  it('a batch over the buffer bound is refused to the agent, which sends it again: sent == processed', async (ctx) => {
    needBinary(ctx, 'redis-server', INSTALL);
    const small = await startMember(redis.url, 'small', { group: 'bounded', maxBufferedSamples: 1500, leaseMs: LEASE_MS, heartbeatMs: 400 });
    try {
      await until('owns everything', () => small.member.ownedPartitions.length === 64);
      const server = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler: small.member.ingestHandler, maxSamplesPerSecondPerSource: 0 });
      try {
        const client = new IngestClient({ address: `127.0.0.1:${server.port}`, insecure: true, token: TOKEN, sourceId: 'agent-2', backoff: { initialMs: 20, maxMs: 100, jitter: 0 } });
        clients.push(client);
        const t0 = Date.now() - 3_600_000;
        const defs = Array.from({ length: 1000 }, (_, i) => ({ localId: i, descriptor: descriptor(10_000 + i) }));
        // Ten batches of 1000 at once against a bound of 1500: most are refused at first and sent again.
        for (let b = 0; b < 10; b++) client.send(b === 0 ? defs : [], { length: 1000, series: Uint32Array.from({ length: 1000 }, (_, i) => i), timestamps: new Float64Array(1000).fill(t0 + b * 1000), values: new Float64Array(1000).fill(b) });
        await until('every batch acknowledged', () => client.stats().acked === 10, 120_000);
        await until('every sample processed', () => small.member.totals().processed >= 10_000, 120_000);
        expect(small.member.totals().processed).toBe(10_000);
        expect(small.member.appender.counters.droppedBufferFull).toBeGreaterThan(0);
        expect(server.stats().rejected['queue-full']).toBeGreaterThan(0);
        expect(client.stats().dropped['buffer-full'] + client.stats().dropped.rejected).toBe(0);
      } finally {
        await server.shutdown(500);
      }
    } finally {
      await stopWithin(() => small.stop());
    }
  }, 300_000);
});
