/**
 * The collector against real Mosquitto brokers (Debian package `mosquitto`), each started by the
 * test on an ephemeral loopback port with `sys_interval 1` and stopped by pid, driven with the
 * `mqtt` client.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeClock, findBinary, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { mqttCollectorFactory } from '../src/index.js';
import { startMosquitto, type MosquittoOptions, type MosquittoProcess } from './mosquitto-process.js';

const INSTALL = 'apt-get install mosquitto';

const harnesses: CollectorHarness[] = [];
const brokers: MosquittoProcess[] = [];
const clients: MqttClient[] = [];

async function broker(options: MosquittoOptions = {}): Promise<MosquittoProcess> {
  const b = await startMosquitto(findBinary('mosquitto')!, await freePort(), options);
  brokers.push(b);
  return b;
}

async function client(port: number, options: Parameters<typeof connectAsync>[1] = {}): Promise<MqttClient> {
  const c = await connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...options });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

async function collector(port: number, config: Record<string, unknown> = {}, clock?: FakeClock): Promise<CollectorHarness> {
  const h = await startCollector(mqttCollectorFactory, { config: { url: `mqtt://127.0.0.1:${port}`, timeout: '3s', ...config }, clock, intervalMs: 1000 });
  harnesses.push(h);
  return h;
}

/** The latest value of one $SYS topic as a watcher client sees it, polled until `check` accepts it. */
async function sysUntil(watcher: MqttClient, topic: string, check: (value: number) => boolean, timeoutMs = 10_000): Promise<number> {
  let latest = Number.NaN;
  const onMessage = (t: string, payload: Buffer) => {
    if (t === `$SYS/broker/${topic}`) latest = Number.parseFloat(payload.toString());
  };
  watcher.on('message', onMessage);
  await watcher.subscribeAsync(`$SYS/broker/${topic}`);
  const deadline = Date.now() + timeoutMs;
  try {
    while (!(Number.isFinite(latest) && check(latest))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for $SYS/broker/${topic} (last ${latest})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return latest;
  } finally {
    watcher.off('message', onMessage);
    await watcher.unsubscribeAsync(`$SYS/broker/${topic}`);
  }
}

const settle = () => new Promise((r) => setTimeout(r, 1300)); // longer than sys_interval 1

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
});

afterAll(async () => {
  for (const b of brokers.splice(0)) await b.stop();
});

describe('mqtt collector against a real Mosquitto', () => {
  it('reports clients, publish rates, bytes, retained messages and subscriptions for known traffic', async (ctx) => {
    needBinary(ctx, 'mosquitto', INSTALL);
    const b = await broker();
    const pub = await client(b.port);
    const sub = await client(b.port);
    const watcher = await client(b.port);
    await sub.subscribeAsync('sensors/#');
    await pub.publishAsync('config/site', 'berlin', { retain: true, qos: 1 });
    const clock = new FakeClock(Date.now());
    const h = await collector(b.port, {}, clock);
    await settle();
    const before = await sysUntil(watcher, 'publish/messages/received', () => true);
    await settle(); // nothing moved since: the collector's snapshot and the watcher's agree
    await h.collect();
    expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });

    const N = 30;
    for (let i = 0; i < N; i++) pub.publish('sensors/temperature', 'x'.repeat(100));
    await sysUntil(watcher, 'publish/messages/received', (v) => v >= before + N);
    await settle();
    clock.advance(10_000);
    await h.collect();

    const sink = h.sink;
    expect(h.lastStatus()?.state).toBe('ok');
    expect(sink.last('mqtt.broker.publish.messages', { direction: 'received' })).toBe(N / 10);
    expect(sink.last('mqtt.broker.publish.messages', { direction: 'sent' })).toBeGreaterThanOrEqual(N / 10); // to the subscriber, plus $SYS
    expect(sink.last('mqtt.broker.publish.bytes', { direction: 'received' })).toBe((N * 100) / 10);
    expect(sink.last('mqtt.broker.clients.connected')).toBe(4); // pub, sub, watcher, collector
    expect(sink.last('mqtt.broker.subscriptions')).toBeGreaterThanOrEqual(2);
    expect(sink.last('mqtt.broker.messages.retained')).toBeGreaterThanOrEqual(1);
    expect(sink.last('mqtt.broker.publish.dropped')).toBe(0);
    expect(sink.last('mqtt.broker.uptime')).toBeGreaterThanOrEqual(1);
    expect(sink.of('mqtt.broker.uptime')[0]!.resource).toMatchObject({ 'host.name': 'test-host', 'service.name': 'mqtt-broker', 'server.address': '127.0.0.1', 'server.port': b.port });
    for (const s of sink.samples) if (s.type === 'rate') expect(s.value, s.metric).toBeGreaterThanOrEqual(0);
    expect(h.metrics.counters['values_rejected_total'] ?? 0).toBe(0);
  });

  it('shows queued messages and dropped publishes for an offline persistent subscriber', async (ctx) => {
    needBinary(ctx, 'mosquitto', INSTALL);
    const b = await broker({ config: ['max_queued_messages 5'] });
    const offline = await client(b.port, { clientId: 'slow-device', clean: false });
    await offline.subscribeAsync('alerts/#', { qos: 1 });
    await offline.endAsync();
    const pub = await client(b.port);
    const watcher = await client(b.port);
    const clock = new FakeClock(Date.now());
    const h = await collector(b.port, {}, clock);
    await settle();
    await h.collect();

    for (let i = 0; i < 20; i++) await pub.publishAsync('alerts/fire', `alarm ${i}`, { qos: 1 });
    await sysUntil(watcher, 'publish/messages/dropped', (v) => v >= 15);
    await settle();
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('mqtt.broker.publish.dropped')).toBe(1.5);
    expect(h.sink.last('mqtt.broker.clients.disconnected')).toBe(1);
    expect(h.sink.last('mqtt.broker.messages.stored')).toBeGreaterThanOrEqual(5);
  });

  it('refuses wrong credentials with a coded error and works with the right ones', async (ctx) => {
    needBinary(ctx, 'mosquitto', INSTALL);
    needBinary(ctx, 'mosquitto_passwd', INSTALL);
    const b = await broker({ users: { monitor: 'mon-pw-secret' } });
    const wrong = await collector(b.port, { username: 'monitor', password: 'not-the-password' });
    await wrong.collect();
    expect(wrong.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(wrong.lastStatus()?.message).toContain('check username/password');
    expect(wrong.metrics.counters['connection_errors_total']).toBe(1);
    const right = await collector(b.port, { username: 'monitor', password: 'mon-pw-secret' });
    await right.collect();
    expect(right.lastStatus()?.state).toBe('ok');
    // the retained $SYS values at subscribe time predate the collector's own connection; the next
    // $SYS update (every second) counts it
    const deadline = Date.now() + 10_000;
    while (right.sink.last('mqtt.broker.clients.connected') !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      await right.collect();
    }
    expect(right.sink.last('mqtt.broker.clients.connected')).toBe(1);
    for (const h of [wrong, right]) expect(JSON.stringify([h.logger.lines, h.statuses])).not.toMatch(/mon-pw-secret|not-the-password/);
  });

  it('says what to change when the broker publishes no $SYS statistics', async (ctx) => {
    needBinary(ctx, 'mosquitto', INSTALL);
    const b = await broker({ sysInterval: 0 });
    const h = await collector(b.port, { timeout: '1500ms' });
    await h.collect();
    expect(h.lastStatus()?.state).toBe('degraded');
    expect(h.lastStatus()?.message).toContain('sys_interval');
    expect(h.sink.samples).toHaveLength(0);
  });

  it('survives the broker stopping mid-run and reports the restart without a negative rate', async (ctx) => {
    needBinary(ctx, 'mosquitto', INSTALL);
    const b = await broker();
    const watcher = await client(b.port);
    await sysUntil(watcher, 'uptime', (v) => v >= 3);
    await watcher.endAsync(true);
    const clock = new FakeClock(Date.now());
    const h = await collector(b.port, {}, clock);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');

    await b.stop({ keepDir: true });
    await new Promise((r) => setTimeout(r, 200));
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h.metrics.counters['connection_errors_total']).toBeGreaterThanOrEqual(1);

    await b.start();
    const deadline = Date.now() + 15_000;
    for (;;) {
      clock.advance(10_000);
      await h.collect();
      if (h.lastStatus()?.state === 'ok') break;
      if (Date.now() > deadline) throw new Error(`collector did not recover: ${JSON.stringify(h.lastStatus())}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(h.sink.events.map((e) => e.type)).toEqual(['mqtt.restart']);
    expect(h.metrics.counters['server_restarts_total']).toBe(1);
    for (const s of h.sink.samples) if (s.type === 'rate') expect(s.value, s.metric).toBeGreaterThanOrEqual(0);
  });
});

describe('mqtt collector when things go wrong', () => {
  it('reports a coded error while nothing listens, never crashing', async () => {
    const port = await freePort();
    const h = await collector(port, { timeout: '500ms' });
    await h.collect();
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h.lastStatus()?.message).toContain(`is the broker running and listening on 127.0.0.1:${port}?`);
    expect(h.metrics.counters['connection_errors_total']).toBe(2);
    expect(h.statuses.map((s) => s.state)).toEqual(['starting', 'error']);
  });

  it('shuts down cleanly, twice, with or without start', async () => {
    const h = await collector(await freePort());
    await h.shutdown();
    await h.shutdown();
    await h.collect();
    expect(h.sink.samples).toHaveLength(0);
  });
});
