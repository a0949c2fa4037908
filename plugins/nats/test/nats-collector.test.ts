/**
 * The collector against real nats-server processes (Debian package `nats-server`) started by the
 * test on ephemeral loopback ports (client + monitoring) with JetStream in a temporary directory,
 * driven with the `nats` client; plus loopback stand-ins for replies a real server never sends.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeClock, findBinary, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { natsCollectorFactory } from '../src/index.js';
import { startNatsServer, type NatsServerProcess } from './nats-server-process.js';

const INSTALL = 'apt-get install nats-server';

const harnesses: CollectorHarness[] = [];
const servers: NatsServerProcess[] = [];
const connections: NatsConnection[] = [];
const standIns: { server: Server; sockets: Set<Socket> }[] = [];

async function server(args?: string[]): Promise<NatsServerProcess> {
  const s = await startNatsServer(findBinary('nats-server')!, await freePort(), await freePort(), args);
  servers.push(s);
  return s;
}

async function client(port: number): Promise<NatsConnection> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
  connections.push(nc);
  return nc;
}

async function collector(monitorPort: number, config: Record<string, unknown> = {}, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(natsCollectorFactory, { config: { url: `http://127.0.0.1:${monitorPort}`, timeout: '2s', ...config }, clock, intervalMs: 1000 });
  harnesses.push(h);
  return h;
}

async function standIn(reply: string): Promise<number> {
  const sockets = new Set<Socket>();
  const s = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => socket.end(reply));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  standIns.push({ server: s, sockets });
  return (s.address() as { port: number }).port;
}

const http = (body: string, status = '200 OK') => `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const nc of connections.splice(0)) await nc.close().catch(() => {});
  for (const { server: s, sockets } of standIns.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => s.close(r));
  }
});

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

describe('nats collector against a real nats-server', () => {
  it('reports connections, message and byte rates for known traffic', async (ctx) => {
    needBinary(ctx, 'nats-server', INSTALL);
    const s = await server();
    const pub = await client(s.port);
    const sub = await client(s.port);
    const clock = new FakeClock(Date.now());
    const h = await collector(s.monitorPort, {}, clock);
    await h.collect();
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });

    const N = 50;
    let received = 0;
    const subscription = sub.subscribe('orders.created', { callback: () => void received++ });
    await sub.flush();
    for (let i = 0; i < N; i++) pub.publish('orders.created', new TextEncoder().encode(`order-${i}`.padEnd(100, '.')));
    await pub.flush();
    for (let i = 0; i < 100 && received < N; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received).toBe(N);
    clock.advance(10_000);
    await h.collect();

    const sink = h.sink;
    expect(sink.last('nats.messages', { direction: 'in' })).toBe(N / 10);
    expect(sink.last('nats.messages', { direction: 'out' })).toBe(N / 10);
    expect(sink.last('nats.bytes', { direction: 'in' })).toBe((N * 100) / 10);
    expect(sink.last('nats.connections')).toBe(2);
    expect(sink.last('nats.connections.max')).toBe(65536);
    expect(sink.last('nats.connections.utilization')).toBe(2 / 65536);
    expect(sink.last('nats.subscriptions')).toBeGreaterThanOrEqual(1);
    expect(sink.last('nats.slow_consumers')).toBe(0);
    expect(sink.last('nats.memory')).toBeGreaterThan(0);
    expect(sink.last('nats.uptime')).toBeGreaterThanOrEqual(0);
    expect(sink.last('nats.connections.pending.max')).toBeGreaterThanOrEqual(0);
    expect(sink.of('nats.connections')[0]!.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'nats', 'server.address': '127.0.0.1', 'server.port': s.monitorPort });
    subscription.unsubscribe();
  });

  it('shows stream depth and consumer lag that drops as the consumer acknowledges', async (ctx) => {
    needBinary(ctx, 'nats-server', INSTALL);
    const s = await server();
    const nc = await client(s.port);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    await jsm.consumers.add('ORDERS', { durable_name: 'billing', ack_policy: AckPolicy.Explicit });
    const js = nc.jetstream();
    for (let i = 0; i < 50; i++) await js.publish('orders.paid', new TextEncoder().encode(`o${i}`));

    const h = await collector(s.monitorPort);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    const orders = { 'nats.stream': 'ORDERS' };
    const billing = { 'nats.stream': 'ORDERS', 'nats.consumer': 'billing' };
    expect(h.sink.last('nats.jetstream.stream.messages', orders)).toBe(50);
    expect(h.sink.last('nats.jetstream.stream.bytes', orders)).toBeGreaterThan(0);
    expect(h.sink.last('nats.jetstream.stream.consumers', orders)).toBe(1);
    expect(h.sink.last('nats.jetstream.consumer.pending', billing)).toBe(50);
    expect(h.sink.last('nats.jetstream.storage.usage')).toBeGreaterThan(0);
    expect(h.sink.last('nats.jetstream.storage.limit')).toBeGreaterThan(0);

    const consumer = await js.consumers.get('ORDERS', 'billing');
    const batch = await consumer.fetch({ max_messages: 20, expires: 2000 });
    let acked = 0;
    for await (const m of batch) {
      m.ack();
      if (++acked === 20) break;
    }
    await nc.flush();
    await h.collect();
    expect(h.sink.last('nats.jetstream.consumer.pending', billing)).toBe(30);
    expect(h.sink.last('nats.jetstream.consumer.ack_pending', billing)).toBe(0);
    expect(h.sink.last('nats.jetstream.stream.messages', orders)).toBe(50);

    // a cap on stream/consumer series is counted, not silently ignored
    const capped = await collector(s.monitorPort, { maxJetstreamSeries: 2 });
    await capped.collect();
    expect(capped.sink.of('nats.jetstream.consumer.pending')).toHaveLength(0);
    expect(capped.metrics.counters['series_limited_total']).toBeGreaterThan(0);
  });

  it('reads a server without JetStream without complaint', async (ctx) => {
    needBinary(ctx, 'nats-server', INSTALL);
    const s = await server([]);
    const h = await collector(s.monitorPort);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.of('nats.jetstream.storage.usage')).toHaveLength(0);
  });

  it('survives the server stopping mid-run and reports the restart without a negative rate', async (ctx) => {
    needBinary(ctx, 'nats-server', INSTALL);
    const s = await server();
    const clock = new FakeClock(Date.now());
    const h = await collector(s.monitorPort, {}, clock);
    const nc = await client(s.port);
    for (let i = 0; i < 100; i++) nc.publish('x', new Uint8Array(10));
    await nc.flush();
    await h.collect();
    await nc.close();

    await s.stop({ keepData: true });
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h.lastStatus()?.message).toContain('is nats-server running with monitoring on');
    expect(h.metrics.counters['connection_errors_total']).toBe(1);

    await s.start();
    const nc2 = await client(s.port);
    for (let i = 0; i < 500; i++) nc2.publish('x', new Uint8Array(10));
    await nc2.flush();
    const before = h.sink.samples.length;
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.samples.slice(before).filter((x) => x.metric === 'nats.messages')).toHaveLength(0);
    expect(h.sink.events.map((e) => e.type)).toEqual(['nats.restart']);
    for (let i = 0; i < 20; i++) nc2.publish('x', new Uint8Array(10));
    await nc2.flush();
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('nats.messages', { direction: 'in' })).toBe(2);
    for (const x of h.sink.of('nats.messages')) expect(x.value).toBeGreaterThanOrEqual(0);
  });
});

describe('nats collector when things go wrong', () => {
  it('reports a coded error while nothing listens', async () => {
    const port = await freePort();
    const h = await collector(port);
    await h.collect();
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h.metrics.counters['connection_errors_total']).toBe(2);
    expect(h.statuses.map((s) => s.state)).toEqual(['starting', 'error']);
  });

  it('refuses what is not NATS monitoring data and counts bad values', async () => {
    const html = await standIn('HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>');
    const otherJson = await standIn(http('{"status":"ok"}'));
    const missing = await standIn(http('{}', '404 Not Found'));
    for (const [port, code] of [[html, 'SEXTANT_ERR_PARSE_FAILED'], [otherJson, 'SEXTANT_ERR_PARSE_FAILED'], [missing, 'SEXTANT_ERR_COLLECT_FAILED']] as const) {
      const h = await collector(port);
      await h.collect();
      expect(h.lastStatus()?.code, String(port)).toBe(code);
      expect(h.metrics.counters['replies_rejected_total']).toBe(1);
      expect(h.sink.samples).toHaveLength(0);
    }
    const bad = await standIn(http('{"server_id":"X","connections":-1,"max_connections":"lots","subscriptions":3,"mem":1e400}'));
    const h = await collector(bad, { jetstream: false });
    await h.collect();
    expect(h.sink.last('nats.subscriptions')).toBe(3);
    expect(h.sink.of('nats.connections')).toHaveLength(0);
    expect(h.metrics.counters['values_rejected_total']).toBe(3);
    // /connz of the stand-in is not NATS data either: degraded, the /varz part counted
    expect(h.lastStatus()?.state).toBe('degraded');
  });

  it('shuts down cleanly, twice', async () => {
    const h = await collector(await freePort());
    await h.shutdown();
    await h.shutdown();
    await h.collect();
    expect(h.sink.samples).toHaveLength(0);
  });
});
