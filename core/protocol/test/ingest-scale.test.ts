/**
 * A large agent over real loopback gRPC: 200,000 series from one client across a cut link, a
 * restarted server that must learn every series again, a server with a smaller message limit than
 * the client's, and refusals the server reports back to the client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger, SampleBatch, SeriesDescriptor } from '@sextant/plugin-api';
import { IngestClient, IngestServer, type IngestHandler, type IngestServerOptions, type SeriesDefinition } from '../src/ingest/index.js';
import { RecordingIngestHandler, eventually } from './fixtures/ingest/recording-handler.js';
import { TcpLink } from './fixtures/ingest/tcp-link.js';

const TOKEN = 'test-token-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Counts instead of keeping every sample: 400,000 sample objects would dominate the test. */
class CountingHandler implements IngestHandler {
  /** localId -> the id this handler gave it (one per localId, however often it is announced). */
  readonly idOf = new Map<number, number>();
  readonly localOf = new Map<number, number>();
  definitions = 0;
  samples = 0;
  /** Samples whose value does not belong to the series they arrived under. */
  misrouted = 0;

  onSeries(_sourceId: string, localId: number, descriptor: SeriesDescriptor): number {
    this.definitions++;
    if (descriptor.attributes['series.index'] !== localId) throw new Error(`descriptor of ${localId} carries ${String(descriptor.attributes['series.index'])}`);
    let id = this.idOf.get(localId);
    if (id === undefined) {
      id = 1_000_000 + this.idOf.size;
      this.idOf.set(localId, id);
      this.localOf.set(id, localId);
    }
    return id;
  }

  onBatch(_sourceId: string, batch: SampleBatch): void {
    this.samples += batch.length;
    for (let i = 0; i < batch.length; i++) {
      if (this.localOf.get(batch.series[i]!) !== Math.floor(batch.values[i]!) % 1_000_000) this.misrouted++;
    }
  }
}

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

async function startServer(handler: IngestHandler, extra: Partial<IngestServerOptions> = {}): Promise<IngestServer> {
  const server = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler, maxSamplesPerSecondPerSource: 0, ...extra });
  cleanups.push(() => server.shutdown(500));
  return server;
}

function startClient(address: string, extra: Partial<ConstructorParameters<typeof IngestClient>[0]> = {}): IngestClient {
  const client = new IngestClient({ address, insecure: true, token: TOKEN, sourceId: 'agent:big', backoff: { initialMs: 20, maxMs: 200 }, ...extra });
  cleanups.push(() => client.close());
  return client;
}

/** Definitions of series [from, to) shaped like a container agent's (about 150 bytes each on the wire). */
function definitions(from: number, to: number): SeriesDefinition[] {
  const out: SeriesDefinition[] = [];
  for (let i = from; i < to; i++) {
    out.push({
      localId: i,
      descriptor: {
        metric: 'container.cpu.utilization',
        unit: '1',
        type: 'gauge',
        resource: { 'host.name': `node-${i % 50}`, 'container.id': `c${i.toString(16).padStart(12, '0')}`, 'service.name': `svc-${i % 300}` },
        attributes: { 'series.index': i, 'cpu.state': 'user' },
      },
    });
  }
  return out;
}

/** One sample for each series in [from, to); value = round * 1,000,000 + localId (the handler checks it). */
function samples(from: number, to: number, round: number): SampleBatch {
  const n = to - from;
  const batch = { length: n, series: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    batch.series[i] = from + i;
    batch.timestamps[i] = 1_700_000_000_000 + round * 10_000;
    batch.values[i] = round * 1_000_000 + from + i;
  }
  return batch;
}

describe('ingest at scale', () => {
  it('delivers 200,000 series from one agent through a cut link: every series once, sent == accepted', async () => {
    const SERIES = 200_000;
    const PART = 50_000;
    const handler = new CountingHandler();
    const server = await startServer(handler, { maxSeriesPerSource: 250_000 });
    const link = await TcpLink.start(server.port);
    cleanups.push(() => link.close());
    const client = startClient(`127.0.0.1:${link.port}`);

    // first quarter acknowledged, so a reconnect has to announce it again
    client.send(definitions(0, PART), samples(0, PART, 1));
    expect(await client.flush(30_000)).toBe(true);
    // second quarter in flight when the link breaks, the rest produced while it is down
    client.send(definitions(PART, 2 * PART), samples(PART, 2 * PART, 1));
    link.cutLink();
    client.send(definitions(2 * PART, 3 * PART), samples(2 * PART, 3 * PART, 1));
    client.send(definitions(3 * PART, SERIES), samples(3 * PART, SERIES, 1));
    await eventually(() => client.stats().retries > 0);
    link.restore();
    // a second round for every series (no new definitions), as an agent's next scrape
    client.send([], samples(0, SERIES, 2));
    expect(await client.flush(50_000)).toBe(true);

    const sent = client.stats();
    const received = server.stats();
    expect(handler.idOf.size).toBe(SERIES);
    expect(new Set(handler.idOf.values()).size).toBe(SERIES);
    // the same server still knew the acknowledged ones: each definition reached the handler once
    expect(handler.definitions).toBe(SERIES);
    expect(sent.samples).toBe(2 * SERIES);
    expect(received.samples).toBe(sent.samples);
    expect(handler.samples).toBe(sent.samples);
    expect(handler.misrouted).toBe(0);
    expect(received.rejected).toMatchObject({ 'unknown-series': 0, oversized: 0, 'series-limit': 0, malformed: 0, 'handler-error': 0 });
    expect(sent.dropped).toEqual({ 'buffer-full': 0, oversized: 0, rejected: 0 });
    expect(sent.droppedItems).toEqual({ series: 0, events: 0, topology: 0 });
    expect(sent.refusedByServer).toEqual({ series: 0, samples: 0 });
    expect(sent.retries).toBeGreaterThan(0);
    expect(sent.resent).toBeGreaterThan(0);
    expect(sent.reannouncedSeries).toBe(0);
    expect(sent.connected).toBe(true);
  }, 90_000);

  it('announces every series again to a restarted server, in messages below its limit', async () => {
    const SERIES = 20_000;
    const first = new CountingHandler();
    const limit = 256 * 1024;
    const server = await startServer(first, { maxMessageBytes: limit });
    const port = server.port;
    const client = startClient(`127.0.0.1:${port}`);
    client.send(definitions(0, SERIES), samples(0, SERIES, 1));
    expect(await client.flush(20_000)).toBe(true);
    expect(first.idOf.size).toBe(SERIES);

    await server.shutdown(500);
    await eventually(() => !client.stats().connected);
    const second = new CountingHandler();
    const restarted = await startServer(second, { address: `127.0.0.1:${port}`, maxMessageBytes: limit });
    await eventually(() => client.stats().connected, 20_000);
    client.send([], samples(0, SERIES, 2));
    expect(await client.flush(20_000)).toBe(true);

    expect(second.idOf.size).toBe(SERIES);
    expect(second.samples).toBe(SERIES);
    expect(second.misrouted).toBe(0);
    expect(restarted.stats().rejected).toMatchObject({ 'unknown-series': 0, oversized: 0 });
    expect(client.stats().reannouncedSeries).toBe(SERIES);
    expect(client.stats().dropped).toEqual({ 'buffer-full': 0, oversized: 0, rejected: 0 });
  }, 60_000);

  it('splits what was buffered for a larger limit once the server announces a smaller one', async () => {
    const handler = new CountingHandler();
    const server = await startServer(handler, { maxMessageBytes: 64 * 1024 });
    // sent before the server has answered: built for the client's default limit of 4 MiB
    const client = startClient(server.address);
    client.send(definitions(0, 5_000), samples(0, 5_000, 1));
    client.send([], samples(0, 5_000, 2));
    expect(await client.flush(20_000)).toBe(true);
    expect(handler.idOf.size).toBe(5_000);
    expect(handler.samples).toBe(10_000);
    expect(server.stats().rejected).toMatchObject({ 'unknown-series': 0, oversized: 0 });
    expect(client.stats().dropped.oversized).toBe(0);
  }, 30_000);

  it('announces the definitions of messages dropped from a full buffer, so later samples still count', async () => {
    const handler = new CountingHandler();
    const server = await startServer(handler);
    const { logger, lines } = recordingLogger();
    // all of this happens before the server has answered: the buffer holds 3 messages
    const client = startClient(server.address, { maxBufferBatches: 3, logger });
    client.send(definitions(0, 10), samples(0, 10, 1));
    for (let round = 2; round <= 5; round++) client.send([], samples(0, 10, round));
    expect(await client.flush(10_000)).toBe(true);

    const stats = client.stats();
    expect(stats.dropped['buffer-full']).toBe(2);
    expect(stats.droppedSamples['buffer-full']).toBe(20);
    expect(handler.idOf.size).toBe(10);
    expect(handler.samples).toBe(30); // rounds 3 to 5
    expect(handler.misrouted).toBe(0);
    expect(server.stats().rejected['unknown-series']).toBe(0);
    expect(lines.some((l) => l.level === 'warn' && /gave up on \d+ messages \(\d+ samples\) so far because of buffer-full/.test(l.message))).toBe(true);
  }, 30_000);

  it('tells the agent what the server refused, and drops only a definition that alone exceeds the limit', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler, { maxSeriesPerSource: 100, maxMessageBytes: 8 * 1024 });
    const { logger, lines } = recordingLogger();
    const client = startClient(server.address, { logger });
    const huge: SeriesDefinition = { localId: 500, descriptor: { metric: 'huge', unit: '1', type: 'gauge', resource: {}, attributes: { blob: 'x'.repeat(20_000) } } };
    client.send([...definitions(0, 150), huge], samples(0, 150, 1));
    client.send([], { length: 1, series: Uint32Array.of(500), timestamps: Float64Array.of(1), values: Float64Array.of(1) });
    expect(await client.flush(10_000)).toBe(true);
    await eventually(() => client.stats().refusedByServer.samples === 51);

    const stats = client.stats();
    expect(handler.series.size).toBe(100);
    expect(stats.refusedByServer).toEqual({ series: 50, samples: 51 }); // 50 over the limit, 1 of the dropped definition
    expect(stats.droppedItems.series).toBe(1);
    expect(server.stats().rejected).toMatchObject({ 'series-limit': 50, 'unknown-series': 51, oversized: 0 });
    expect(lines.some((l) => l.level === 'warn' && /series definition alone exceeds maxMessageBytes/.test(l.message))).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && /refused \d+ series definitions and \d+ samples/.test(l.message))).toBe(true);
  }, 30_000);
});
