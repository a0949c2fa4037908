import { SextantError, type SeriesDescriptor } from '@sextant/plugin-api';
import { startDetector } from '@sextant/testkit';
import { describe, expect, it } from 'vitest';
import { BaselineDetector, baselineDetectorFactory } from '../src/index.js';
import { START, STEP, dailySeries } from './synthetic.js';

const shop: SeriesDescriptor = { metric: 'shop.requests', unit: '{request}/s', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: {} };

/**
 * Two identical detectors see the same daily series (5-minute samples) with a spike of +150 at
 * sample 800, +80 at 1400 and +400 at 2000. Without feedback each spike is an anomaly (the second
 * scores ~0.67). One of them is told that the first was "not a problem".
 */
async function replay(feedbackAfterFirst: boolean) {
  const h = await startDetector(baselineDetectorFactory);
  const detector = h.detector as BaselineDetector;
  const id = h.catalog.series(shop);
  const other = h.catalog.series({ ...shop, metric: 'shop.orders' });
  const value = dailySeries(11);
  const spikes = new Map([[800, 150], [1400, 80], [2000, 400]]);
  for (let i = 0; i < 2100; i++) {
    const t = START + i * STEP;
    h.feed(id, t, value(t) + (spikes.get(i) ?? 0));
    h.feed(other, t, value(t));
    if (i === 800 && feedbackAfterFirst) {
      const first = h.anomalies.find((a) => a.timestamp === t)!;
      detector.feedback(id, 'not-a-problem', t, first.score);
    }
  }
  const at = (i: number) => h.anomalies.filter((a) => a.seriesId === id && Math.abs(a.timestamp - (START + i * STEP)) <= STEP).length;
  return { h, detector, id, other, at };
}

describe('baseline feedback', () => {
  it('"not a problem" quiets a surprise of that size on that series only; a larger one still alerts', async () => {
    const control = await replay(false);
    expect([control.at(800), control.at(1400), control.at(2000)]).toEqual([1, 1, 1]);
    const told = await replay(true);
    expect([told.at(800), told.at(1400), told.at(2000)]).toEqual([1, 0, 1]);
    expect(told.detector.seriesThreshold(told.id)).toBeGreaterThan(0.9);
    expect(told.detector.seriesThreshold(told.other)).toBe(0.35);
    await control.h.shutdown();
    await told.h.shutdown();
  });

  it('"missed here" lowers the threshold in steps down to a floor; both survive a restart with the exported record', async () => {
    const { h, detector, id, other } = await replay(true);
    const raised = detector.seriesThreshold(id)!;
    expect(detector.feedback(id, 'missed-here', START)).toBeCloseTo(raised - 0.1, 6);
    for (let i = 0; i < 20; i++) detector.feedback(id, 'missed-here', START);
    expect(detector.seriesThreshold(id)).toBeCloseTo(0.15, 6);
    expect(detector.feedback(999, 'missed-here', START)).toBeUndefined();
    expect(() => detector.feedback(id, 'wrong' as never, START)).toThrow(SextantError);
    const log = detector.feedbackLog();
    expect(log).toHaveLength(22);
    expect(log[0]).toMatchObject({ series: id, verdict: 'not-a-problem', thresholdBefore: 0.35 });
    expect(log[1]).toMatchObject({ verdict: 'missed-here' });
    const snapshot = detector.snapshot();
    await h.shutdown();

    const restored = await startDetector(baselineDetectorFactory);
    const again = restored.detector as BaselineDetector;
    again.restore(snapshot);
    expect(again.model.size).toBe(2);
    expect(again.seriesThreshold(id)).toBeCloseTo(0.15, 6);
    expect(again.seriesThreshold(other)).toBe(0.35);
    expect(again.feedbackLog()).toEqual(log);
    await restored.shutdown();
  });
});
