/**
 * Robust per-series anomaly scores for root-cause ranking.
 *
 * A score is "how many robust standard deviations (1.4826 x MAD) the worst value in the analysis
 * window is away from the reference median, in the bad direction", minus the same figure before
 * the window (an anomaly that was already there did not start this incident). NaN and Infinity
 * are ignored; a series with too little finite reference gets no score at all (unknown, not normal).
 */
import type { MetricKind } from '@sextant/plugin-api';
import type { RcaOptions } from './types.js';

/** How a kind is compared: direction that is bad, and whether on a log scale. -1 = no fault kind. */
const enum Direction {
  Up = 1,
  Down = 2,
  Both = 3,
  None = 0,
}

function directionOf(kind: MetricKind): Direction {
  switch (kind) {
    case 'latency':
    case 'error-ratio':
    case 'saturation':
    case 'utilization':
    case 'memory':
      return Direction.Up;
    case 'availability':
      return Direction.Down;
    case 'throughput':
    case 'business-count':
      return Direction.None;
    default:
      return Direction.Both;
  }
}

/** Result for one series. `score` is NaN when the series cannot be judged. */
export interface SeriesAnomaly {
  /** Window score minus pre-window score, in robust-deviation units; NaN = unknown. */
  score: number;
  /** Index (into the timestamps) of the worst window value; -1 when unknown. */
  peakIndex: number;
  /** First window index whose score reached `normalScore`; -1 when none. */
  onsetIndex: number;
  /** Worst window value divided by the reference median (for "rose 12x"); NaN when meaningless. */
  ratio: number;
  /** Reference median and the worst window value, in the series' own unit. */
  median: number;
  peak: number;
  /** True when the values before the window served as the reference. */
  fallback: boolean;
}

/** True when the kind can be the fault itself (latency, errors...), false for traffic. */
export function isFaultKind(kind: MetricKind): boolean {
  return directionOf(kind) !== Direction.None;
}

function medianOf(values: Float64Array, count: number): number {
  const sorted = values.subarray(0, count).sort();
  const mid = count >> 1;
  return count % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Scores one series. `windowStart`/`windowEnd` are indices into `values` (inclusive/exclusive).
 * `scratch` must hold at least max(reference length, values length) numbers; it is overwritten.
 */
export function scoreSeriesAnomaly(
  kind: MetricKind,
  values: Float64Array,
  reference: Float64Array | undefined,
  windowStart: number,
  windowEnd: number,
  options: RcaOptions,
  scratch: Float64Array,
): SeriesAnomaly {
  const unknown: SeriesAnomaly = { score: Number.NaN, peakIndex: -1, onsetIndex: -1, ratio: Number.NaN, median: Number.NaN, peak: Number.NaN, fallback: false };
  const direction = directionOf(kind);
  const logScale = kind === 'latency';
  const transform = (v: number): number => (logScale ? Math.log(Math.max(v, 1e-12)) : v);

  let source = reference;
  let fallback = false;
  let count = source ? collectFinite(source, 0, source.length, transform, scratch) : 0;
  if (!source || count === 0 || count < options.minReferenceCoverage * source.length) {
    source = values;
    fallback = true;
    count = collectFinite(values, 0, windowStart, transform, scratch);
    if (count === 0) return unknown;
  }
  const center = medianOf(scratch, count);
  for (let i = 0; i < count; i++) scratch[i] = Math.abs(scratch[i] - center);
  const mad = 1.4826 * medianOf(scratch, count);
  const floor = logScale ? options.latencyScaleFloor : Math.max(options.relativeScaleFloor * Math.abs(logScale ? 0 : center), 1e-12);
  const spread = Math.max(mad, floor);

  const badness = (v: number): number => {
    const z = (transform(v) - center) / spread;
    if (direction === Direction.Up) return z;
    if (direction === Direction.Down) return -z;
    return Math.abs(z);
  };

  let best = Number.NEGATIVE_INFINITY;
  let peakIndex = -1;
  let onsetIndex = -1;
  for (let i = windowStart; i < windowEnd; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const b = badness(v);
    if (b > best) {
      best = b;
      peakIndex = i;
    }
    if (onsetIndex < 0 && b >= options.normalScore) onsetIndex = i;
  }
  if (peakIndex < 0) return unknown;

  let before = 0;
  if (!fallback) {
    for (let i = 0; i < windowStart; i++) {
      const v = values[i];
      if (Number.isFinite(v)) before = Math.max(before, badness(v));
    }
  }
  const median = logScale ? Math.exp(center) : center;
  const peak = values[peakIndex];
  return {
    score: best - options.preWindowDiscount * before,
    peakIndex,
    onsetIndex,
    ratio: median > 0 ? peak / median : Number.NaN,
    median,
    peak,
    fallback,
  };
}

function collectFinite(source: Float64Array, from: number, to: number, transform: (v: number) => number, out: Float64Array): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = source[i];
    if (Number.isFinite(v)) out[n++] = transform(v);
  }
  return n;
}
