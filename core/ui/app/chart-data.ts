/**
 * Turns API samples into the column arrays uPlot draws: x in seconds, then value, expected, lower,
 * upper and the anomaly marks. Missing data shows as a gap, never as a straight line across it:
 * non-finite values become `null`, and a `null` point is inserted wherever two samples are more than
 * `GAP_FACTOR` times the usual interval apart.
 */
import type { SamplePoint } from './api-types.js';

export const GAP_FACTOR = 3;

export interface ChartColumns {
  /** Seconds since the epoch, ascending. */
  readonly x: Float64Array;
  readonly value: (number | null)[];
  readonly expected: (number | null)[];
  readonly lower: (number | null)[];
  readonly upper: (number | null)[];
  /** The value at points that carry an anomaly, null elsewhere. */
  readonly anomaly: (number | null)[];
  /** True when at least one point has a band. */
  readonly hasBand: boolean;
}

const finite = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The median step between consecutive timestamps, in ms (0 for fewer than two points). */
export function typicalStep(timestamps: readonly number[]): number {
  if (timestamps.length < 2) return 0;
  const steps: number[] = [];
  for (let i = 1; i < timestamps.length; i++) steps.push(timestamps[i] - timestamps[i - 1]);
  steps.sort((a, b) => a - b);
  return steps[steps.length >> 1];
}

export function buildChartColumns(samples: readonly SamplePoint[], anomalyTimes: readonly number[] = []): ChartColumns {
  const step = typicalStep(samples.map((s) => s.timestamp));
  const x: number[] = [];
  const value: (number | null)[] = [];
  const expected: (number | null)[] = [];
  const lower: (number | null)[] = [];
  const upper: (number | null)[] = [];
  let hasBand = false;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (i > 0 && step > 0 && s.timestamp - samples[i - 1].timestamp > GAP_FACTOR * step) {
      x.push((samples[i - 1].timestamp + step) / 1000);
      value.push(null);
      expected.push(null);
      lower.push(null);
      upper.push(null);
    }
    x.push(s.timestamp / 1000);
    value.push(finite(s.value));
    const e = finite(s.expected);
    expected.push(e);
    lower.push(finite(s.lower));
    upper.push(finite(s.upper));
    if (e !== null) hasBand = true;
  }
  const anomaly: (number | null)[] = new Array<number | null>(x.length).fill(null);
  for (const t of anomalyTimes) {
    const i = nearestIndex(x, t / 1000);
    if (i >= 0 && value[i] !== null && Math.abs(x[i] - t / 1000) <= Math.max(step / 1000, 1)) anomaly[i] = value[i];
  }
  return { x: Float64Array.from(x), value, expected, lower, upper, anomaly, hasBand };
}

/** Index of the x closest to `t` (x ascending), -1 when empty. */
export function nearestIndex(x: ArrayLike<number>, t: number): number {
  if (x.length === 0) return -1;
  let lo = 0;
  let hi = x.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(x[lo - 1] - t) <= Math.abs(x[lo] - t)) return lo - 1;
  return lo;
}
