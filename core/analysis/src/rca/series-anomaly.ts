/**
 * Robust per-series anomaly scores for root-cause ranking.
 *
 * A score is "how many robust standard deviations the worst value in the analysis window is away
 * from the reference median, in the bad direction", minus the same figure before
 * the window (an anomaly that was already there did not start this incident). NaN and Infinity
 * are ignored; a series with too little finite reference gets no score at all (unknown, not normal).
 *
 * The spread is the largest of 1.4826 x MAD, a floor (5 % for latency on the log scale, 0.2 % of
 * the median otherwise) and the tail spread (see `RcaOptions.tailQuantile`), so a series that is
 * flat in normal operation cannot score on sub-noise changes and one with heavy tails needs a
 * larger excursion than its MAD alone suggests.
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

  // A reference that is mostly gaps is not trusted (a series that usually has no data is not
  // "normal" when it appears); then the values before the window are the reference, if enough.
  let count = reference ? collectFinite(reference, 0, reference.length, transform, scratch, 0) : 0;
  const fallback = !reference || count < options.minReferenceCount || count < options.minReferenceCoverage * reference.length;
  if (fallback) count = 0;
  count = collectFinite(values, 0, windowStart, transform, scratch, count);
  if (count < options.minReferenceCount) return unknown;
  const center = medianOf(scratch, count);
  let tailSpread = 0;
  if (options.tailQuantile > 0 && count >= 4) {
    // medianOf left scratch[0, count) sorted.
    const q = options.tailQuantile;
    const zq = normalQuantile(q);
    const hi = scratch[Math.min(count - 1, Math.floor(q * (count - 1)))];
    const lo = scratch[Math.max(0, Math.ceil((1 - q) * (count - 1)))];
    const up = (hi - center) / zq;
    const down = (center - lo) / zq;
    tailSpread = direction === Direction.Up ? up : direction === Direction.Down ? down : Math.max(up, down);
  }
  for (let i = 0; i < count; i++) scratch[i] = Math.abs(scratch[i] - center);
  const mad = 1.4826 * medianOf(scratch, count);
  const floor = logScale ? options.latencyScaleFloor : Math.max(options.relativeScaleFloor * Math.abs(logScale ? 0 : center), 1e-12);
  const spread = Math.max(mad, floor, tailSpread);

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
  {
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

/** Inverse standard normal CDF for p in (0.5, 1) (Abramowitz-Stegun 26.2.23, error < 5e-4). */
function normalQuantile(p: number): number {
  const t = Math.sqrt(-2 * Math.log(1 - p));
  return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
}

function collectFinite(source: Float64Array, from: number, to: number, transform: (v: number) => number, out: Float64Array, at: number): number {
  let n = at;
  for (let i = from; i < to; i++) {
    const v = source[i];
    if (Number.isFinite(v)) out[n++] = transform(v);
  }
  return n;
}
