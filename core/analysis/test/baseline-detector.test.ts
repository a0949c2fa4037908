import { readFileSync } from 'node:fs';
import { parseManifest, type SeriesDescriptor } from '@sextant/plugin-api';
import { startDetector } from '@sextant/testkit';
import { describe, expect, it } from 'vitest';
import { analysisPlugin as plugin, BaselineDetector, baselineDetectorFactory, inferMetricKind } from '../src/index.js';
import analysisPlugin from '../src/plugin.js';
import { DAY, START, STEP, dailySeries, gaussian, seeded } from './synthetic.js';

const shop: SeriesDescriptor = { metric: 'shop.requests', unit: '{request}/s', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: {} };

describe('baseline detector', () => {
  it('infers the metric kind from name, unit and type', () => {
    expect(inferMetricKind({ metric: 'container.cpu.utilization', unit: '1', type: 'gauge' })).toBe('utilization');
    expect(inferMetricKind({ metric: 'container.memory.usage', unit: 'By', type: 'gauge' })).toBe('memory');
    expect(inferMetricKind({ metric: 'http.server.request.duration', unit: 's', type: 'gauge' })).toBe('latency');
    expect(inferMetricKind({ metric: 'http.server.error_ratio', unit: '1', type: 'gauge' })).toBe('error-ratio');
    expect(inferMetricKind({ metric: 'shop.orders', unit: '{order}', type: 'counter' })).toBe('business-count');
    expect(inferMetricKind({ metric: 'nginx.requests', unit: '{request}', type: 'counter' })).toBe('throughput');
    expect(inferMetricKind({ metric: 'x', unit: '1', type: 'gauge', kind: 'saturation' })).toBe('saturation');
  });

  it('counts dropped samples by reason and never throws on bad input', async () => {
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series(shop);
    h.feed(id, START, 1);
    h.feed(id, START + STEP, Number.NaN);
    h.feed(id, START + STEP, Infinity);
    h.feed(id, START + STEP, 2);
    h.feed(id, START + STEP, 2); // duplicate
    h.feed(id, START, 3); // out of order
    const lat = h.catalog.series({ ...shop, metric: 'shop.latency', unit: 'ms' });
    h.feed(lat, START, -5); // a negative latency is impossible
    expect(h.metrics.counters.dropped_total).toBe(5);
    expect((h.detector as BaselineDetector).model.isFinite()).toBe(true);
    expect(h.detector.expectation?.(id)?.state).toBe('learning');
    expect(h.detector.expectation?.(999)).toBeUndefined();
    await h.shutdown();
  });

  it('stays silent while learning and provisional, and alerts once trusted', async () => {
    // 5-minute samples: learning for the first 200 samples, provisional until two days (576
    // samples; 250 samples alone are not enough), trusted after. The same big spike in each phase.
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series(shop);
    const value = dailySeries(11);
    const spikes = new Set([100, 400, 800]);
    for (let i = 0; i < 900; i++) {
      const t = START + i * STEP;
      h.feed(id, t, value(t) + (spikes.has(i) ? 400 : 0));
    }
    const at = (i: number) => h.anomalies.filter((a) => a.timestamp === START + i * STEP);
    expect(at(100)).toEqual([]);
    expect(at(400)).toEqual([]);
    expect(at(800)).toHaveLength(1);
    expect(at(800)[0].kind).toBe('spike');
    // An hourly series is trusted after 250 samples (~10 days), not after three weeks.
    const hourly = h.catalog.series({ ...shop, metric: 'shop.hourly' });
    const noise = dailySeries(13);
    for (let i = 0; i < 300; i++) {
      const t = START + i * 3_600_000;
      h.feed(hourly, t, noise(t) + (i === 280 ? 400 : 0));
    }
    expect(h.detector.expectation?.(hourly)?.state).toBe('trusted');
    expect(h.anomalies.filter((a) => a.seriesId === hourly && a.timestamp === START + 280 * 3_600_000)).toHaveLength(1);
    await h.shutdown();
  });

  it('reports a drift once, again only when it gets materially worse, not every day', async () => {
    // A daily-seasonal series that starts a steady climb of +12/day on day 8 and keeps climbing for
    // two weeks. Before, a drift that stayed was reported again every day (about ten times here).
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series(shop);
    const noise = dailySeries(12);
    const from = START + 8 * DAY;
    for (let t = START; t < START + 22 * DAY; t += STEP) h.feed(id, t, noise(t) + (t >= from ? (12 * (t - from)) / DAY : 0));
    const drifts = h.anomalies.filter((a) => a.kind === 'drift');
    expect(drifts.length).toBeGreaterThanOrEqual(1);
    expect(drifts[0].timestamp).toBeGreaterThan(from);
    // Each further report has a score at least 0.25 higher than the one before: escalation, not a daily repeat.
    for (let i = 1; i < drifts.length; i++) expect(drifts[i].score).toBeGreaterThanOrEqual(drifts[i - 1].score + 0.25 - 1e-9);
    expect(drifts.length).toBeLessThanOrEqual(4);
    await h.shutdown();
  });

  it('reports a spike that stays as the level shift it turned out to be, once', async () => {
    // A trusted daily series jumps by +150 on day 4 and stays there: the first sample is a spike
    // (nothing is known yet), and once it has stayed beyond the band for confirmSamples samples it
    // is reported again as a level shift (inside the cooldown: what the trouble is has changed).
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series(shop);
    const value = dailySeries(14);
    const jump = START + 4 * DAY + DAY / 2;
    for (let t = START; t < START + 5 * DAY; t += STEP) h.feed(id, t, value(t) + (t >= jump ? 150 : 0));
    const after = h.anomalies.filter((a) => a.timestamp >= jump);
    expect(after[0].timestamp).toBe(jump);
    expect(after[0].kind).toBe('spike');
    const shifts = after.filter((a) => a.kind === 'level-shift');
    expect(shifts).toHaveLength(1);
    expect(shifts[0].timestamp - jump).toBeLessThanOrEqual(13 * STEP);
    await h.shutdown();
  });

  it('lets samples the model dropped move nothing: repeats of a spike do not make it a level shift', async () => {
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series(shop);
    const value = dailySeries(15);
    const at = START + 4 * DAY;
    for (let t = START; t < at; t += STEP) h.feed(id, t, value(t));
    h.feed(id, at, value(at) + 300); // a spike
    for (let k = 0; k < 20; k++) h.feed(id, at, value(at) + 300); // the same timestamp again: duplicates
    for (let k = 1; k <= 20; k++) h.feed(id, at + k * STEP, value(at + k * STEP));
    const after = h.anomalies.filter((a) => a.timestamp >= at);
    expect(after.map((a) => a.kind)).toEqual(['spike']);
    expect(h.metrics.counters.dropped_total).toBe(20);
    await h.shutdown();
  });

  it('learns counters as rates across resets', async () => {
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series({ ...shop, metric: 'nginx.requests', unit: '{request}', type: 'counter' });
    let total = 0;
    for (let i = 0; i < 100; i++) {
      total = i === 50 ? 0 : total + 600; // 2 requests/s, a restart at i = 50
      h.feed(id, START + i * STEP, total);
    }
    expect(h.metrics.counters.counter_resets_total).toBe(1);
    expect(h.detector.expectation?.(id)?.expected).toBeCloseTo(2, 5);
    await h.shutdown();
  });

  it('warns before memory reaches its limit', async () => {
    const h = await startDetector(baselineDetectorFactory, { config: { exhaustionHorizon: '6h' } });
    const id = h.catalog.series({ metric: 'container.memory.usage', unit: 'By', type: 'gauge', resource: { 'container.id': 'abc', 'container.memory.limit': 2e9 }, attributes: {} });
    const value = dailySeries(2);
    // Three quiet days around 1 GB, then a leak of 50 MB per hour.
    let hitAt = 0;
    for (let t = START; t < START + 5 * DAY; t += STEP) {
      const leak = t > START + 3 * DAY ? ((t - START - 3 * DAY) / 3_600_000) * 50e6 : 0;
      h.feed(id, t, 1e9 + 1e6 * value(t) + leak);
      if (!hitAt && h.anomalies.some((a) => a.kind === 'exhaustion')) hitAt = t;
    }
    const leakAt = START + 3 * DAY;
    const limitAt = leakAt + (1e9 / 50e6) * 3_600_000; // 20 h after the leak starts
    expect(hitAt).toBeGreaterThan(leakAt);
    expect(hitAt).toBeLessThan(limitAt - 3_600_000);
    const warning = h.anomalies.find((a) => a.kind === 'exhaustion')!;
    expect(warning.message).toMatch(/reaches its limit/);
    await h.shutdown();
  });

  it('states a time to the limit that is right, on a noisy leak, and warns only within the horizon', async () => {
    // 1-minute samples with 20 MB of noise each; a leak of 60 MB/h from 0.8 GB toward a 2 GB limit
    // starts on day 3 and needs 20 h. The growth is a fit over the last hour, not the last steps'
    // noise: no warning while the limit is far, and the stated time is close to the truth.
    const h = await startDetector(baselineDetectorFactory, { config: { exhaustionHorizon: '4h' } });
    const id = h.catalog.series({ metric: 'container.memory.usage', unit: 'By', type: 'gauge', resource: { 'container.id': 'db', 'container.memory.limit': 2e9 }, attributes: {} });
    const noise = gaussian(seeded(21));
    const leakAt = START + 3 * DAY;
    const rate = 60e6 / 3_600_000; // bytes per ms
    const limitAt = leakAt + (1.2e9 / rate);
    for (let t = START; t < limitAt; t += 60_000) h.feed(id, t, 8e8 + 2e7 * noise() + (t > leakAt ? (t - leakAt) * rate : 0));
    const warnings = h.anomalies.filter((a) => a.kind === 'exhaustion');
    expect(warnings.length).toBeGreaterThan(0);
    const first = warnings[0];
    expect(first.timestamp).toBeGreaterThan(limitAt - 4.5 * 3_600_000);
    for (const w of warnings.slice(0, 5)) {
      const stated = Number(/in about (\d+) min/.exec(w.message)![1]);
      const truth = (limitAt - w.timestamp) / 60_000;
      expect(Math.abs(stated - truth)).toBeLessThan(0.2 * truth + 10);
    }
    await h.shutdown();
  });

  it('restores a snapshot so a restarted detector continues where it stopped', async () => {
    const a = await startDetector(baselineDetectorFactory);
    const id = a.catalog.series(shop);
    const v1 = dailySeries(11);
    for (let t = START; t < START + 3 * DAY; t += STEP) a.feed(id, t, v1(t));
    const b = await startDetector(baselineDetectorFactory);
    b.catalog.series(shop);
    b.detector.restore!(a.detector.snapshot!());
    expect(b.detector.expectation!(id)).toEqual(a.detector.expectation!(id));
    const spike = START + 3 * DAY + DAY / 4;
    for (const h of [a, b]) h.feed(id, spike, 300);
    expect(b.anomalies).toEqual(a.anomalies);
    expect(b.anomalies).toHaveLength(1);
    // A memory series in the middle of a leak: the restored detector warns exactly as the original.
    const memory = { metric: 'container.memory.usage', unit: 'By', type: 'gauge' as const, resource: { 'container.id': 'db', 'container.memory.limit': 2e9 }, attributes: {} };
    const c = await startDetector(baselineDetectorFactory);
    const mem = c.catalog.series(memory);
    const leak = (t: number) => 8e8 + 1e6 * v1(t) + (t > START + 3 * DAY ? ((t - START - 3 * DAY) / 3_600_000) * 6e7 : 0);
    const cut = START + 3 * DAY + 10 * 3_600_000;
    for (let t = START; t < cut; t += STEP) c.feed(mem, t, leak(t));
    const d = await startDetector(baselineDetectorFactory);
    d.catalog.series(memory);
    d.detector.restore!(c.detector.snapshot!());
    const before = c.anomalies.length;
    for (let t = cut; t < START + 4 * DAY + 2 * 3_600_000; t += STEP) {
      const x = leak(t);
      for (const h of [c, d]) h.feed(mem, t, x);
    }
    expect(c.anomalies.slice(before).some((x) => x.kind === 'exhaustion')).toBe(true);
    expect(d.anomalies).toEqual(c.anomalies.slice(before));
    await c.shutdown();
    await d.shutdown();
    // Garbage is refused with a status, not a crash.
    b.detector.restore!(new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
    expect(b.statuses.at(-1)).toMatchObject({ state: 'degraded', code: 'SEXTANT_ERR_VALUE_REJECTED' });
    await a.shutdown();
    await b.shutdown();
  });

  it('does not learn an outage while learning is paused for a maintenance window', async () => {
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series(shop);
    const value = dailySeries(12);
    for (let t = START; t < START + 3 * DAY; t += STEP) h.feed(id, t, value(t));
    const before = h.detector.expectation!(id)!.expected;
    h.detector.pauseLearning!({ 'service.name': 'shop' }, true);
    for (let i = 1; i <= 24; i++) h.feed(id, START + 3 * DAY + i * STEP, 0);
    h.detector.pauseLearning!({ 'service.name': 'shop' }, false);
    h.feed(id, START + 3 * DAY + 25 * STEP, value(START + 3 * DAY + 25 * STEP));
    // Two hours of zeros moved nothing: the expectation is still the daily curve, not ~0.
    expect(Math.abs(h.detector.expectation!(id)!.expected - before)).toBeLessThan(25);
    expect(h.detector.expectation!(id)!.expected).toBeGreaterThan(60);
    await h.shutdown();
  });

  it('rejects a bad configuration with every problem listed', async () => {
    await expect(startDetector(baselineDetectorFactory, { config: { threshold: 2, cooldown: 'soon' } })).rejects.toThrow(/threshold.*cooldown|cooldown.*threshold/s);
  });

  it('ships a plugin and a manifest that registers the baseline factory', () => {
    const added: string[] = [];
    const addFactory = (f: { type: string }) => added.push(f.type);
    analysisPlugin.register({ detectors: { addFactory }, correlators: { addFactory } });
    expect(added).toContain('baseline');
    expect(plugin).toBeDefined();
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const manifest = parseManifest(pkg.sextant);
    expect(manifest.ok).toBe(true);
  });
});
