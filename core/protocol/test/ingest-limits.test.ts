/**
 * One sender must not be able to take the server down or corrupt it: per-source series and sample
 * limits, refusals that are counted and logged, a consumer that refuses a series, and a wrong
 * token that is logged on the server and slows the agent down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger, SeriesDescriptor } from '@sextant/plugin-api';
import { IngestClient, IngestServer, type IngestServerOptions } from '../src/ingest/index.js';
import { RecordingIngestHandler, eventually } from './fixtures/ingest/recording-handler.js';

const TOKEN = 'test-token-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

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

const series = (i: number): SeriesDescriptor => ({ metric: 'http.requests', unit: '1', type: 'gauge', resource: { 'host.name': 'web-1' }, attributes: { request_id: `r${i}` } });

function batchOf(ids: number[], t: number) {
  const n = ids.length;
  const batch = { length: n, series: new Uint32Array(ids), timestamps: new Float64Array(n).fill(t), values: new Float64Array(n).fill(1) };
  return batch;
}

describe('per-source limits', () => {
  it('refuses series beyond maxSeriesPerSource with a counter and one log line; other sources are unaffected', async () => {
    const handler = new RecordingIngestHandler();
    const { logger, lines } = recordingLogger();
    const server = await startServer(handler, { maxSeriesPerSource: 100, logger });
    const noisy = startClient(server.address, { sourceId: 'agent:noisy' });
    const ids = Array.from({ length: 150 }, (_, i) => i);
    noisy.send(ids.map((i) => ({ localId: i, descriptor: series(i) })), batchOf(ids, 1000));
    noisy.send([], batchOf(ids, 2000));
    expect(await noisy.flush(10_000)).toBe(true);
    expect(handler.series.size).toBe(100);
    expect(server.stats().rejected['series-limit']).toBe(50);
    expect(server.stats().rejected['unknown-series']).toBe(100); // 50 refused series x 2 batches
    expect(handler.samples).toHaveLength(200);
    expect(lines.filter((l) => /agent:noisy reached its limit of 100 series/.test(l.message))).toHaveLength(1);
    const quiet = startClient(server.address, { sourceId: 'agent:quiet' });
    quiet.send([{ localId: 0, descriptor: series(0) }], batchOf([0], 1000));
    expect(await quiet.flush(10_000)).toBe(true);
    expect(handler.series.size).toBe(101);
  });

  it('never delivers a refused series under another id when the consumer is full', async () => {
    const handler = new RecordingIngestHandler();
    const original = handler.onSeries.bind(handler);
    handler.onSeries = ((sourceId: string, localId: number, d: SeriesDescriptor) => (localId >= 2 ? null : original(sourceId, localId, d))) as never;
    const server = await startServer(handler);
    const client = startClient(server.address);
    client.send([0, 1, 2, 3].map((i) => ({ localId: i, descriptor: series(i) })), batchOf([0, 1, 2, 3], 1000));
    expect(await client.flush(10_000)).toBe(true);
    expect(handler.samples.map((s) => handler.series.get(s.series)!.localId)).toEqual([0, 1]);
    expect(server.stats().rejected['series-limit']).toBe(2);
    expect(server.stats().rejected['unknown-series']).toBe(2);
  });

  it('refuses a source sending faster than maxSamplesPerSecondPerSource as retryable; the agent resends and nothing is lost', async () => {
    const handler = new RecordingIngestHandler();
    const server = await startServer(handler, { maxSamplesPerSecondPerSource: 2000 });
    const client = startClient(server.address);
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    client.send(ids.map((i) => ({ localId: i, descriptor: series(i) })), batchOf(ids, 0));
    for (let round = 1; round < 8; round++) client.send([], batchOf(ids, round));
    await eventually(() => server.stats().rejected['rate-limited'] > 0, 10_000);
    expect(await client.flush(30_000)).toBe(true);
    expect(handler.samples).toHaveLength(8000);
    expect(server.stats().duplicates + server.stats().accepted).toBeGreaterThanOrEqual(8);
  });
});

describe('per-token (tenant) limits', () => {
  it('bounds the series of all sources of one token together; another token is unaffected', async () => {
    const handler = new RecordingIngestHandler();
    const other = 'other-tenant-token-0123456789';
    const server = await startServer(handler, { tokens: [TOKEN, other], maxSeriesPerToken: 120, maxSeriesPerSource: 100 });
    // One token holder invents three source ids to dodge the per-source limit.
    for (const sourceId of ['agent:a', 'agent:b', 'agent:c']) {
      const c = startClient(server.address, { sourceId });
      const ids = Array.from({ length: 60 }, (_, i) => i);
      c.send(ids.map((i) => ({ localId: i, descriptor: series(i + sourceId.length * 1000) })), batchOf(ids, 1000));
      expect(await c.flush(10_000)).toBe(true);
    }
    expect(handler.series.size).toBe(120);
    expect(server.stats().rejected['series-limit']).toBe(60);
    const tenant2 = startClient(server.address, { sourceId: 'agent:other', token: other });
    tenant2.send([{ localId: 0, descriptor: series(0) }], batchOf([0], 1000));
    expect(await tenant2.flush(10_000)).toBe(true);
    expect(handler.series.size).toBe(121);
  });
});

describe('a wrong token', () => {
  it('is logged on the server (once a minute per peer) and slows the agent to seconds between tries, saying why', async () => {
    const handler = new RecordingIngestHandler();
    const serverLog = recordingLogger();
    const agentLog = recordingLogger();
    const server = await startServer(handler, { logger: serverLog.logger });
    const client = startClient(server.address, { token: 'wrong-token-0123456789', logger: agentLog.logger });
    client.send([{ localId: 0, descriptor: series(0) }], batchOf([0], 1));
    await eventually(() => server.stats().rejected.unauthenticated >= 1);
    await new Promise((r) => setTimeout(r, 1500));
    // with the ordinary 20-200 ms backoff this would be ~10 attempts by now
    expect(server.stats().rejected.unauthenticated).toBe(1);
    expect(serverLog.lines.filter((l) => /missing or wrong token/.test(l.message))).toHaveLength(1);
    const said = agentLog.lines.filter((l) => l.level === 'error' && /refused this agent's token \(1 time\); retrying in 5 s, data stays buffered/.test(l.message));
    expect(said).toHaveLength(1);
    expect(client.lastError?.code).toBe('SEXTANT_ERR_AUTH_FAILED');
    expect(handler.samples).toHaveLength(0);
  });
});
