/**
 * The collector against a real RabbitMQ node (Debian package `rabbitmq-server`, management
 * plugin) started by the test with its own node name, ports and data directory, driven through the
 * management API's publish and get endpoints; plus loopback stand-ins for replies a real broker
 * never sends. Starting the node takes tens of seconds (once per file).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { FakeClock, findBinary, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { rabbitmqCollectorFactory } from '../src/index.js';
import { startRabbitmq, type RabbitmqProcess } from './rabbitmq-process.js';

const INSTALL = 'apt-get install rabbitmq-server';
/** One node for the whole file (a node takes tens of seconds to start): the conformance suite and the tests share it. */
const binary = findBinary('rabbitmq-server');
// ports are chosen now (the suite's config names one); the node starts only when a test runs
const ports = { amqp: await freePort(), management: await freePort(), dist: await freePort() };
let node: RabbitmqProcess | undefined;
beforeAll(async () => {
  if (binary) node = await startRabbitmq(binary, ports);
}, 120_000);
afterAll(async () => {
  await node?.stop();
}, 30_000);

if (binary) {
  describeCollectorConformance(rabbitmqCollectorFactory, {
    config: { url: `http://127.0.0.1:${ports.management}` },
    invalid: { config: { url: 'amqp://mq:5672' }, path: 'rabbitmq.url' },
  });
}
const harnesses: CollectorHarness[] = [];
const standIns: { server: Server; sockets: Set<Socket> }[] = [];

async function collector(port: number, config: Record<string, unknown> = {}, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(rabbitmqCollectorFactory, { config: { url: `http://127.0.0.1:${port}`, timeout: '5s', ...config }, clock, intervalMs: 1000 });
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

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const { server: s, sockets } of standIns.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => s.close(r));
  }
});

describe('rabbitmq collector against a real RabbitMQ node', () => {
  let api: (method: string, path: string, body?: unknown) => Promise<unknown>;

  beforeAll(() => {
    if (!node) return; // each test skips (or fails under SEXTANT_REQUIRE_ALL=1) through needBinary
    api = async (method, path, body) => {
      const res = await fetch(`http://127.0.0.1:${node!.managementPort}/api/${path}`, {
        method,
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
      const text = await res.text();
      return text ? JSON.parse(text) : undefined;
    };
  });

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('reports queue depth, consumers, publish and delivery rates, and node health for known traffic', async (ctx) => {
    needBinary(ctx, 'rabbitmq-server', INSTALL);
    const port = node!.managementPort;
    await api('PUT', 'queues/%2F/orders', { durable: false, auto_delete: false });
    const clock = new FakeClock(Date.now());
    const h = await collector(port, {}, clock);
    await h.collect();
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });

    const N = 12, LOST = 3;
    for (let i = 0; i < N; i++) expect(await api('POST', 'exchanges/%2F/amq.default/publish', { routing_key: 'orders', payload: `order ${i}`, payload_encoding: 'string', properties: {} })).toEqual({ routed: true });
    for (let i = 0; i < LOST; i++) expect(await api('POST', 'exchanges/%2F/amq.default/publish', { routing_key: 'nowhere', payload: 'x', payload_encoding: 'string', properties: {} })).toEqual({ routed: false });
    await until('the management stats show the publishes', async () => {
      const q = (await api('GET', 'queues/%2F/orders')) as { messages_ready?: number; message_stats?: { publish?: number } };
      const o = (await api('GET', 'overview')) as { message_stats?: { publish?: number } };
      return q.messages_ready === N && q.message_stats?.publish === N && o.message_stats?.publish === N + LOST;
    });
    clock.advance(10_000);
    await h.collect();

    const sink = h.sink;
    const orders = { 'rabbitmq.vhost.name': '/', 'rabbitmq.queue.name': 'orders' };
    expect(h.lastStatus()?.state).toBe('ok');
    expect(sink.last('rabbitmq.message.current', { ...orders, state: 'ready' })).toBe(N);
    expect(sink.last('rabbitmq.message.current', { ...orders, state: 'unacknowledged' })).toBe(0);
    expect(sink.last('rabbitmq.consumer.count', orders)).toBe(0);
    expect(sink.last('rabbitmq.message.published', orders)).toBe(N / 10);
    expect(sink.last('rabbitmq.messages.published')).toBe((N + LOST) / 10);
    expect(sink.last('rabbitmq.messages.current', { state: 'ready' })).toBe(N);
    expect(sink.last('rabbitmq.queues')).toBeGreaterThanOrEqual(1);
    const nodeName = sink.of('rabbitmq.node.running')[0]!.attributes['rabbitmq.node.name'];
    expect(nodeName).toMatch(/^sextant-test-[0-9a-f]+@localhost$/);
    expect(sink.last('rabbitmq.node.running')).toBe(1);
    expect(sink.last('rabbitmq.node.mem_used')).toBeGreaterThan(0);
    expect(sink.last('rabbitmq.node.mem_limit')).toBeGreaterThan(0);
    expect(sink.last('rabbitmq.node.mem_alarm')).toBe(0);
    expect(sink.last('rabbitmq.node.disk_free')).toBeGreaterThan(0);
    expect(sink.last('rabbitmq.node.disk_free_alarm')).toBe(0);
    expect(sink.last('rabbitmq.node.fd_total')).toBeGreaterThan(0);
    expect(sink.of('rabbitmq.queues')[0]!.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'rabbitmq', 'server.address': '127.0.0.1', 'server.port': port });

    // a consumer takes 5 messages: the backlog shrinks and deliveries show up
    await api('POST', 'queues/%2F/orders/get', { count: 5, ackmode: 'ack_requeue_false', encoding: 'auto' });
    await until('the management stats show the gets', async () => {
      const q = (await api('GET', 'queues/%2F/orders')) as { messages_ready?: number; message_stats?: { deliver_get?: number } };
      return q.messages_ready === N - 5 && q.message_stats?.deliver_get === 5;
    });
    clock.advance(10_000);
    await h.collect();
    expect(sink.last('rabbitmq.message.current', { ...orders, state: 'ready' })).toBe(N - 5);
    expect(sink.last('rabbitmq.message.delivered', orders)).toBe(0.5);
    for (const s of sink.samples) if (s.type === 'rate') expect(s.value, s.metric).toBeGreaterThanOrEqual(0);
    expect(h.metrics.counters['values_rejected_total'] ?? 0).toBe(0);

    const capped = await collector(port, { maxQueues: 0 });
    await capped.collect();
    expect(capped.sink.of('rabbitmq.message.current')).toHaveLength(0);
    expect(capped.sink.last('rabbitmq.messages.current', { state: 'ready' })).toBe(N - 5);
  });

  it('refuses wrong credentials with a coded error and the fix', async (ctx) => {
    needBinary(ctx, 'rabbitmq-server', INSTALL);
    const h = await collector(node!.managementPort, { password: 'not-the-password' });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(h.lastStatus()?.message).toContain('monitoring tag');
    expect(JSON.stringify([h.logger.lines, h.statuses])).not.toContain('not-the-password');
  });
});

describe('rabbitmq collector when things go wrong', () => {
  it('reports a coded error while nothing listens', async () => {
    const h = await collector(await freePort());
    await h.collect();
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h.lastStatus()?.message).toContain('management plugin');
    expect(h.metrics.counters['connection_errors_total']).toBe(2);
    expect(h.statuses.map((s) => s.state)).toEqual(['starting', 'error']);
  });

  it('refuses what is not the management API, and counts bad values', async () => {
    const html = await standIn('HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>');
    const otherJson = await standIn('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    for (const port of [html, otherJson]) {
      const h = await collector(port);
      await h.collect();
      expect(h.lastStatus()?.code).toBe('SEXTANT_ERR_PARSE_FAILED');
      expect(h.metrics.counters['replies_rejected_total']).toBe(1);
      expect(h.sink.samples).toHaveLength(0);
    }
    const body = '{"object_totals":{"connections":-1,"channels":"two","queues":3,"consumers":1e400},"queue_totals":{}}';
    const bad = await standIn(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    const h = await collector(bad);
    await h.collect();
    expect(h.sink.last('rabbitmq.queues')).toBe(3);
    expect(h.sink.of('rabbitmq.connections')).toHaveLength(0);
    expect(h.metrics.counters['values_rejected_total']).toBe(3);
    expect(h.lastStatus()?.state).toBe('degraded'); // /api/nodes of the stand-in is not a node list
  });
});
