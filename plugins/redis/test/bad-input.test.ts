import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, startCollector, type CollectorHarness } from '@sextant/testkit';
import { redisCollectorFactory } from '../src/index.js';
import { startMisbehavingRedisServer, type MisbehavingRedisServer } from './misbehaving-redis-server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(info: string, clock = new FakeClock(Date.UTC(2026, 0, 1))): Promise<{ fake: MisbehavingRedisServer; h: CollectorHarness; clock: FakeClock }> {
  const fake = await startMisbehavingRedisServer(info);
  cleanups.push(() => fake.close());
  const h = await startCollector(redisCollectorFactory, { config: { url: `redis://127.0.0.1:${fake.port}`, timeout: '2s' }, clock, intervalMs: 1000 });
  cleanups.push(() => h.shutdown());
  return { fake, h, clock };
}

describe('redis collector with a misbehaving server', () => {
  it('drops NaN, infinite, negative and non-numeric values with a counter and keeps the rest', async () => {
    const { h } = await setup(
      [
        '# Memory',
        'used_memory:-5',
        'maxmemory:nan',
        'used_memory_rss:4096',
        '# Clients',
        'connected_clients:1e400',
        'blocked_clients:2',
        'this line is not redis',
        '# Keyspace',
        'db0:keys=abc,expires=1,avg_ttl=0',
        'db1:keys=5,expires=0,avg_ttl=0',
        'dbx:keys=1',
        '',
      ].join('\r\n'),
    );
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.metrics.counters['values_rejected_total']).toBe(4);
    expect(h.metrics.counters['info_lines_rejected_total']).toBe(1);
    expect(h.sink.last('redis.memory.rss')).toBe(4096);
    expect(h.sink.last('redis.clients.blocked')).toBe(2);
    expect(h.sink.of('redis.memory.used')).toHaveLength(0);
    expect(h.sink.of('redis.maxmemory')).toHaveLength(0);
    expect(h.sink.of('redis.clients.connected')).toHaveLength(0);
    expect(h.sink.of('redis.db.keys', { db: '0' })).toHaveLength(0);
    expect(h.sink.last('redis.db.expires', { db: '0' })).toBe(1);
    expect(h.sink.last('redis.db.keys', { db: '1' })).toBe(5);
    expect(h.sink.descriptors.some((d) => d.attributes.db === 'x')).toBe(false);
    expect(h.sink.rejected).toBe(0); // nothing non-finite reached the sink
  });

  it('reports degraded with PARSE_FAILED when INFO is not Redis at all, and recovers', async () => {
    const { fake, h } = await setup('<html>hello</html>\r\nnot redis\r\n');
    await h.collect();
    const status = h.lastStatus()!;
    expect(status.state).toBe('degraded');
    expect(status.code).toBe('SEXTANT_ERR_PARSE_FAILED');
    expect(status.message).toContain('is this a Redis server');
    expect(h.sink.samples).toHaveLength(0);

    fake.info = 'uptime_in_seconds:5\r\n';
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('redis.uptime')).toBe(5);
  });

  it('treats counters that go back (CONFIG RESETSTAT) as a gap, not a negative rate', async () => {
    const { fake, h, clock } = await setup('run_id:a\r\nuptime_in_seconds:100\r\nkeyspace_hits:100\r\nkeyspace_misses:0\r\n');
    await h.collect();
    clock.advance(10_000);
    fake.info = 'run_id:a\r\nuptime_in_seconds:110\r\nkeyspace_hits:50\r\nkeyspace_misses:0\r\n';
    await h.collect();
    expect(h.sink.of('redis.keyspace.hits')).toHaveLength(0);
    expect(h.sink.of('redis.keyspace.hit_ratio')).toHaveLength(0);
    clock.advance(10_000);
    fake.info = 'run_id:a\r\nuptime_in_seconds:120\r\nkeyspace_hits:80\r\nkeyspace_misses:10\r\n';
    await h.collect();
    expect(h.sink.last('redis.keyspace.hits')).toBe(3);
    expect(h.sink.last('redis.keyspace.misses')).toBe(1);
    expect(h.sink.last('redis.keyspace.hit_ratio')).toBe(0.75);
    expect(h.metrics.counters['server_restarts_total'] ?? 0).toBe(0);
  });

  it('notices a restart from uptime going back even when run_id is missing', async () => {
    const { fake, h, clock } = await setup('uptime_in_seconds:1000\r\ntotal_commands_processed:10\r\n');
    await h.collect();
    clock.advance(10_000);
    // after a restart the counter grew past its old value within one interval
    fake.info = 'uptime_in_seconds:3\r\ntotal_commands_processed:500\r\n';
    await h.collect();
    expect(h.sink.of('redis.commands.processed')).toHaveLength(0);
    expect(h.metrics.counters['server_restarts_total']).toBe(1);
    expect(h.sink.events.map((e) => e.type)).toEqual(['redis.restart']);
  });
});
