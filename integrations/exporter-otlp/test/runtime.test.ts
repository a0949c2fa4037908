/**
 * Through a real Sextant runtime (startTestRuntime): a collector and a fixed-model detector feed
 * the `otlp` exporter via the runtime's exporter hand-over; metrics land in Sextant's own OTLP/HTTP
 * receiver and anomaly log records are decoded by the test's router, which forwards `/v1/metrics`
 * to that receiver and keeps `/v1/logs`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IngestServer, OtlpHttpReceiver, type IngestHandler } from '@sextant/protocol';
import { collectorsExtensionPoint, createCollectorFactory, createDetectorFactory, createPlugin, detectorsExtensionPoint, type SampleBatch, type SeriesDescriptor, type SeriesExpectation } from '@sextant/plugin-api';
import { startTestRuntime, type TestRuntime } from '@sextant/testkit';
import otlpPlugin from '../src/plugin.js';
import { until } from './exporter-context.js';
import { decodeLogsRequest, type DecodedLogRecord } from './otlp-schema.js';

const TOKEN = 'otlp-runtime-token-0123456789';

function shopPlugin() {
  const start = Date.now() - 10 * 60_000;
  let round = 0;
  const orders = createCollectorFactory({
    type: 'orders', stability: 'stable', description: 'orders of a test shop', configSchema: z.object({}), defaults: {},
    create: (ctx) => ({
      collect() {
        const id = ctx.sink.series({ metric: 'shop.orders', unit: '{order}', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: { region: 'eu' } });
        ctx.sink.sample(id, round === 5 ? 500 : 10, start + round++ * 1000);
      },
      shutdown() {},
    }),
  });
  const judge = createDetectorFactory({
    type: 'judge', stability: 'stable', description: 'expects 10 in [8, 12]; above 100 is an anomaly', configSchema: z.object({}), defaults: {},
    create: (ctx) => {
      const last = new Map<number, SeriesExpectation>();
      return {
        process(b: SampleBatch) {
          for (let i = 0; i < b.length; i++) {
            last.set(b.series[i]!, { timestamp: b.timestamps[i]!, expected: 10, lower: 8, upper: 12, state: 'trusted' });
            if (b.values[i]! > 100) ctx.emit({ seriesId: b.series[i]!, detector: 'judge', kind: 'spike', timestamp: b.timestamps[i]!, value: b.values[i]!, expected: 10, lower: 8, upper: 12, score: 0.97, severity: 'critical', message: 'orders spike' });
          }
        },
        expectation: (id) => last.get(id),
        shutdown() {},
      };
    },
  });
  return createPlugin({ pluginId: 'shop', deps: { collectors: collectorsExtensionPoint, detectors: detectorsExtensionPoint }, register({ collectors, detectors }) { collectors.addFactory(orders); detectors.addFactory(judge); } });
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('the otlp exporter in a running Sextant', () => {
  it('exports the series, its expected value and band, and the anomaly (score metric and log record)', async () => {
    const stored: { d: SeriesDescriptor; value: number }[] = [];
    const descriptors = new Map<number, SeriesDescriptor>();
    const handler: IngestHandler = {
      onSeries: (_s, _l, d) => (descriptors.set(descriptors.size + 1, d), descriptors.size),
      onBatch: (_s, b) => { for (let i = 0; i < b.length; i++) stored.push({ d: descriptors.get(b.series[i]!)!, value: b.values[i]! }); },
    };
    const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => ingest.shutdown(500));
    const otlp = await OtlpHttpReceiver.start({ address: '127.0.0.1:0', ingest });
    cleanups.push(() => otlp.shutdown());

    const logs: DecodedLogRecord[] = [];
    const router: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/v1/logs') {
          logs.push(...decodeLogsRequest(new Uint8Array(body)));
          res.setHeader('content-type', 'application/x-protobuf');
          res.end();
          return;
        }
        const headers = { 'content-type': String(req.headers['content-type']), authorization: String(req.headers.authorization) };
        try {
          const forwarded = await fetch(`http://${otlp.address}${req.url}`, { method: 'POST', headers, body });
          res.statusCode = forwarded.status;
          res.end(Buffer.from(await forwarded.arrayBuffer()));
        } catch {
          res.statusCode = 502;
          res.end();
        }
      });
    });
    await new Promise<void>((r) => router.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => router.close(r)));

    const rt: TestRuntime = await startTestRuntime({
      plugins: [shopPlugin(), otlpPlugin],
      config: {
        collectors: { orders: {} },
        detectors: { judge: {} },
        exporters: { otlp: { endpoint: `http://127.0.0.1:${(router.address() as AddressInfo).port}`, compression: 'none', headers: { authorization: `Bearer ${TOKEN}` }, backoff: { initial: 20, max: 100 } } },
      },
    });
    cleanups.push(() => rt.stop());
    expect(rt.problems).toEqual([]);
    for (let i = 0; i < 8; i++) await rt.collect();

    const named = (m: string) => stored.filter((s) => s.d.metric === m);
    await until(() => named('shop.orders').length === 8 && named('sextant.anomaly.score').length === 1 && logs.length === 1);
    expect(named('shop.orders').map((s) => s.value)).toEqual([10, 10, 10, 10, 10, 500, 10, 10]);
    expect(named('shop.orders')[0]!.d).toMatchObject({ resource: { 'service.name': 'shop' }, attributes: { region: 'eu' } });
    expect(new Set(named('sextant.expected').map((s) => s.value))).toEqual(new Set([10]));
    expect(new Set(named('sextant.band.upper').map((s) => s.value))).toEqual(new Set([12]));
    expect(named('sextant.anomaly.score')[0]).toMatchObject({ value: 0.97, d: { attributes: { 'sextant.metric': 'shop.orders', 'sextant.detector': 'judge', 'sextant.anomaly.kind': 'spike', region: 'eu' } } });
    expect(logs[0]).toMatchObject({ eventName: 'sextant.anomaly', body: 'orders spike', severityText: 'ERROR', attributes: { 'sextant.metric': 'shop.orders', 'sextant.anomaly.score': 0.97, 'sextant.anomaly.value': 500 } });
  }, 60_000);
});
