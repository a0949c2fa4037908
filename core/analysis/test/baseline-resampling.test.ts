import { describe, expect, it } from 'vitest';
import type { AnomalyInput } from '@sextant/plugin-api';
import { BaselineDetector, offlineDetectorContext } from '../src/index.js';
import { DAY, START, gaussian, seeded } from './synthetic.js';

const HOUR = 3_600_000;
const SPIKE_AT = START + 4 * DAY + 10 * HOUR;
const SHIFT_AT = START + 5 * DAY + 3 * HOUR;
const END = START + 6 * DAY;

/**
 * One process, sampled every `intervalMs`: 100 + 20 sin(daily) + N(0, 2) per sample, one sample
 * 12 above at SPIKE_AT, and +40 from SHIFT_AT on. Returns the anomalies the production detector
 * (defaults) raised.
 */
function replay(intervalMs: number): AnomalyInput[] {
  const anomalies: AnomalyInput[] = [];
  const detector = new BaselineDetector(offlineDetectorContext({ instanceId: 'baseline/resampling', size: 1, emit: (a) => anomalies.push(a) }));
  const noise = gaussian(seeded(7));
  const series = new Uint32Array(1);
  const timestamps = new Float64Array(1);
  const values = new Float64Array(1);
  for (let t = START; t < END; t += intervalMs) {
    let v = 100 + 20 * Math.sin((2 * Math.PI * (t - START)) / DAY) + 2 * noise();
    if (t >= SPIKE_AT && t < SPIKE_AT + intervalMs) v += 12;
    if (t >= SHIFT_AT) v += 40;
    timestamps[0] = t;
    values[0] = v;
    detector.process({ length: 1, series, timestamps, values });
  }
  return anomalies;
}

describe('baseline detector: memories are times, not sample counts', () => {
  it('the same process sampled every 10 s, 1 min and 5 min raises the same anomalies at the same times', () => {
    const runs = [10_000, 60_000, 300_000].map((interval) => ({ interval, found: replay(interval) }));
    for (const { found } of runs) {
      // The spike, the shift as it starts, and its confirmation as a level shift one hour
      // (`confirmMs`) later, whatever the interval (as a count of 12 samples it took 2 min at
      // 10 s and 1 h at 5 min); nothing else.
      expect(found.map((x) => x.kind)).toEqual(['spike', 'spike', 'level-shift']);
      expect(found[0].timestamp).toBe(SPIKE_AT);
      expect(found[1].timestamp).toBe(SHIFT_AT);
      expect(found[2].timestamp - SHIFT_AT).toBeGreaterThanOrEqual(HOUR - 300_000);
      expect(found[2].timestamp - SHIFT_AT).toBeLessThanOrEqual(HOUR);
    }
  });
});
