/**
 * The plugin inside a real runtime (startTestRuntime, fake clock so flushes happen when the test
 * says), fed by the real StatsD client library `hot-shots` over UDP and TCP, and by raw datagrams
 * over node:dgram for what a client library would never send.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import StatsD from 'hot-shots';
import { FakeClock, freePort, needCondition, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import type { SextantEvent } from '@sextant/plugin-api';
import { plugin, SKETCH_RELATIVE_ACCURACY } from '../src/index.js';

const T0 = Date.UTC(2026, 0, 1);
const INTERVAL = 10_000;

interface Running {
  readonly rt: TestRuntime;
  readonly clock: FakeClock;
  readonly port: number;
}

async function start(config: Record<string, unknown> = {}, store: Record<string, unknown> = {}): Promise<Running> {
  const clock = new FakeClock(T0);
  const port = await freePort();
  const rt = await startTestRuntime({ plugins: [plugin], clock, config: { collectors: { statsd: { listen: `127.0.0.1:${port}`, ...config } }, store: store as never } });
  expect(rt.problems).toEqual([]);
  return { rt, clock, port };
}

/** Lines the plugin has taken in so far: recorded + refused + ignored + events (its self-metrics). */
function received(rt: TestRuntime): number {
  const t = rt.runtime.telemetry;
  return t.sum('sextant_plugin_lines_total') + t.sum('sextant_plugin_malformed_total') + t.sum('sextant_plugin_ignored_total') + t.sum('sextant_plugin_events_total');
}

/** Waits (bounded) until the plugin has taken in `n` lines; UDP gives no acknowledgement. */
async function receivedAtLeast(rt: TestRuntime, n: number): Promise<void> {
  for (let i = 0; i < 500 && received(rt) < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(received(rt)).toBeGreaterThanOrEqual(n);
}

async function flush(r: Running): Promise<void> {
  r.clock.advance(INTERVAL);
  await r.rt.collect();
}

const events = (rt: TestRuntime) => rt.runtime.pipeline.events.query({ where: (e: SextantEvent) => e.type === 'statsd.event' });
const last = (rt: TestRuntime, metric: string, match?: Record<string, string>) => rt.values(metric, match).at(-1);

/** One metric per packet, or (`batched`) lines packed into packets of at most 1,400 bytes, as hot-shots does for heavy senders. */
function client(port: number, protocol: 'udp' | 'tcp', batched = false): StatsDClient {
  return new StatsD({ host: '127.0.0.1', port, protocol, maxBufferSize: batched ? 1400 : 0, bufferFlushInterval: 5, errorHandler: (e) => console.error(`hot-shots: ${e.message}`) });
}

type StatsDClient = InstanceType<typeof StatsD>;

function close(c: StatsDClient): Promise<void> {
  return new Promise((resolve) => c.close(() => resolve()));
}

function sendRaw(port: number, payload: string | Buffer): Promise<void> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) =>
    s.send(payload, port, '127.0.0.1', (e) => {
      s.close();
      if (e) reject(e);
      else resolve();
    }),
  );
}

describe.each(['udp', 'tcp'] as const)('hot-shots over %s', (protocol) => {
  let r: Running;
  let c: StatsDClient;
  let bulk: StatsDClient;
  beforeAll(async () => {
    r = await start();
    c = client(r.port, protocol);
    bulk = client(r.port, protocol, true);
  });
  afterAll(async () => {
    await close(c);
    await close(bulk);
    await r.rt.stop();
  });

  it('counters become a per-second rate over the flush interval, split by tags', async () => {
    const before = received(r.rt);
    for (let i = 0; i < 50; i++) c.increment('shop.checkout', 1, ['region:eu', 'tier:gold']);
    c.increment('shop.checkout', 30, ['region:us']);
    c.decrement('shop.checkout', 10, ['region:us']);
    await receivedAtLeast(r.rt, before + 52);
    await flush(r);
    expect(last(r.rt, 'shop.checkout', { region: 'eu', tier: 'gold' })).toBeCloseTo(50 / 10, 9);
    expect(last(r.rt, 'shop.checkout', { region: 'us' })).toBeCloseTo(20 / 10, 9);
    // an idle counter says 0, not silence
    await flush(r);
    expect(last(r.rt, 'shop.checkout', { region: 'eu', tier: 'gold' })).toBe(0);
  });

  it('gauges keep the last value; gaugeDelta adds and subtracts', async () => {
    const before = received(r.rt);
    c.gauge('queue.depth', 40, ['queue:orders']);
    c.gauge('queue.depth', 42, ['queue:orders']);
    c.gaugeDelta('queue.depth', 8, ['queue:orders']);
    c.gaugeDelta('queue.depth', -20, ['queue:orders']);
    await receivedAtLeast(r.rt, before + 4);
    await flush(r);
    expect(last(r.rt, 'queue.depth', { queue: 'orders' })).toBe(30);
    await flush(r);
    expect(r.rt.values('queue.depth', { queue: 'orders' }).slice(-2)).toEqual([30, 30]);
  });

  it('timer, histogram and distribution percentiles are within the sketch accuracy; count and sum exact', async () => {
    const before = received(r.rt);
    const values: number[] = [];
    for (let i = 1; i <= 1000; i++) values.push(i * 1.5);
    // paced in steps of 250 values a type, so a busy machine's UDP receive buffer never overflows
    for (let i = 0; i < values.length; i += 250) {
      for (const v of values.slice(i, i + 250)) {
        bulk.timing('api.latency', v, ['route:/cart']);
        bulk.histogram('payload.size', v * 100);
        bulk.distribution('batch.items', v / 3);
      }
      await receivedAtLeast(r.rt, before + 3 * Math.min(i + 250, values.length));
    }
    await flush(r);
    const exact = (q: number) => values[Math.ceil(q * values.length) - 1];
    for (const [q, label] of [[0.5, 'p50'], [0.9, 'p90'], [0.95, 'p95'], [0.99, 'p99']] as const) {
      const got = last(r.rt, 'api.latency', { route: '/cart', quantile: label })!;
      // DDSketch's guarantee is relative to a rank-q sample; allow one rank either side
      expect(Math.abs(got - exact(q)) / exact(q)).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY + 1.5 / exact(q));
      expect(Math.abs(last(r.rt, 'payload.size', { quantile: label })! - exact(q) * 100) / (exact(q) * 100)).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY + 1.5 / exact(q));
      expect(Math.abs(last(r.rt, 'batch.items', { quantile: label })! - exact(q) / 3) / (exact(q) / 3)).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY + 1.5 / exact(q));
    }
    expect(last(r.rt, 'api.latency.count', { route: '/cart' })).toBe(1000);
    expect(last(r.rt, 'api.latency.sum', { route: '/cart' })).toBeCloseTo(values.reduce((a, b) => a + b, 0), 6);
    const series = r.rt.runtime.registry.find({ metric: 'api.latency' });
    expect(series[0]).toMatchObject({ unit: 'ms', kind: 'latency' });
  });

  it('sets count distinct members per interval', async () => {
    const before = received(r.rt);
    for (let i = 0; i < 30; i++) c.set('visitors', `user-${i % 12}`, ['site:shop']);
    await receivedAtLeast(r.rt, before + 30);
    await flush(r);
    expect(last(r.rt, 'visitors', { site: 'shop' })).toBe(12);
    await flush(r);
    expect(last(r.rt, 'visitors', { site: 'shop' })).toBe(0);
  });

  it('DogStatsD events become Sextant events with their tags, text and severity', async () => {
    const before = received(r.rt);
    c.event(`Deploy checkout ${protocol}`, 'v1.2.3\nto prod', { alert_type: 'warning', hostname: 'web-1', priority: 'low' }, ['service:checkout']);
    c.check('db.up', 0, {}, ['env:prod']);
    await receivedAtLeast(r.rt, before + 2);
    await flush(r);
    const e = events(r.rt).find((x) => x.title === `Deploy checkout ${protocol}`);
    expect(e).toMatchObject({ severity: 'warning', source: 'statsd', resource: { 'host.name': 'web-1' }, attributes: { service: 'checkout', message: 'v1.2.3\nto prod', alert_type: 'warning', priority: 'low' } });
    expect(r.rt.runtime.telemetry.sum('sextant_plugin_ignored_total', { kind: 'service_check' })).toBeGreaterThanOrEqual(1);
  });

  it('sampled counters and timers are scaled by 1 / sample rate', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0); // the client keeps every sampled value
    try {
      const before = received(r.rt);
      for (let i = 0; i < 10; i++) c.increment('jobs.done', 1, 0.25, ['q:mail']);
      for (let i = 0; i < 10; i++) c.timing('jobs.time', 100, 0.5);
      await receivedAtLeast(r.rt, before + 20);
    } finally {
      random.mockRestore();
    }
    await flush(r);
    expect(last(r.rt, 'jobs.done', { q: 'mail' })).toBeCloseTo(40 / 10, 9);
    expect(last(r.rt, 'jobs.time.count')).toBe(20);
    expect(last(r.rt, 'jobs.time', { quantile: 'p50' })).toBeCloseTo(100, -1);
  });
});

describe('bad input over raw UDP', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start({ maxPacketBytes: 1024 });
  });
  afterAll(async () => {
    await r.rt.stop();
  });
  const malformed = (reason: string) => r.rt.runtime.telemetry.sum('sextant_plugin_malformed_total', { reason });

  it('counts and skips malformed lines and keeps the rest of the packet', async () => {
    const packet = [
      'good.one:5|c',
      'no_pipe_here',
      'bad.value:abc|c',
      'bad.hex:0x10|g',
      'bad.type:1|zz',
      'nan.value:NaN|g',
      'inf.value:Inf|ms',
      'overflow.value:1e999|c',
      'bad.rate:1|c|@0',
      'bad.rate2:1|c|@1.5',
      ':1|c',
      `tags.many:1|c|#${Array.from({ length: 40 }, (_, i) => `t${i}:v`).join(',')}`,
      'tags.reserved:1|ms|#quantile:p50',
      '_e{5,4}:title|text|#a:b',
      '_e{50,4}:title|text',
      '_sc|db.up|0|#env:prod',
      'good.two:7|g|#env:prod',
      '',
    ].join('\n');
    const before = received(r.rt);
    await sendRaw(r.port, packet);
    await receivedAtLeast(r.rt, before + 17);
    await flush(r);
    expect(last(r.rt, 'good.one')).toBeCloseTo(0.5, 9);
    expect(last(r.rt, 'good.two', { env: 'prod' })).toBe(7);
    for (const m of ['nan.value', 'inf.value', 'overflow.value', 'bad.value', 'bad.hex', 'bad.rate', 'tags.many']) expect(r.rt.values(m)).toEqual([]);
    expect([malformed('syntax'), malformed('value'), malformed('type'), malformed('non_finite'), malformed('sample_rate'), malformed('name'), malformed('tags')]).toEqual([1, 2, 1, 3, 2, 1, 2]);
    expect(malformed('event')).toBe(1);
    expect(events(r.rt).map((e) => [e.title, e.attributes?.message, e.attributes?.a])).toEqual([['title', 'text', 'b']]);
    expect(r.rt.runtime.telemetry.sum('sextant_plugin_ignored_total', { kind: 'service_check' })).toBe(1);
  });

  it('reads an oversized datagram up to the cap, drops the rest and counts it', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `big.packet:1|c|#n:${i % 2}`); // ~20 bytes each, ~4 KB
    const before = r.rt.runtime.telemetry.sum('sextant_plugin_lines_total');
    await sendRaw(r.port, lines.join('\n'));
    for (let i = 0; i < 500 && malformed('packet_too_large') < 1; i++) await new Promise((res) => setTimeout(res, 10));
    expect(malformed('packet_too_large')).toBe(1);
    const kept = r.rt.runtime.telemetry.sum('sextant_plugin_lines_total') - before;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(200);
    expect(kept).toBe(lines.join('\n').slice(0, 1024).split('\n').length - 1); // whole lines within the cap only
  });

  it('treats the same tags in another order (or repeated) as the same series', async () => {
    const before = received(r.rt);
    await sendRaw(r.port, 'ordered:1|c|#a:1,b:2\nordered:2|c|#b:2,a:1\nordered:3|c|#b:2|#a:1,b:2');
    await receivedAtLeast(r.rt, before + 3);
    await flush(r);
    expect(r.rt.runtime.registry.find({ metric: 'ordered' })).toHaveLength(1);
    expect(last(r.rt, 'ordered', { a: '1', b: '2' })).toBeCloseTo(0.6, 9);
  });

  it('refuses a line that would overflow a counter, gauge or timer sum, and keeps the value before it', async () => {
    const before = received(r.rt);
    await sendRaw(r.port, ['big.counter:1e308|c', 'big.counter:1e308|c', 'big.gauge:1e308|g', 'big.gauge:+1e308|g', 'big.timer:1e308|ms', 'big.timer:1e308|ms', 'tiny.rate:1e10|c|@1e-300'].join('\n'));
    await receivedAtLeast(r.rt, before + 7);
    await flush(r);
    expect(malformed('overflow')).toBe(4);
    expect(last(r.rt, 'big.counter')).toBeCloseTo(1e308 / 10, -300);
    expect(last(r.rt, 'big.gauge')).toBe(1e308);
    expect(last(r.rt, 'big.timer.count')).toBe(1);
  });

  it('refuses a line that reuses a name+tags with another type', async () => {
    const before = received(r.rt);
    await sendRaw(r.port, 'mixed.metric:1|c\nmixed.metric:2|g');
    await receivedAtLeast(r.rt, before + 2);
    expect(malformed('type_conflict')).toBe(1);
  });
});

describe('limits', () => {
  let r: Running | undefined;
  afterEach(async () => {
    await r?.rt.stop();
    r = undefined;
  });

  it('bounds a tag explosion by maxSeries, counts the dropped lines and reports degraded', async () => {
    r = await start({ maxSeries: 50 });
    const lines = Array.from({ length: 200 }, (_, i) => `req.count:1|c|#request_id:${i}`);
    for (let i = 0; i < lines.length; i += 50) await sendRaw(r.port, lines.slice(i, i + 50).join('\n'));
    await receivedAtLeast(r.rt, 200);
    await flush(r);
    expect(r.rt.runtime.registry.find({ metric: 'req.count' })).toHaveLength(50);
    expect(r.rt.runtime.telemetry.sum('sextant_plugin_malformed_total', { reason: 'series_limit' })).toBe(150);
    const inst = r.rt.runtime.statuses().find((i) => i.type === 'statsd')!;
    expect(inst.state).toBe('degraded');
  });

  it('counts series the runtime refuses at its per-instance limit and keeps the others', async () => {
    r = await start({}, { maxSeriesPerInstance: 3 });
    await sendRaw(r.port, ['a:1|c', 'b:1|c', 'c:1|c', 'd:1|c', 'e:1|c'].join('\n'));
    await receivedAtLeast(r.rt, 5);
    await flush(r);
    const written = ['a', 'b', 'c', 'd', 'e'].filter((m) => r!.rt.values(m).length > 0);
    expect(written).toHaveLength(3);
    const status = r.rt.runtime.statuses().find((i) => i.type === 'statsd')!;
    expect(status.message).toMatch(/SEXTANT_ERR_LIMIT_EXCEEDED.*maxSeriesPerInstance/);
  });

  it('counters: both writes the rate and the running total; prefix applies; an idle set expires after expireAfter', async () => {
    r = await start({ counters: 'both', prefix: 'app.', expireAfter: '30s' });
    await sendRaw(r.port, 'orders:5|c|#shop:eu\nstock:7|g');
    await receivedAtLeast(r.rt, 2);
    await flush(r);
    await sendRaw(r.port, 'orders:3|c|#shop:eu');
    await receivedAtLeast(r.rt, 3);
    await flush(r);
    expect(r.rt.values('app.orders', { shop: 'eu' })).toEqual([0.5, 0.3]);
    expect(r.rt.values('app.orders.total', { shop: 'eu' })).toEqual([5, 8]);
    expect(r.rt.values('orders')).toEqual([]);
    for (let i = 0; i < 4; i++) await flush(r);
    const gauge = r.rt.values('app.stock');
    const counted = r.rt.values('app.orders', { shop: 'eu' }).length;
    await flush(r);
    await flush(r);
    // forgotten: no more points, and the slots are free again
    expect(r.rt.values('app.stock')).toHaveLength(gauge.length);
    expect(r.rt.values('app.orders', { shop: 'eu' })).toHaveLength(counted);
    expect(r.rt.runtime.telemetry.sum('sextant_plugin_tracked_series')).toBe(0);
  });

  it('listens on IPv6 loopback too', async (ctx) => {
    const probe = createSocket('udp6');
    const ipv6 = await new Promise<boolean>((res) => {
      probe.once('error', () => res(false));
      probe.bind(0, '::1', () => res(true));
    });
    probe.close();
    needCondition(ctx, ipv6, 'no IPv6 loopback (::1) on this machine');
    const port = await freePort();
    const clock = new FakeClock(T0);
    const rt = await startTestRuntime({ plugins: [plugin], clock, config: { collectors: { statsd: { listen: `[::1]:${port}` } } } });
    try {
      expect(rt.problems).toEqual([]);
      const s = createSocket('udp6');
      await new Promise<void>((res, rej) => s.send('v6.hits:4|c', port, '::1', (e) => (s.close(), e ? rej(e) : res())));
      for (let i = 0; i < 500 && received(rt) < 1; i++) await new Promise((res) => setTimeout(res, 10));
      clock.advance(INTERVAL);
      await rt.collect();
      expect(rt.values('v6.hits').at(-1)).toBeCloseTo(0.4, 9);
    } finally {
      await rt.stop();
    }
  });

  it('stores at most maxEventsPerInterval DogStatsD events per interval and counts the rest', async () => {
    r = await start({ maxEventsPerInterval: 2 });
    await sendRaw(r.port, ['_e{2,1}:e1|x', '_e{2,1}:e2|x', '_e{2,1}:e3|x'].join('\n'));
    await receivedAtLeast(r.rt, 3);
    await flush(r);
    expect(events(r.rt).map((e) => e.title)).toEqual(['e1', 'e2']);
    expect(r.rt.runtime.telemetry.sum('sextant_plugin_ignored_total', { kind: 'event' })).toBe(1);
    await sendRaw(r.port, '_e{2,1}:e4|x');
    await receivedAtLeast(r.rt, 4);
    await flush(r);
    expect(events(r.rt).map((e) => e.title)).toEqual(['e1', 'e2', 'e4']);
  });

  it('closes TCP connections beyond maxConnections and keeps serving the others', async () => {
    r = await start({ maxConnections: 2 });
    const open = () =>
      new Promise<import('node:net').Socket>((res, rej) => {
        const s = connect(r!.port, '127.0.0.1', () => res(s));
        s.once('error', rej);
      });
    const a = await open();
    const b = await open();
    const c = await open();
    await new Promise<void>((res) => (c.destroyed ? res() : c.once('close', () => res())));
    a.write('conn.a:1|g\n');
    b.write('conn.b:2|g\n');
    await receivedAtLeast(r.rt, 2);
    a.destroy();
    b.destroy();
    await flush(r);
    expect([last(r.rt, 'conn.a'), last(r.rt, 'conn.b')]).toEqual([1, 2]);
  });

  it('a port already in use is a start problem that says so, not a crash', async () => {
    r = await start();
    const second = await startTestRuntime({ plugins: [plugin], clock: new FakeClock(T0), config: { collectors: { statsd: { listen: `127.0.0.1:${r.port}` } } } });
    try {
      const status = second.runtime.statuses().find((i) => i.type === 'statsd');
      const said = JSON.stringify([second.problems, status]);
      expect(said).toContain('EADDRINUSE');
      expect(said).toContain('another process');
      expect(status?.state).toBe('error');
    } finally {
      await second.stop();
    }
  });

  it('tcp: false leaves the TCP port closed; UDP keeps working', async () => {
    r = await start({ tcp: false });
    const refused = await new Promise<string>((res) => {
      const s = connect(r!.port, '127.0.0.1', () => (s.destroy(), res('connected')));
      s.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
    });
    expect(refused).toBe('ECONNREFUSED');
    await sendRaw(r.port, 'udp.only:3|g');
    await receivedAtLeast(r.rt, 1);
    await flush(r);
    expect(last(r.rt, 'udp.only')).toBe(3);
  });

  it('drops a TCP line longer than maxPacketBytes and keeps the lines around it', async () => {
    r = await start({ maxPacketBytes: 512 });
    const sock = connect(r.port, '127.0.0.1');
    await new Promise<void>((res) => sock.once('connect', () => res()));
    sock.write('before:1|g\n');
    sock.write(`huge:${'9'.repeat(2000)}`);
    sock.write(`${'9'.repeat(2000)}|g\nafter:2|g\n`);
    await new Promise<void>((res) => sock.end(() => res()));
    for (let i = 0; i < 500 && received(r.rt) < 3; i++) await new Promise((res) => setTimeout(res, 10));
    await flush(r);
    expect(last(r.rt, 'before')).toBe(1);
    expect(last(r.rt, 'after')).toBe(2);
    expect(r.rt.values('huge')).toEqual([]);
    expect(r.rt.runtime.telemetry.sum('sextant_plugin_malformed_total', { reason: 'too_long' })).toBe(1);
  });
});
