import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { freePort, needBinary } from '@sextant/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestClient, IngestServer, INGEST_METHOD_PATH, type IngestServerOptions } from '../src/ingest/index.js';
import { encodeIngestRequest } from '../src/ingest/ingest-codec.js';
import { ProtoWriter } from '../src/ingest/protobuf-wire.js';
import { RecordingIngestHandler, eventually } from './fixtures/ingest/recording-handler.js';
import { TcpLink } from './fixtures/ingest/tcp-link.js';
import { makeTestPki } from './fixtures/ingest/tls-certificates.js';

const TOKEN = 'test-token-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startServer(handler: RecordingIngestHandler, extra: Partial<IngestServerOptions> = {}): Promise<IngestServer> {
  const server = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler, ...extra });
  cleanups.push(() => server.shutdown(500));
  return server;
}

function startClient(address: string, extra: Partial<ConstructorParameters<typeof IngestClient>[0]> = {}): IngestClient {
  const client = new IngestClient({ address, insecure: true, token: TOKEN, sourceId: 'agent:web-1', backoff: { initialMs: 20, maxMs: 200 }, ...extra });
  cleanups.push(() => client.close());
  return client;
}

const cpu = { metric: 'system.cpu.utilization', unit: '1', type: 'gauge' as const, resource: { 'host.name': 'web-1' }, attributes: { cpu: 0 } };

/** `n` samples of local series 0 at timestamps start..start+n-1. */
function samples(start: number, n = 1) {
  const batch = { length: n, series: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    batch.timestamps[i] = start + i;
    batch.values[i] = (start + i) / 1000;
  }
  return batch;
}

/** A raw stream that writes hand-made messages, for what a well-behaved client never does. */
function rawStream(address: string, token = TOKEN) {
  const client = new Client(address, credentials.createInsecure(), { 'grpc.per_rpc_retry_buffer_size': 0 });
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const call = client.makeBidiStreamRequest(INGEST_METHOD_PATH, (b: Buffer) => b, (b: Buffer) => b, md);
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    call.on('error', (err: ServiceError) => resolve(err));
    call.on('status', (s) => {
      if (s.code === status.OK) resolve(undefined);
    });
  });
  call.on('data', () => {});
  cleanups.push(() => {
    call.cancel();
    client.close();
  });
  const w = new ProtoWriter();
  const send = (sequence: number, extra: Partial<Parameters<typeof encodeIngestRequest>[1]> = {}): boolean => {
    w.reset();
    encodeIngestRequest(w, { sourceId: 'agent:raw', sequence, retainedFrom: 0, ...extra });
    return call.write(w.finish());
  };
  return { call, send, ended };
}

describe('IngestServer + IngestClient over loopback', () => {
  it('delivers series, samples, events and topology; remaps ids; acks everything', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler);
    const client = startClient(server.address);
    client.send([{ localId: 0, descriptor: cpu }], samples(1000, 3), [{ type: 'deploy', timestamp: 5, title: 'web deployed 1.2', resource: { 'service.name': 'web' } }], [
      { upsertEntities: [{ id: 'host:web-1', type: 'host', name: 'web-1', attributes: {} }] },
    ]);
    client.send([], samples(2000, 2));
    expect(await client.flush(10_000)).toBe(true);
    const [series] = handler.seriesNamed('system.cpu.utilization');
    expect(series!.descriptor.resource).toEqual({ 'host.name': 'web-1' });
    expect(handler.samples.map((s) => [s.series, s.timestamp])).toEqual([
      [series!.id, 1000],
      [series!.id, 1001],
      [series!.id, 1002],
      [series!.id, 2000],
      [series!.id, 2001],
    ]);
    expect(handler.events[0]!.title).toBe('web deployed 1.2');
    expect(handler.topology[0]!.upsertEntities![0]!.id).toBe('host:web-1');
    expect(server.stats()).toMatchObject({ received: 2, accepted: 2, duplicates: 0, samples: 5 });
    expect(client.stats()).toMatchObject({ batches: 2, acked: 2, bufferedBatches: 0 });
  });

  it('splits a batch larger than the server limit into several messages', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler, { maxMessageBytes: 16 * 1024 });
    const client = startClient(server.address);
    client.send([{ localId: 0, descriptor: cpu }], samples(0, 1)); // hello ack teaches the client the limit
    expect(await client.flush(10_000)).toBe(true);
    client.send([], samples(1, 5000));
    expect(await client.flush(10_000)).toBe(true);
    expect(handler.samples).toHaveLength(5001);
    expect(client.stats().batches).toBeGreaterThan(5);
    expect(server.stats().rejected.oversized).toBe(0);
  });

  it('refuses a stream without the right token with UNAUTHENTICATED and stores nothing', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler);
    const client = startClient(server.address, { token: 'wrong-token-0123456789' });
    client.send([{ localId: 0, descriptor: cpu }], samples(1));
    await eventually(() => client.lastError !== undefined);
    expect(client.lastError!.code).toBe('SEXTANT_ERR_AUTH_FAILED');
    expect(client.lastError!.message).toMatch(/UNAUTHENTICATED/);
    expect(server.stats().rejected.unauthenticated).toBeGreaterThan(0);
    expect(handler.samples).toHaveLength(0);
    const raw = rawStream(server.address, '');
    raw.send(1);
    expect((await raw.ended)!.code).toBe(status.UNAUTHENTICATED);
  });

  it('refuses to listen in plain text on a non-loopback address', async () => {
    await expect(IngestServer.start({ address: '0.0.0.0:0', insecureLoopback: true, tokens: TOKEN, handler: new RecordingIngestHandler() })).rejects.toThrow(/not a loopback address/);
    await expect(IngestServer.start({ address: '127.0.0.1:0', tokens: TOKEN, handler: new RecordingIngestHandler() })).rejects.toThrow(/neither tls nor insecureLoopback/);
    await expect(IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: 'short', handler: new RecordingIngestHandler() })).rejects.toThrow(/at least 16 characters/);
  });

  it('counts duplicates by (source, sequence) and never stores them twice', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler);
    const raw = rawStream(server.address);
    raw.send(0, { series: [{ localId: 0, descriptor: cpu }] });
    for (const seq of [1, 2, 1, 2, 3, 3]) raw.send(seq, { batch: samples(seq * 10) });
    raw.call.end();
    await raw.ended;
    expect(server.stats()).toMatchObject({ received: 6, accepted: 3, duplicates: 3, samples: 3 });
    expect(handler.samples.map((s) => s.timestamp)).toEqual([10, 20, 30]);
  });

  it('counts and drops samples of series that were never announced', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler);
    const raw = rawStream(server.address);
    raw.send(0, { series: [{ localId: 0, descriptor: cpu }] });
    const batch = samples(1, 3);
    batch.series[1] = 77;
    raw.send(1, { batch });
    raw.call.end();
    await raw.ended;
    expect(handler.samples.map((s) => s.timestamp)).toEqual([1, 3]);
    expect(server.stats().rejected['unknown-series']).toBe(1);
  });
});

describe('link cut and restored', () => {
  it('resends after the link heals: sent == accepted, nothing stored twice', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler);
    const link = await TcpLink.start(server.port);
    cleanups.push(() => link.close());
    const client = startClient(`127.0.0.1:${link.port}`);
    client.send([{ localId: 0, descriptor: cpu }], samples(0, 10));
    for (let i = 1; i < 50; i++) client.send([], samples(i * 10, 10));
    link.cutLink();
    for (let i = 50; i < 100; i++) client.send([], samples(i * 10, 10));
    await eventually(() => client.stats().retries >= 2);
    expect(client.stats().connected).toBe(false);
    link.restore();
    expect(await client.flush(20_000)).toBe(true);

    const stats = server.stats();
    expect(stats.accepted).toBe(client.stats().batches);
    expect(stats.accepted).toBe(100);
    expect(client.stats().acked).toBe(100);
    expect(client.stats().dropped).toEqual({ 'buffer-full': 0, oversized: 0, rejected: 0 });
    // every sample exactly once
    const timestamps = handler.samples.map((s) => s.timestamp).sort((a, b) => a - b);
    expect(timestamps).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(stats.samples).toBe(1000);
  });

  it('drops the oldest messages with a counter when the buffer is full, and the server stops waiting for them', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler);
    const link = await TcpLink.start(server.port);
    cleanups.push(() => link.close());
    const client = startClient(`127.0.0.1:${link.port}`, { maxBufferBatches: 5 });
    client.send([{ localId: 0, descriptor: cpu }], samples(0));
    expect(await client.flush(10_000)).toBe(true);
    link.cutLink();
    for (let i = 1; i <= 20; i++) client.send([], samples(i));
    expect(client.stats().dropped['buffer-full']).toBe(15);
    link.restore();
    expect(await client.flush(20_000)).toBe(true);
    expect(handler.samples.map((s) => s.timestamp)).toEqual([0, 16, 17, 18, 19, 20]);
    // the next message is accepted at once: the server is not waiting for the dropped ones
    client.send([], samples(21));
    expect(await client.flush(10_000)).toBe(true);
    expect(server.stats().accepted).toBe(7);
  });
});

describe('limits', () => {
  it('refuses an oversized message with RESOURCE_EXHAUSTED naming the limit; other streams are fine', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler, { maxMessageBytes: 64 * 1024 });
    const good = startClient(server.address, { sourceId: 'agent:good' });
    const raw = rawStream(server.address);
    raw.send(0, { series: [{ localId: 0, descriptor: cpu }] });
    raw.send(1, { batch: samples(0, 5000) }); // ~100 KB
    const err = await raw.ended;
    expect(err!.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err!.details).toMatch(/65536/);
    expect(server.stats().rejected.oversized).toBe(1);
    good.send([{ localId: 0, descriptor: cpu }], samples(0, 10));
    expect(await good.flush(10_000)).toBe(true);
    expect(handler.samples.filter((s) => handler.series.get(s.series)!.sourceId === 'agent:good')).toHaveLength(10);
  });

  it('refuses a flood of tiny messages on the flooding stream only', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler, { maxMessagesPerSecondPerStream: 200 });
    const good = startClient(server.address, { sourceId: 'agent:good' });
    const raw = rawStream(server.address);
    raw.send(0, { series: [{ localId: 0, descriptor: cpu }] });
    for (let seq = 1; seq <= 5000; seq++) raw.send(seq, { batch: samples(seq) });
    const err = await raw.ended;
    expect(err!.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err!.details).toMatch(/200 messages\/s/);
    expect(server.stats().rejected['rate-limited']).toBe(1);
    for (let i = 0; i < 10; i++) good.send(i === 0 ? [{ localId: 0, descriptor: cpu }] : [], samples(i));
    expect(await good.flush(10_000)).toBe(true);
    expect(good.stats().acked).toBe(10);
  });

  it('answers RESOURCE_EXHAUSTED while the pipeline queue is full; the agent retries and loses nothing', async () => {
    const handler = new RecordingIngestHandler();
    let open!: () => void;
    handler.gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startServer(handler, { maxQueue: 8, maxQueuePerStream: 2 });
    // The agent reconnects within ~20 ms and a successful hello clears lastError, so polling it
    // raced with the retry; the agent's log line is what an operator sees, and it stays.
    const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, fields }) };
    const client = startClient(server.address, { logger });
    client.send([{ localId: 0, descriptor: cpu }], samples(0));
    for (let i = 1; i < 10; i++) client.send([], samples(i));
    await eventually(() => server.stats().rejected['queue-full'] > 0);
    await eventually(() => warnings.some((w) => w.message === 'ingest stream ended' && w.fields?.code === 8 && /ingest queue is full/.test(String(w.fields?.details))));
    handler.gate = undefined;
    open();
    expect(await client.flush(20_000)).toBe(true);
    expect(server.stats().accepted).toBe(10);
    expect(handler.samples.map((s) => s.timestamp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('TLS', () => {
  it('works with mTLS, and refuses clients without a certificate or with one from another CA', async (ctx) => {
    const openssl = needBinary(ctx, 'openssl', 'apt-get install openssl');
    const pki = makeTestPki(openssl);
    const handler = new RecordingIngestHandler();
    const port = await freePort();
    const server = await IngestServer.start({
      address: `127.0.0.1:${port}`,
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requireClientCert: true },
      tokens: TOKEN,
      handler,
    });
    cleanups.push(() => server.shutdown(500));

    const trusted = new IngestClient({ address: `127.0.0.1:${port}`, tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey }, token: TOKEN, sourceId: 'agent:trusted', backoff: { initialMs: 20, maxMs: 200 } });
    cleanups.push(() => trusted.close());
    trusted.send([{ localId: 0, descriptor: cpu }], samples(1));
    expect(await trusted.flush(10_000)).toBe(true);

    for (const [name, tls] of [
      ['no certificate', { ca: pki.caCert }],
      ['certificate from another CA', { ca: pki.caCert, cert: pki.strangerCert, key: pki.strangerKey }],
    ] as const) {
      const client = new IngestClient({ address: `127.0.0.1:${port}`, tls, token: TOKEN, sourceId: `agent:${name}`, backoff: { initialMs: 20, maxMs: 200 } });
      cleanups.push(() => client.close());
      client.send([{ localId: 0, descriptor: cpu }], samples(2));
      await eventually(() => client.lastError !== undefined && client.stats().retries >= 2);
      expect(client.lastError!.message, name).toMatch(/UNAVAILABLE/);
      expect(client.stats().acked, name).toBe(0);
    }
    expect(handler.samples.map((s) => s.timestamp)).toEqual([1]);
  });

  it('with TLS but without mTLS, still refuses a wrong token', async (ctx) => {
    const openssl = needBinary(ctx, 'openssl', 'apt-get install openssl');
    const pki = makeTestPki(openssl);
    const handler = new RecordingIngestHandler();
    const server = await IngestServer.start({ address: '127.0.0.1:0', tls: { cert: pki.serverCert, key: pki.serverKey }, tokens: [TOKEN, 'second-token-for-rotation'], handler });
    cleanups.push(() => server.shutdown(500));
    const rotated = new IngestClient({ address: server.address, tls: { ca: pki.caCert }, token: 'second-token-for-rotation', sourceId: 'agent:a' });
    cleanups.push(() => rotated.close());
    rotated.send([{ localId: 0, descriptor: cpu }], samples(1));
    expect(await rotated.flush(10_000)).toBe(true);
    const wrong = new IngestClient({ address: server.address, tls: { ca: pki.caCert }, token: 'not-the-token-at-all', sourceId: 'agent:b' });
    cleanups.push(() => wrong.close());
    wrong.send([{ localId: 0, descriptor: cpu }], samples(2));
    await eventually(() => wrong.lastError !== undefined);
    expect(wrong.lastError!.code).toBe('SEXTANT_ERR_AUTH_FAILED');
    expect(handler.samples).toHaveLength(1);
  });
});
