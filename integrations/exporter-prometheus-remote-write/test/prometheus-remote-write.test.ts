/**
 * Grafana-style use, for real: Sextant judges a series and a local Prometheus 2.42 receives the
 * series, its expected value, band and learning state, and the anomaly score by remote write, and
 * answers PromQL on them. Then the receiver is killed mid-run and started again: everything queued
 * meanwhile arrives.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  collectorsExtensionPoint,
  createCollectorFactory,
  createDetectorFactory,
  createPlugin,
  detectorsExtensionPoint,
  type SampleBatch,
  type SeriesExpectation,
} from '@sextant/plugin-api';
import { needBinary, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import remoteWritePlugin from '../src/plugin.js';
import { PrometheusReceiver } from './prometheus-receiver.js';

/** One sample per round of `shop.orders{phase}`; the value is 10 except in spike rounds (500). Timestamps 1 s apart, starting 30 min ago. */
function ordersPlugin(state: { round: number; phase: string; spikeRounds: Set<number> }) {
  const start = Date.now() - 30 * 60_000;
  const orders = createCollectorFactory({
    type: 'orders',
    stability: 'stable',
    description: 'orders per minute of a test shop',
    configSchema: z.object({}),
    defaults: {},
    create(ctx) {
      return {
        collect() {
          const id = ctx.sink.series({ metric: 'shop.orders', unit: '{order}', type: 'gauge', resource: { 'service.name': 'shop', 'service.instance.id': 'shop-1' }, attributes: { phase: state.phase } });
          ctx.sink.sample(id, state.spikeRounds.has(state.round) ? 500 : 10, start + state.round++ * 1000);
        },
        shutdown() {},
      };
    },
  });
  /** Expects 10 in [8, 12] (learning for the first 3 samples); a value above 100 is an anomaly with score 0.97. */
  const judge = createDetectorFactory({
    type: 'judge',
    stability: 'stable',
    description: 'a fixed model',
    configSchema: z.object({}),
    defaults: {},
    create(ctx) {
      const seen = new Map<number, { n: number; last?: SeriesExpectation }>();
      return {
        process(batch: SampleBatch) {
          for (let i = 0; i < batch.length; i++) {
            const s = seen.get(batch.series[i]) ?? { n: 0 };
            s.n++;
            s.last = { timestamp: batch.timestamps[i], expected: 10, lower: 8, upper: 12, state: s.n > 3 ? 'trusted' : 'learning' };
            seen.set(batch.series[i], s);
            if (batch.values[i] > 100) {
              ctx.emit({ seriesId: batch.series[i], detector: 'judge', kind: 'spike', timestamp: batch.timestamps[i], value: batch.values[i], expected: 10, lower: 8, upper: 12, score: 0.97, severity: 'critical', message: 'orders spike' });
            }
          }
        },
        expectation: (id) => seen.get(id)?.last,
        shutdown() {},
      };
    },
  });
  return createPlugin({
    pluginId: 'shop',
    deps: { collectors: collectorsExtensionPoint, detectors: detectorsExtensionPoint },
    register({ collectors, detectors }) {
      collectors.addFactory(orders);
      detectors.addFactory(judge);
    },
  });
}

let receiver: PrometheusReceiver | undefined;
let rt: TestRuntime | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  await rt?.stop();
  await receiver?.destroy();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('remote write to a real Prometheus 2.42', () => {
  it('delivers series, expected value, band, learning state and anomaly scores that PromQL can query; survives a receiver outage', async (ctx) => {
    const binary = needBinary(ctx, 'prometheus', 'apt-get install prometheus');
    receiver = await PrometheusReceiver.create(binary);
    await receiver.start();
    dataDir = await mkdtemp(join(tmpdir(), 'sextant-rw-data-'));
    const state = { round: 0, phase: 'before', spikeRounds: new Set([6]) };
    rt = await startTestRuntime({
      plugins: [ordersPlugin(state), remoteWritePlugin],
      config: {
        dataDir,
        collectors: { orders: {} },
        detectors: { judge: {} },
        exporters: { 'prometheus-remote-write': { url: receiver.writeUrl, backoff: { initial: 50, max: 200 }, externalLabels: { cluster: 'test' } } },
      },
    });
    expect(rt.problems).toEqual([]);
    for (let i = 0; i < 10; i++) await rt.collect();

    // the anomaly score, with the original series' labels and the detector
    const scores = await receiver.waitFor('last_over_time(sextant_anomaly_score{sextant_metric="shop_orders"}[1h])', (r) => (r.length ? r : undefined));
    expect(scores).toEqual([
      {
        metric: expect.objectContaining({ sextant_metric: 'shop_orders', sextant_detector: 'judge', sextant_kind: 'spike', job: 'shop', instance: 'shop-1', phase: 'before', cluster: 'test' }),
        value: 0.97,
      },
    ]);
    // the series itself and its signals, over the whole run
    const count = async (q: string) => (await receiver!.query(q))[0]?.value;
    await receiver.waitFor('count_over_time(shop_orders{phase="before"}[1h])', (r) => r[0]?.value === 10 || undefined);
    expect(await count('count_over_time(sextant_expected{sextant_metric="shop_orders",phase="before"}[1h])')).toBe(10);
    expect(await count('max_over_time(sextant_band_upper{sextant_metric="shop_orders"}[1h])')).toBe(12);
    expect(await count('min_over_time(sextant_band_lower{sextant_metric="shop_orders"}[1h])')).toBe(8);
    expect(await count('max_over_time(shop_orders[1h])')).toBe(500);
    // learning (1) for three samples, then trusted (3)
    expect(await count('count_over_time((sextant_learning_state{sextant_metric="shop_orders"} == 1)[1h:1s])')).toBeGreaterThan(0);
    expect(await count('last_over_time(sextant_learning_state{sextant_metric="shop_orders"}[1h])')).toBe(3);

    // outage: kill -9 the receiver mid-run; rounds go on and queue on disk
    await receiver.kill('SIGKILL');
    state.phase = 'during';
    for (let i = 0; i < 20; i++) await rt.collect();
    const status = () => rt!.runtime.statuses().find((s) => s.id === 'prometheus-remote-write');
    await waitUntil(() => status()?.state === 'degraded');
    expect(status()?.message).toMatch(/bytes queued, retrying/);

    await receiver.start();
    state.phase = 'after';
    for (let i = 0; i < 5; i++) await rt.collect();
    await receiver.waitFor('count_over_time(shop_orders{phase="during"}[1h])', (r) => r[0]?.value === 20 || undefined);
    await receiver.waitFor('count_over_time(shop_orders{phase="after"}[1h])', (r) => r[0]?.value === 5 || undefined);
    expect(await count('count_over_time(sextant_expected{phase="during"}[1h])')).toBe(20);
    await waitUntil(() => status()?.state === 'ok');
  }, 120_000);
});

async function waitUntil(cond: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
