/**
 * The `/metrics` federation endpoint: the page parses with no malformed line, and a real
 * Prometheus 2.42 scraping it stores Sextant's signals at the times Sextant judged them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingLogger, RecordingMetrics, needBinary, resolveConfig, systemClock } from '@sextant/testkit';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { parseExposition } from '@sextant/plugin-prometheus';
import { FederationExporter, federationExporterFactory } from '../src/index.js';
import { PrometheusReceiver } from './prometheus-receiver.js';

let exporter: FederationExporter | undefined;
let receiver: PrometheusReceiver | undefined;
afterAll(async () => {
  await exporter?.shutdown();
  await receiver?.destroy();
});

const series: SeriesDescriptor[] = [
  { metric: 'shop.orders', unit: '{order}', type: 'gauge', resource: { 'service.name': 'shop', 'service.instance.id': 'shop-1' }, attributes: { note: 'quote " and \\ backslash' } },
  { metric: 'shop.carts', unit: '{cart}', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: {} },
];

async function start(config: Record<string, unknown> = {}): Promise<FederationExporter> {
  const resolved = await resolveConfig(federationExporterFactory, { listen: '127.0.0.1:0', ...config });
  const x = new FederationExporter({
    config: resolved, metrics: new RecordingMetrics(), logger: new RecordingLogger(), clock: systemClock, status: { set() {} }, dataDir: undefined,
    instanceId: 'prometheus-federation/test', signal: new AbortController().signal, catalog: { describe: (id) => series[id], size: series.length },
  });
  await x.start();
  return x;
}

describe('prometheus-federation exporter', () => {
  it('serves the latest signals with their timestamps; a real Prometheus scrapes and stores them', async (ctx) => {
    const binary = needBinary(ctx, 'prometheus', 'apt-get install prometheus');
    exporter = await start({ samples: true });
    const t = Date.now() - 5_000;
    exporter.exportSamples(
      { length: 2, series: new Uint32Array([0, 1]), timestamps: new Float64Array([t, t]), values: new Float64Array([42, 3]) },
      { expected: new Float64Array([10, NaN]), lower: new Float64Array([8, NaN]), upper: new Float64Array([12, NaN]), state: new Uint8Array([3, 0]) },
    );
    exporter.exportAnomalies([{ id: 'a1', seriesId: 0, metric: 'shop.orders', resource: series[0].resource, attributes: series[0].attributes, detector: 'baseline', kind: 'spike', timestamp: t, value: 42, expected: 10, lower: 8, upper: 12, score: 0.93, severity: 'critical', message: 'spike' }]);

    const page = await (await fetch(`http://127.0.0.1:${exporter.port}/metrics`)).text();
    const errors: string[] = [];
    const names: string[] = [];
    parseExposition(page, 'text', { type() {}, help() {}, unit() {}, error: (l, m) => void errors.push(`${l}: ${m}`), sample: (s, n) => void names.push(s.slice(0, n)) });
    expect(errors).toEqual([]);
    expect(names.sort()).toEqual(['sextant_anomaly_score', 'sextant_band_lower', 'sextant_band_upper', 'sextant_expected', 'sextant_learning_state', 'shop_carts', 'shop_orders']);
    expect(page).toContain(`sextant_expected{instance="shop-1",job="shop",note="quote \\" and \\\\ backslash",sextant_metric="shop_orders"} 10 ${t}`);

    receiver = await PrometheusReceiver.create(binary, `127.0.0.1:${exporter.port}`);
    await receiver.start();
    const scores = await receiver.waitFor('last_over_time(sextant_anomaly_score[1h])', (r) => (r.length ? r : undefined));
    expect(scores).toEqual([{ metric: expect.objectContaining({ sextant_metric: 'shop_orders', job: 'sextant', exported_job: 'shop', note: 'quote " and \\ backslash' }), value: 0.93 }]);
    const upper = await receiver.query('last_over_time(sextant_band_upper[1h])');
    expect(upper.map((r) => r.value)).toEqual([12]);
    // stored at Sextant's timestamp, not at scrape time
    const at = await receiver.query('timestamp(sextant_expected)');
    expect(Math.round(at[0].value * 1000)).toBe(t);
  }, 60_000);

  it('leaves out series not updated for ttl, and asks for the token when one is set', async () => {
    const x = await start({ ttl: '1m', bearerToken: 'scrape-secret' });
    try {
      const old = Date.now() - 120_000;
      x.exportSamples({ length: 1, series: new Uint32Array([1]), timestamps: new Float64Array([old]), values: new Float64Array([1]) }, { expected: new Float64Array([1]), lower: new Float64Array([0]), upper: new Float64Array([2]), state: new Uint8Array([2]) });
      expect(x.render(Date.now())).toBe('');
      expect((await fetch(`http://127.0.0.1:${x.port}/metrics`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${x.port}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${x.port}/other`)).status).toBe(404);
    } finally {
      await x.shutdown();
      await x.shutdown();
    }
  });

  it('refuses to start on a port that is taken, with a coded error naming the address', async () => {
    const first = await start();
    try {
      await expect(start({ listen: `127.0.0.1:${first.port}` })).rejects.toMatchObject({ code: 'SEXTANT_ERR_START_FAILED', message: `cannot listen on 127.0.0.1:${first.port}: EADDRINUSE` });
      // the first one still serves
      expect((await fetch(`http://127.0.0.1:${first.port}/metrics`)).status).toBe(200);
    } finally {
      await first.shutdown();
    }
  });
});
