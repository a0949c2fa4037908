import { startDetector } from '@sextant/testkit';
import { describe, expect, it } from 'vitest';
import { baselineDetectorFactory } from '../src/index.js';
import { DAY, START, STEP, dailySeries } from './synthetic.js';

/**
 * The synthetic check of the issue: a daily-seasonal series (5-minute samples) with
 * - a one-sample spike on day 4 at 06:00,
 * - a level shift of +40 from day 5 at 18:00 on,
 * - a slow drift of +12 per day from day 8 on, against a bound of 250 (normal peak is ~180).
 */
const SPIKE_AT = START + 4 * DAY + DAY / 4; // 06:00, the daily peak (expected ~130)
const SHIFT_AT = START + 5 * DAY + (3 * DAY) / 4;
const DRIFT_FROM = START + 8 * DAY;
const BOUND = 250;
const END = START + 16 * DAY;

function scenario() {
  const base = dailySeries(7);
  return (t: number) => {
    let v = base(t);
    if (t === SPIKE_AT) v += 90;
    if (t >= SHIFT_AT) v += 40;
    if (t >= DRIFT_FROM) v += (12 * (t - DRIFT_FROM)) / DAY;
    return v;
  };
}

describe('baseline detector on a seasonal series with a spike, a level shift and a drift', () => {
  it('finds the spike, the shift once (then accepts it), and the drift before it crosses the bound', async () => {
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series({ metric: 'shop.requests', unit: '{request}/s', type: 'gauge', kind: 'generic', resource: { 'service.name': 'shop' }, attributes: {} });
    const value = scenario();
    let crossedAt = Infinity;
    for (let t = START; t < END; t += STEP) {
      const v = value(t);
      if (v > BOUND && crossedAt === Infinity) crossedAt = t;
      h.feed(id, t, v);
    }
    const a = h.anomalies;
    if (process.env.DEBUG_SCENARIO) console.log(a.map((x) => `${((x.timestamp - START) / DAY).toFixed(3)} ${x.kind} ${x.score.toFixed(3)} v=${x.value.toFixed(1)} e=${x.expected.toFixed(1)}`).join("\n"));
    const inRange = (from: number, to: number) => a.filter((x) => x.timestamp >= from && x.timestamp < to);
    // Nothing before the spike: the daily swing of +-30 is learned, not alerted.
    expect(inRange(START, SPIKE_AT)).toEqual([]);
    const spike = inRange(SPIKE_AT, SPIKE_AT + STEP);
    expect(spike).toHaveLength(1);
    expect(spike[0].kind).toBe('spike');
    expect(spike[0].expected).toBeGreaterThan(110);
    expect(spike[0].expected).toBeLessThan(150);
    // The shift: found within the hour, exactly once, and quiet for the following days.
    const shift = inRange(SHIFT_AT, DRIFT_FROM);
    expect(shift).toHaveLength(1);
    expect(shift[0].timestamp - SHIFT_AT).toBeLessThan(3_600_000);
    // The drift: found after it starts and before the series crosses the bound.
    expect(crossedAt).toBeLessThan(END);
    const drift = inRange(DRIFT_FROM, crossedAt);
    expect(drift.length).toBeGreaterThanOrEqual(1);
    expect(drift[0].kind).toBe('drift');
    await h.shutdown();
  });
});
