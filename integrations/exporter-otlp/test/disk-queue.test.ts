/**
 * The on-disk queue (DiskPayloadQueue from @sextant/integration-kit, shared with the remote-write
 * exporter): Sextant's real OTLP/HTTP receiver goes down, the exporter keeps what it produces on
 * disk, Sextant itself restarts during the outage, the receiver comes back on the same address,
 * and every point arrives, once, in order.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestServer, OtlpHttpReceiver, type IngestHandler } from '@sextant/protocol';
import { freePort } from '@sextant/testkit';
import type { SampleBatch, SeriesDescriptor } from '@sextant/plugin-api';
import { startExporter, until } from './exporter-context.js';

const TOKEN = 'otlp-disk-queue-token-0123456789';
const SERIES: SeriesDescriptor[] = [{ metric: 'shop.orders', unit: '{order}', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: {} }];
const T0 = 1_764_000_000_000;

class Received implements IngestHandler {
  readonly values: number[] = [];
  onSeries(): number {
    return 1;
  }
  onBatch(_source: string, b: SampleBatch): void {
    for (let i = 0; i < b.length; i++) this.values.push(b.values[i]!);
  }
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function sample(k: number): SampleBatch {
  return { length: 1, series: new Uint32Array([0]), timestamps: new Float64Array([T0 + k * 15_000]), values: new Float64Array([k]) };
}

describe('OTLP exporter queue on disk', () => {
  it('loses nothing when the receiver is down, even across a restart of the exporter, and delivers in order when it returns', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sextant-otlp-queue-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const handler = new Received();
    const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => ingest.shutdown(500));
    const port = await freePort();
    let http = await OtlpHttpReceiver.start({ address: `127.0.0.1:${port}`, ingest });
    cleanups.push(() => http.shutdown());
    const config = { endpoint: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${TOKEN}` }, signals: false, anomalies: false, backoff: { initial: 20, max: 200 } };

    const first = await startExporter(SERIES, config, dataDir);
    first.exporter.exportSamples(sample(1), undefined);
    await until(() => handler.values.length === 1);

    // the receiver goes away; what is produced meanwhile waits on disk
    await http.shutdown();
    for (const k of [2, 3, 4]) first.exporter.exportSamples(sample(k), undefined);
    await until(() => (first.metrics.counters.otlp_request_failures_total ?? 0) >= 2);
    expect(first.exporter.pending.requests).toBe(3);
    expect(readdirSync(join(dataDir, 'queue')).some((f) => f.endsWith('.seg'))).toBe(true);
    expect(first.statuses.at(-1)).toMatchObject({ state: 'degraded', message: expect.stringContaining('bytes queued, retrying') });

    // Sextant stops during the outage and starts again on the same data directory
    await first.exporter.shutdown();
    const second = await startExporter(SERIES, config, dataDir);
    cleanups.push(() => second.exporter.shutdown());
    second.exporter.exportSamples(sample(5), undefined);
    expect(second.exporter.pending.requests).toBe(4);

    // the receiver comes back on the same address: everything arrives, once, in order
    http = await OtlpHttpReceiver.start({ address: `127.0.0.1:${port}`, ingest });
    await until(() => handler.values.length >= 5 && second.exporter.pending.requests === 0, 30_000);
    expect(handler.values).toEqual([1, 2, 3, 4, 5]);
    expect(second.metrics.counters.otlp_queue_dropped_total ?? 0).toBe(0);
    expect(second.logger.lines.some((r) => /in memory/.test(r.message))).toBe(false);
  });
});
