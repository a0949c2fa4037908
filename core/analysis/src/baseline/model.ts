/**
 * BaselineModel: the streaming per-series baseline behind the `baseline` detector and
 * `sextant eval nab`.
 *
 * State for N series lives in a few typed arrays indexed by series slot (grown by doubling); there
 * is no per-series history window and no object per sample. Per slot:
 * - scalars (Float64, {@link F} fields): clock, robust level and scale for three candidate models
 *   (no season, daily, weekly), slow base level, drift anchor, excursion bookkeeping, score memory;
 * - a daily profile of {@link DAY_BUCKETS} half-hour buckets and a weekly profile of
 *   {@link WEEK_BUCKETS} hour-of-week buckets (Float32; NaN marks a bucket not visited yet);
 * - exact context bitmaps, {@link CONTEXT_WORDS} 32-bit words: which short sequences of quantised
 *   levels, and which shape contexts, the series has already shown.
 *
 * The score of a sample is the noisy-OR of four detectors, then an alarm suppression:
 * - residual: how far ln(1 + |z|) of the one-step forecast error exceeds the series' own usual
 *   tail, damped by a memory of recent surprises (a surprise scores only when it beats that
 *   memory by `repeatMargin`, so repeats of one episode and daily bursts do not score again);
 * - context novelty: for the last 1..contextLength quantised levels, how far each unseen context is
 *   from the nearest seen one (min(1, distance / contextDistance)), averaged; counted only after
 *   `contextWarmup` samples and while the running novelty rate is below `contextSureRate` (a
 *   series still meeting new contexts often is not sure of anything);
 * - shape novelty: unseen combinations of a fast and a slow mean, and of the slow mean and the
 *   volatility, quantised (a change in how the series moves rather than where it is), scoring
 *   up to `shapeScore`, under the same gate;
 * - variance change: the fast residual scale reaches `varianceRatio` times the long one (once per
 *   episode, with hysteresis);
 * - after a score >= `alarmLevel`, scores are 0 for `quietMs` (one alarm per episode).
 *
 * Seasonality is detected, not assumed: the three candidates forecast every sample and the
 * seasonal one is used only once it has covered its period and cuts the robust residual scale by
 * `seasonGain` against the no-season model (variance reduction on one-step forecasts).
 *
 * Invariant (tested after every batch): no NaN or Infinity ever enters the state. Non-finite
 * values, duplicated and out-of-order timestamps are dropped and counted in {@link dropped}.
 */
import type { LearningState } from '@sextant/plugin-api';
import { BASELINE_CONSTANTS as K, DEFAULT_BASELINE_PARAMS, type BaselineParams } from './params.js';

export const DAY_BUCKETS = 48;
export const WEEK_BUCKETS = 168;
/** Most quantisation levels of the value contexts: the bitmaps are sized for it. */
export const CONTEXT_MAX_LEVELS = 12;
const L1 = CONTEXT_MAX_LEVELS;
const L2 = L1 * L1;
/** 32-bit words of the per-series context bitmaps (see the layout below). */
export const CONTEXT_WORDS = 64;
/**
 * Layout of a slot's context words: exact bitmaps, one bit per possible context, indexed densely
 * (a context of levels a, b, c is bit a*144 + b*12 + c), so "seen" is never a collision, the
 * nearest seen context can be searched, and a slot's bitmaps span 256 bytes (4 cache lines).
 */
const TRIPLE_WORDS = 0; // 12^3 = 1728 bits: contexts of length 3
const PAIR_WORDS = 54; // 12^2 = 144 bits: length 2
const SINGLE_WORDS = 59; // 12 bits: length 1
const SHAPE_WORDS = 60; // 2 x 8^2 bits: (fast, slow) and (slow, volatility) shape contexts
const SHAPE_MAX_LEVELS = 8;
/** Widest search for the nearest seen context (levels): contextDistance is capped to it. */
const MAX_CONTEXT_DISTANCE = 4;
/** Bits per quantised level in the context history (levels <= 16). */
const CONTEXT_LEVEL_BITS = 4;
/** The history keeps the last 3 levels (12 bits). */
const CONTEXT_HISTORY_MASK = (1 << (3 * CONTEXT_LEVEL_BITS)) - 1;
/** Fewest consecutive samples beyond the band that confirm a level shift (see confirmSamples()). */
const MIN_CONFIRM_SAMPLES = 3;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday; shift so hour-of-week 0 is Monday 00:00 UTC. */
const WEEK_OFFSET_MS = 3 * DAY_MS;

/** Scalar fields per slot (Float64). */
const enum F {
  lastT,
  n,
  firstT,
  dtEst,
  quantum,
  lastX,
  base,
  level0,
  level1,
  level2,
  scale0,
  scale1,
  scale2,
  season,
  anchor,
  excCount,
  excSum,
  excSign,
  novelty,
  lastScore,
  expected,
  lower,
  upper,
  kind,
  shifts,
  learningPaused,
  longScale,
  /** exp of the tracked tail quantile of ln(1 + |z|), i.e. the usual worst 1 + |z|. */
  zq,
  drift,
  devU,
  quiet,
  minV,
  maxV,
  ctxHist,
  /** Recent share of unseen contexts (exponentially weighted): how unsure the filter still is. */
  ctxRate,
  /** 1 while the variance-change signal has fired and not yet re-armed. */
  varFired,
  /** Fast and slow exponential means of the value, and the mean absolute step (shape contexts). */
  shapeFast,
  shapeSlow,
  shapeVol,
  /** Usual gap between the level and its long anchor (scales, EW over `anchorTauMs`). */
  wander,
  /**
   * Per-sample steps of the time constants at this slot's sampling interval (`rateDt`): every
   * memory in the model is a time, so a 1 s and a 60 s series of the same process remember the
   * same hours; recomputed only when the interval estimate moves by more than 2 %.
   */
  rateDt,
  stepAdapt,
  stepLong,
  stepBase,
  stepAnchor,
  stepShapeFast,
  stepShapeSlow,
  stepShapeVol,
  /** Decay of the surprise memory per sample (half-life `surpriseHalfLifeMs`). */
  decaySurprise,
  COUNT,
}
export const SCALAR_FIELDS = F.COUNT;

/** What the last scored sample of a slot looked like (see {@link BaselineModel.kind}). */
export const BaselineKind = { none: 0, spike: 1, dip: 2, levelShift: 3, drift: 4 } as const;
export type BaselineKind = (typeof BaselineKind)[keyof typeof BaselineKind];

/** A constant, not a property read: code first run long after optimisation reads no feedback. */
const LEVEL_SHIFT = BaselineKind.levelShift;

export const BASELINE_KIND_NAMES = ['none', 'spike', 'dip', 'level-shift', 'drift'] as const;

export type DropReason = 'nan' | 'out_of_order' | 'duplicate';

const SNAPSHOT_MAGIC = 0x4c425853; // "SXBL" little-endian
const SNAPSHOT_VERSION = 7;

/** Level of `offset` in `levels` equal parts of `range` (clamped to 0..levels-1). */
function quantise(offset: number, range: number, levels: number): number {
  if (!(range > 0) || !(offset > 0)) return 0;
  const q = ((offset / range) * levels) | 0;
  return q >= levels ? levels - 1 : q;
}

/**
 * Distance (levels, max over the context's positions) from an unseen context to the nearest seen
 * context of the same length in the bitmap at `at`, searched up to `reach`; `reach + 1` when
 * there is none that close. Runs only for unseen contexts, which are rare once a series is known.
 */
function nearestSeen(words: Uint32Array, at: number, length: number, code: number, reach: number): number {
  const a = length === 3 ? (code >>> 8) & 15 : 0;
  const b = length >= 2 ? (code >>> 4) & 15 : 0;
  const c = code & 15;
  const ra = length === 3 ? reach : 0;
  const rb = length >= 2 ? reach : 0;
  let best = reach + 1;
  // Offsets as 0 - r and 0 - d, not -r and -d: a unary minus of 0 is the double -0, whose first
  // appearance would throw away the caller's optimised code (same value, same result).
  for (let da = 0 - ra; da <= ra; da++) {
    const x = a + da;
    if (x < 0 || x >= L1) continue;
    const ada = da < 0 ? 0 - da : da;
    for (let db = 0 - rb; db <= rb; db++) {
      const y = b + db;
      if (y < 0 || y >= L1) continue;
      const adb = db < 0 ? 0 - db : db;
      for (let dc = 0 - reach; dc <= reach; dc++) {
        const zc = c + dc;
        if (zc < 0 || zc >= L1) continue;
        const adc = dc < 0 ? 0 - dc : dc;
        const d = ada > adb ? (ada > adc ? ada : adc) : adb > adc ? adb : adc;
        if (d === 0 || d >= best) continue;
        const cc = x * L2 + y * L1 + zc;
        if (words[at + (cc >>> 5)] & (1 << (cc & 31))) best = d;
      }
    }
  }
  return best;
}

/**
 * Distance (levels) from one context of `length` levels to the nearest seen one: 0 when the bitmap
 * at `at` has seen it (dense bit index `bit`, history code `code`), else at least 1; an unseen
 * context is marked seen unless learning is paused. An integer: V8 does not inline this function
 * into update(), and a fractional return value would be a heap allocation per call.
 */
function contextGap(words: Uint32Array, at: number, length: number, code: number, bit: number, reach: number, paused: boolean): number {
  const w = at + (bit >>> 5);
  const mask = 1 << (bit & 31);
  if ((words[w] & mask) !== 0) return 0;
  const d = nearestSeen(words, at, length, code, reach);
  if (!paused) words[w] |= mask;
  return d;
}

/** Novelty of a context `gap` levels from the nearest seen one: min(1, gap / distance), 0 when seen. */
function gapNovelty(gap: number, distance: number): number {
  const share = gap / distance;
  return gap >= distance ? 1 : share;
}

function clip(x: number, bound: number): number {
  return x > bound ? bound : x < -bound ? -bound : x;
}

/**
 * Slots per page of state (2^10: 1.5 MiB a page). The state grows a page at a time, never by
 * doubling and copying: at most one page is allocated and unused, and nothing is copied once a
 * model holds more than one page. The first page starts at the initial capacity and doubles up to
 * a whole page, so a model of a few series stays small.
 */
const PAGE_SHIFT = 10;
export const PAGE_SLOTS = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SLOTS - 1;

export class BaselineModel {
  readonly params: BaselineParams;
  /** Slots allocated (used or not) over all pages. */
  private capacity = 0;
  private used = 0;
  /** Page p holds slots p * PAGE_SLOTS .. (p + 1) * PAGE_SLOTS - 1; slot & PAGE_MASK within it. */
  private scalarPages: Float64Array[] = [];
  private dailyPages: Float32Array[] = [];
  private weeklyPages: Float32Array[] = [];
  private contextPages: Uint32Array[] = [];
  /** Samples dropped since creation, by reason. Never reset (export as counters by difference). */
  readonly dropped: Record<DropReason, number> = { nan: 0, out_of_order: 0, duplicate: 0 };

  constructor(params: Partial<BaselineParams> = {}, initialCapacity = 16) {
    this.params = { ...DEFAULT_BASELINE_PARAMS, ...params };
    const within = (name: keyof BaselineParams, min: number, max: number, integer: boolean) => {
      const v = this.params[name];
      if (!(v >= min && v <= max) || (integer && !Number.isInteger(v))) throw new RangeError(`baseline parameter ${name} must be ${integer ? 'an integer ' : ''}in ${min}..${max}, got ${v}`);
    };
    within('contextLevels', 2, CONTEXT_MAX_LEVELS, true);
    within('contextDistance', 1, MAX_CONTEXT_DISTANCE + 1, false);
    this.minTailW = Math.exp(K.minTailU);
    this.contextReach = Math.max(0, Math.min(MAX_CONTEXT_DISTANCE, Math.ceil(this.params.contextDistance) - 1));
    this.tailUp = Math.exp(K.tailRate * (1 - K.tailProbability));
    this.tailDown = Math.exp(-K.tailRate * K.tailProbability);
    const wanted = Math.max(1, initialCapacity | 0);
    if (wanted < PAGE_SLOTS) this.addPage(wanted);
    else while (this.capacity < wanted) this.addPage(PAGE_SLOTS);
  }

  /** Appends a page of `slots` slots (seasonal buckets NaN: not visited). */
  private addPage(slots: number): void {
    this.scalarPages.push(new Float64Array(slots * F.COUNT));
    this.dailyPages.push(new Float32Array(slots * DAY_BUCKETS).fill(Number.NaN));
    this.weeklyPages.push(new Float32Array(slots * WEEK_BUCKETS).fill(Number.NaN));
    this.contextPages.push(new Uint32Array(slots * CONTEXT_WORDS));
    this.capacity += slots;
  }

  /** Scalar field `f` of a slot. */
  private field(slot: number, f: number): number {
    return this.scalarPages[slot >>> PAGE_SHIFT][(slot & PAGE_MASK) * F.COUNT + f];
  }

  /** Per-sample factors derived from the parameters, and time-based rates cached for one dt. */
  /** exp(minTailU) and the two multiplicative steps of the tail tracker. */
  private readonly minTailW: number;
  /** How far (levels) the nearest seen context is searched: beyond it, novelty is 1 anyway. */
  private readonly contextReach: number;
  private readonly tailUp: number;
  private readonly tailDown: number;
  /** Recomputes a slot's per-sample steps for the sampling interval `dt` (ms). */
  private cacheRates(s: Float64Array, o: number, dt: number): void {
    const p = this.params;
    const step = (tauMs: number) => 1 - Math.exp(-dt / tauMs);
    s[o + F.rateDt] = dt;
    s[o + F.stepAdapt] = step(p.adaptTauMs);
    s[o + F.stepLong] = step(K.longScaleTauMs);
    s[o + F.stepBase] = step(K.baseTauMs);
    s[o + F.stepAnchor] = step(K.anchorTauMs);
    s[o + F.stepShapeFast] = step(K.shapeFastTauMs);
    s[o + F.stepShapeSlow] = step(K.shapeSlowTauMs);
    s[o + F.stepShapeVol] = step(K.shapeVolatilityTauMs);
    s[o + F.decaySurprise] = Math.pow(0.5, dt / p.surpriseHalfLifeMs);
  }

  /**
   * Consecutive samples that confirm a level shift at sampling interval `dtMs`: `confirmMs` of
   * time, but never fewer than {@link MIN_CONFIRM_SAMPLES} (a shift needs some evidence however
   * slow the series).
   */
  confirmSamples(dtMs: number): number {
    const k = Math.ceil(this.params.confirmMs / dtMs);
    return k > MIN_CONFIRM_SAMPLES ? k : MIN_CONFIRM_SAMPLES;
  }

  /** Number of slots in use (slots are 0..size-1). */
  get size(): number {
    return this.used;
  }

  /** Bytes of state per series slot. */
  static get bytesPerSeries(): number {
    return F.COUNT * 8 + (DAY_BUCKETS + WEEK_BUCKETS) * 4 + CONTEXT_WORDS * 4;
  }

  /** Adds a series and returns its slot. */
  addSeries(): number {
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  /** Forgets what a slot learned (it starts learning again). */
  resetSeries(slot: number): void {
    const page = slot >>> PAGE_SHIFT;
    const at = slot & PAGE_MASK;
    this.scalarPages[page].fill(0, at * F.COUNT, (at + 1) * F.COUNT);
    this.dailyPages[page].fill(Number.NaN, at * DAY_BUCKETS, (at + 1) * DAY_BUCKETS);
    this.weeklyPages[page].fill(Number.NaN, at * WEEK_BUCKETS, (at + 1) * WEEK_BUCKETS);
    this.contextPages[page].fill(0, at * CONTEXT_WORDS, (at + 1) * CONTEXT_WORDS);
  }

  /** Room for one more slot: the first page doubles up to a whole page, then pages are appended. */
  private grow(): void {
    if (this.scalarPages.length > 1 || this.capacity >= PAGE_SLOTS) {
      this.addPage(PAGE_SLOTS);
      return;
    }
    const slots = Math.min(PAGE_SLOTS, this.capacity * 2);
    const scalars = new Float64Array(slots * F.COUNT);
    scalars.set(this.scalarPages[0]);
    const daily = new Float32Array(slots * DAY_BUCKETS).fill(Number.NaN);
    daily.set(this.dailyPages[0]);
    const weekly = new Float32Array(slots * WEEK_BUCKETS).fill(Number.NaN);
    weekly.set(this.weeklyPages[0]);
    const contexts = new Uint32Array(slots * CONTEXT_WORDS);
    contexts.set(this.contextPages[0]);
    this.scalarPages[0] = scalars;
    this.dailyPages[0] = daily;
    this.weeklyPages[0] = weekly;
    this.contextPages[0] = contexts;
    this.capacity = slots;
  }

  /** Bytes of state allocated, used slots or not (what the model holds in memory). */
  get allocatedBytes(): number {
    return this.capacity * BaselineModel.bytesPerSeries;
  }

  /** Stops (or resumes) learning for a slot: it is still scored, but its baseline stays as it is. */
  setLearningPaused(slot: number, paused: boolean): void {
    this.scalarPages[slot >>> PAGE_SHIFT][(slot & PAGE_MASK) * F.COUNT + F.learningPaused] = paused ? 1 : 0;
  }

  /**
   * The first sample of a slot: starts every level at it. Kept out of {@link update} so the
   * optimised code of the per-sample path is not built from first-sample feedback alone (a burst
   * of new series would otherwise make V8 optimise it, throw it away on the second sample and
   * compile it again).
   */
  private begin(s: Float64Array, o: number, timestampMs: number, value: number): void {
    s[o + F.lastT] = timestampMs;
    s[o + F.firstT] = timestampMs;
    s[o + F.n] = 1;
    s[o + F.lastX] = value;
    s[o + F.base] = value;
    s[o + F.level0] = value;
    s[o + F.level1] = value;
    s[o + F.level2] = value;
    s[o + F.anchor] = value;
    s[o + F.expected] = value;
    s[o + F.lower] = value;
    s[o + F.upper] = value;
    s[o + F.zq] = Math.exp(K.minTailU);
    s[o + F.minV] = value;
    s[o + F.maxV] = value;
    s[o + F.shapeFast] = value;
    s[o + F.shapeSlow] = value;
  }

  /**
   * Feeds one sample and returns its anomaly score in [0, 1]: 0 is ordinary, 0.5 unusual, near 1
   * very unusual, comparable across series. Dropped samples (non-finite value or time, a timestamp
   * not after the previous one) return 0, change nothing and are counted in {@link dropped}.
   */
  update(slot: number, timestampMs: number, value: number): number {
    const page = slot >>> PAGE_SHIFT;
    const at = slot & PAGE_MASK;
    const s = this.scalarPages[page];
    const o = at * F.COUNT;
    if (!Number.isFinite(value) || !Number.isFinite(timestampMs) || Math.abs(value) > 1e300) {
      this.dropped.nan++;
      return 0;
    }
    const n = s[o + F.n];
    if (n === 0) {
      this.begin(s, o, timestampMs, value);
      return 0;
    }
    const lastT = s[o + F.lastT];
    if (timestampMs <= lastT) {
      if (timestampMs === lastT) this.dropped.duplicate++;
      else this.dropped.out_of_order++;
      return 0;
    }
    const p = this.params;
    const paused = s[o + F.learningPaused] !== 0;
    const dt = timestampMs - lastT;
    s[o + F.lastT] = timestampMs;
    s[o + F.n] = n + 1;
    // Both sides computed on every sample (0 on the second one): a branch taken only from the third
    // sample on would throw away code optimised during a burst of new series. Same for the
    // learning / learned selections below.
    const prevEst = s[o + F.dtEst];
    const smoothedEst = prevEst + 0.05 * (Math.min(dt, 10 * prevEst) - prevEst);
    const dtEst = n === 1 ? dt : smoothedEst;
    s[o + F.dtEst] = dtEst;
    const rateDt = s[o + F.rateDt];
    const rateHigh = rateDt * 1.02;
    const rateLow = rateDt * 0.98;
    const faster = dtEst > rateHigh;
    const slower = dtEst < rateLow;
    if (faster || slower) this.cacheRates(s, o, dtEst);

    // Value resolution: the smallest non-zero step seen, so quantised series (0.066, 0.068, ...)
    // get a noise floor instead of an infinite z on their first change.
    const step = Math.abs(value - s[o + F.lastX]);
    s[o + F.lastX] = value;
    const quantum = s[o + F.quantum];
    const none = quantum === 0;
    const finer = step < quantum;
    if (step > 0 && (none || finer)) s[o + F.quantum] = step;

    // Seasonal buckets of this timestamp.
    // From whole bucket counts since the epoch, whose remainder is an integer `%` (a remainder of
    // the timestamp itself would be a floating-point one). Not halfHours - floor(halfHours / 48) * 48:
    // that quotient is a whole number for the first half-hour of a day, and V8 then compiled it as
    // integer division and threw the code away half an hour later. Times before 1970 count back.
    const halfHours = Math.floor(timestampMs / (DAY_MS / DAY_BUCKETS));
    const hours = Math.floor((timestampMs + WEEK_OFFSET_MS) / (WEEK_MS / WEEK_BUCKETS));
    const dayR = halfHours % DAY_BUCKETS;
    const weekR = hours % WEEK_BUCKETS;
    const dayUp = dayR + DAY_BUCKETS;
    const weekUp = weekR + WEEK_BUCKETS;
    const dayB = dayR < 0 ? dayUp : dayR;
    const weekB = weekR < 0 ? weekUp : weekR;
    const daily = this.dailyPages[page];
    const weekly = this.weeklyPages[page];
    const di = at * DAY_BUCKETS + dayB;
    const wi = at * WEEK_BUCKETS + weekB;
    // A bucket not visited yet holds NaN (see the class comment) and contributes nothing.
    const dayV = daily[di];
    const weekV = weekly[wi];
    const sd = dayV === dayV ? dayV : 0;
    const sw = weekV === weekV ? weekV : 0;

    // One-step forecasts of the three candidates and their robust residuals.
    const floor = Math.max(s[o + F.quantum] * 0.5, K.scaleFloor * s[o + F.longScale], 1e-9 * Math.abs(s[o + F.base]), 1e-12);
    const r0 = value - s[o + F.level0];
    const r1 = value - s[o + F.level1] - sd;
    const r2 = value - s[o + F.level2] - sw;
    const sc0 = Math.max(s[o + F.scale0], floor);
    const sc1 = Math.max(s[o + F.scale1], floor);
    const sc2 = Math.max(s[o + F.scale2], floor);
    const season = s[o + F.season];
    const r = season === 1 ? r1 : season === 2 ? r2 : r0;
    const sc = season === 1 ? sc1 : season === 2 ? sc2 : sc0;
    const level = season === 1 ? s[o + F.level1] : season === 2 ? s[o + F.level2] : s[o + F.level0];
    const seasonal = season === 1 ? sd : season === 2 ? sw : 0;
    const z = r / sc;
    const az = Math.abs(z);

    // Expectation shown to people: forecast and a band of ~3 robust scales (MAD-like units).
    const expected = level + seasonal;
    s[o + F.expected] = expected;
    s[o + F.lower] = expected - 3 * 1.25 * sc;
    s[o + F.upper] = expected + 3 * 1.25 * sc;

    // Point score: how far ln(1 + |z|) exceeds the series' own usual tail, an upper quantile of |z|
    // tracked stochastically in log space. Bursty or heavy-tailed series thus do not alarm on
    // their ordinary bursts, and scores stay comparable across series.
    // Kept in linear space to spare a logarithm per sample: with wq = exp(quantile of u),
    // u > quantile  <=>  1 + |z| > wq, and the score is 1 - exp(-(u - quantile - offset) / span).
    const ez = 1 + az;
    const wq = s[o + F.zq];
    const ratio = ez / wq;
    let score = ratio > 1 ? 1 - 1 / ratio : 0;
    let kind: BaselineKind = score > 0 ? (z > 0 ? BaselineKind.spike : BaselineKind.dip) : BaselineKind.none;

    // Level-shift confirmation: a run of same-sign excursions is accepted as the new normal.
    const sign = z > 0 ? 1 : -1;
    let shiftBy = 0;
    // shiftBy !== 0, kept as a flag: until the first shift shiftBy is always the integer 0, and a
    // comparison of it that V8 compiled for integers was thrown away at the first shift.
    let shifted = false;
    const excCount = s[o + F.excCount];
    const excSign = s[o + F.excSign];
    const sameSign = excSign === sign;
    if (az > p.excursionZ && (excCount === 0 || sameSign)) {
      // The confirming sample's arithmetic runs on every excursion sample and is selected, so the
      // first confirmed shift does not throw away optimised code.
      const count = excCount + 1;
      const sum = s[o + F.excSum] + r;
      const confirmed = count >= this.confirmSamples(dtEst);
      const mean = sum / count;
      const shifts = s[o + F.shifts];
      const shiftsAfter = shifts + 1;
      s[o + F.excSign] = sign;
      s[o + F.excCount] = confirmed ? 0 : count;
      s[o + F.excSum] = confirmed ? 0 : sum;
      s[o + F.shifts] = confirmed ? shiftsAfter : shifts;
      shiftBy = confirmed ? mean : 0;
      const moves = mean !== 0;
      shifted = confirmed && moves;
      if (confirmed) kind = LEVEL_SHIFT;
    } else {
      s[o + F.excCount] = 0;
      s[o + F.excSum] = 0;
    }

    // Drift: the deseasonalised level wanders away from its long anchor while points stay quiet.
    // It is a separate signal ({@link drift}): slow change is not a point anomaly, and mixing the
    // two would make every slowly trending series look anomalous point by point.
    const anchorGap = Math.abs(level - s[o + F.anchor]) / Math.max(sc, s[o + F.longScale]);
    // A series whose level always wanders far from its weekly anchor (tweet volumes, busy hosts)
    // has a wider drift threshold: `driftWanderGain` times its usual gap, never below `driftZ`.
    const z0 = Math.max(p.driftZ, K.driftWanderGain * s[o + F.wander]);
    const trusted = n >= K.trustedSamples;
    s[o + F.drift] = anchorGap > z0 && trusted ? 1 - Math.exp(-(anchorGap - z0) / K.driftSpan) : 0;
    const warmRate = 1 / (n + 1);
    const anchorRate = s[o + F.stepAnchor];
    if (!paused) s[o + F.wander] += (n < p.learningSamples ? warmRate : anchorRate) * (Math.min(anchorGap, 4 * p.driftZ) - s[o + F.wander]);

    // Novelty: repeated alarms of one episode are damped until they exceed what was already seen
    // by `repeatMargin`.
    // The memory fades with a half-life of `surpriseHalfLifeMs` of time, whatever the sampling interval.
    const remembered = s[o + F.novelty];
    const memory = remembered * s[o + F.decaySurprise];
    let residualScore = score > memory + Math.min(p.repeatMargin, 0.5 * (1 - memory)) ? score : 0;
    // A confirmed level shift is an anomaly of its own, whatever the memory of earlier surprises.
    const learned = n >= p.learningSamples;
    const shiftScore = K.shiftScore;
    const shiftWins = shiftScore > residualScore;
    if (shifted && learned && shiftWins) residualScore = shiftScore;
    const worst = Math.max(memory, score);
    s[o + F.novelty] = n >= p.learningSamples ? worst : remembered;

    // Context novelty: the value quantised into `contextLevels` levels of the running range, and
    // the contexts formed by the last 1..contextLength levels looked up in the slot's exact context
    // bitmaps (unseen contexts are added unless learning is paused). An unseen context scores by
    // its distance to the nearest seen one of the same length (levels, max over positions):
    // min(1, d / contextDistance). A level never visited, far from every visited one, scores 1; a
    // familiar path that is off by one level (quantisation jitter of an ordinary value) scores
    // little. The context score is the mean over the lengths.
    const lo = s[o + F.minV] < value ? s[o + F.minV] : value;
    const hi = s[o + F.maxV] > value ? s[o + F.maxV] : value;
    const levels = p.contextLevels;
    const range = hi - lo;
    const q = quantise(value - lo, range, levels);
    const hist = ((s[o + F.ctxHist] << CONTEXT_LEVEL_BITS) | q) & CONTEXT_HISTORY_MASK;
    const words = this.contextPages[page];
    const wo = at * CONTEXT_WORDS;
    const lengths = K.contextLength;
    const reach = this.contextReach;
    // Lengths 1, 2, 3 written out rather than looped: a loop in this function lets V8 enter its
    // optimised code only through on-stack replacement in some runs, and every later call then
    // started in the interpreter (a benchmark run 10x slower than the next).
    const distance = p.contextDistance;
    let novelty = gapNovelty(contextGap(words, wo + SINGLE_WORDS, 1, hist & 0xf, q, reach, paused), distance);
    if (lengths >= 2) novelty += gapNovelty(contextGap(words, wo + PAIR_WORDS, 2, hist & 0xff, ((hist >>> 4) & 15) * L1 + q, reach, paused), distance);
    if (lengths >= 3) novelty += gapNovelty(contextGap(words, wo + TRIPLE_WORDS, 3, hist & 0xfff, ((hist >>> 8) & 15) * L2 + ((hist >>> 4) & 15) * L1 + q, reach, paused), distance);
    const share = novelty / lengths;
    // Shape contexts: where a fast and a slow mean of the value sit in the running range, and the
    // slow mean against the recent volatility (mean absolute step), each quantised into
    // `shapeLevels` levels. A combination never seen is a change of shape (a level that moves
    // differently, a calm series turned busy) that single points and short paths miss.
    const sf = s[o + F.shapeFast] + s[o + F.stepShapeFast] * (value - s[o + F.shapeFast]);
    const ss = s[o + F.shapeSlow] + s[o + F.stepShapeSlow] * (value - s[o + F.shapeSlow]);
    const sv = s[o + F.shapeVol] + s[o + F.stepShapeVol] * (step - s[o + F.shapeVol]);
    const sl = K.shapeLevels;
    const qf = quantise(sf - lo, range, sl);
    const qs = quantise(ss - lo, range, sl);
    const qv = quantise(sv * K.shapeVolatilityGain, range, sl);
    let shapeUnseen = 0;
    const fastSlow = qf * SHAPE_MAX_LEVELS + qs;
    const slowVol = SHAPE_MAX_LEVELS * SHAPE_MAX_LEVELS + qs * SHAPE_MAX_LEVELS + qv;
    const sw0 = wo + SHAPE_WORDS + (fastSlow >>> 5);
    const sw1 = wo + SHAPE_WORDS + (slowVol >>> 5);
    if ((words[sw0] & (1 << (fastSlow & 31))) === 0) {
      shapeUnseen++;
      if (!paused) words[sw0] |= 1 << (fastSlow & 31);
    }
    if ((words[sw1] & (1 << (slowVol & 31))) === 0) {
      shapeUnseen++;
      if (!paused) words[sw1] |= 1 << (slowVol & 31);
    }
    if (!paused) {
      s[o + F.minV] = lo;
      s[o + F.maxV] = hi;
      s[o + F.ctxHist] = hist;
      s[o + F.shapeFast] = sf;
      s[o + F.shapeSlow] = ss;
      s[o + F.shapeVol] = sv;
    }
    // The filter is trusted once it has seen `contextWarmup` samples (or `contextWarmupMs` of
    // time, whichever comes first: hourly series need weeks for 1200 samples) and rarely meets a new
    // context any more; a noisy series whose filter is still filling stays silent meanwhile.
    const ctxRate = s[o + F.ctxRate];
    const contextOn = (n >= K.contextWarmup || timestampMs - s[o + F.firstT] >= K.contextWarmupMs) && ctxRate < K.contextSureRate;
    const contextScoreOn = share * p.contextScore;
    const shapeScoreOn = (shapeUnseen / 2) * p.shapeScore;
    const contextScore = contextOn ? contextScoreOn : 0;
    const shapeScore = contextOn ? shapeScoreOn : 0;
    if (!paused) s[o + F.ctxRate] = ctxRate + K.contextRateAlpha * (share - ctxRate);
    // Variance change: the fast robust scale (time constant `adaptTauMs`) against the long one
    // (days). A spread that doubles is a change of regime even when no single point stands out; it
    // scores once, and again only after the ratio has fallen back below `varianceRearm` of the
    // threshold. Shrinking spread is not reported (quiet periods are ordinary in real series).
    let varianceScore = 0;
    if (p.varianceRatio > 0 && (n >= K.contextWarmup || timestampMs - s[o + F.firstT] >= K.contextWarmupMs)) {
      const spread = sc / Math.max(s[o + F.longScale], floor);
      if (spread > p.varianceRatio) {
        if (s[o + F.varFired] === 0) {
          varianceScore = K.varianceScore;
          if (!paused) s[o + F.varFired] = 1;
        }
      } else if (spread < p.varianceRatio * K.varianceRearm && !paused) s[o + F.varFired] = 0;
    }
    // Noisy-OR of the detectors: any one alone can raise the score.
    let out = 1 - (1 - residualScore) * (1 - contextScore) * (1 - varianceScore) * (1 - shapeScore);
    if (kind === BaselineKind.none && varianceScore > 0) kind = z >= 0 ? BaselineKind.spike : BaselineKind.dip;
    if (kind === BaselineKind.none && (contextScore > 0 || shapeScore > 0)) kind = z >= 0 ? BaselineKind.spike : BaselineKind.dip;

    // One alarm per episode: after a score of at least `alarmLevel`, scores are 0 for `quietMs` of
    // time (counted in samples at the series' interval). Early, single alarms are what operators
    // (and NAB) reward; repeats are noise.
    const quiet = s[o + F.quiet];
    if (quiet > 0) {
      s[o + F.quiet] = quiet - 1;
      out = 0;
    } else if (out >= p.alarmLevel && n >= p.learningSamples) s[o + F.quiet] = Math.ceil(p.quietMs / dtEst);
    s[o + F.lastScore] = out;
    s[o + F.kind] = kind;

    if (!paused) {
      const c = K.clip;
      const warm = n < p.learningSamples;
      const longStep = s[o + F.stepLong];
      s[o + F.longScale] += (warm ? warmRate : longStep) * (Math.min(Math.abs(r), 10 * Math.max(s[o + F.longScale], floor)) - s[o + F.longScale]);
      // Log-space quantile tracker of u at tail probability K.tailProbability.
      const wNext = wq * (ez > wq ? this.tailUp : this.tailDown);
      s[o + F.zq] = wNext > this.minTailW ? wNext : this.minTailW;
      const adapt = s[o + F.stepAdapt];
      const warmAdapt = Math.max(adapt, warmRate);
      const lr = warm ? warmAdapt : adapt;
      const sr = lr;
      const cr0 = clip(r0, c * sc0);
      const cr1 = clip(r1, c * sc1);
      const cr2 = clip(r2, c * sc2);
      s[o + F.level0] += lr * (warm ? r0 : cr0) + shiftBy;
      s[o + F.level1] += lr * (warm ? r1 : cr1) + shiftBy;
      s[o + F.level2] += lr * (warm ? r2 : cr2) + shiftBy;
      s[o + F.scale0] += sr * (Math.min(Math.abs(r0), c * sc0) - s[o + F.scale0]);
      s[o + F.scale1] += sr * (Math.min(Math.abs(r1), c * sc1) - s[o + F.scale1]);
      s[o + F.scale2] += sr * (Math.min(Math.abs(r2), c * sc2) - s[o + F.scale2]);
      const baseR = value - seasonal - s[o + F.base];
      const baseStep = s[o + F.stepBase];
      const clippedBaseR = Math.max(-c * sc, Math.min(c * sc, baseR));
      s[o + F.base] += (warm ? lr : baseStep) * (warm ? baseR : clippedBaseR) + shiftBy;
      const ar = level - s[o + F.anchor];
      s[o + F.anchor] += (warm ? lr : anchorRate) * ar + shiftBy;

      // Seasonal profiles learn the deviation from the slow base, robustly.
      // Holt-Winters style: each profile learns the deviation from its own candidate's level, so a
      // slow drift moves the level, not the profile.
      const dev = value - s[o + F.level1];
      const clipped = Math.max(-c * sc1 + sd, Math.min(c * sc1 + sd, dev));
      if (dayV !== dayV) daily[di] = dev;
      else daily[di] = dayV + K.seasonRate * (clipped - dayV);
      const devW = value - s[o + F.level2];
      if (weekV !== weekV) weekly[wi] = devW;
      else weekly[wi] = weekV + K.seasonRate * (Math.max(-c * sc2 + sw, Math.min(c * sc2 + sw, devW)) - weekV);

      // Period detection: the candidate with the smallest robust scale, if it has seen its period
      // (twice) and beats the no-season model clearly.
      const span = timestampMs - s[o + F.firstT];
      let best = 0;
      let bestScale = s[o + F.scale0];
      if (span >= 2 * DAY_MS && s[o + F.scale1] < bestScale * (1 - p.seasonGain)) {
        best = 1;
        bestScale = s[o + F.scale1];
      }
      if (span >= 2 * WEEK_MS && s[o + F.scale2] < bestScale * (1 - p.seasonGain / 2) && s[o + F.scale2] < s[o + F.scale0] * (1 - p.seasonGain)) best = 2;
      // A new season choice changes what "level" means (with or without the seasonal part): the
      // drift anchor restarts from the new level, or the switch itself would look like a drift.
      if (best !== season) s[o + F.anchor] = best === 1 ? s[o + F.level1] : best === 2 ? s[o + F.level2] : s[o + F.level0];
      s[o + F.season] = best;
    }
    return out;
  }

  /** The learning state of a slot. */
  state(slot: number): LearningState {
    const n = this.field(slot, F.n);
    const span = this.field(slot, F.lastT) - this.field(slot, F.firstT);
    if (n < this.params.learningSamples) return 'learning';
    return n < K.trustedSamples || span < K.trustedSpanMs ? 'provisional' : 'trusted';
  }

  /** Forecast for the latest sample (before it was learned). */
  expected(slot: number): number {
    return this.field(slot, F.expected);
  }
  lower(slot: number): number {
    return this.field(slot, F.lower);
  }
  upper(slot: number): number {
    return this.field(slot, F.upper);
  }
  /** Timestamp of the first sample learned (the start of the span `trustedSpanMs` counts). */
  firstTimestamp(slot: number): number {
    return this.field(slot, F.firstT);
  }
  /** Timestamp (ms) of the latest accepted sample, 0 when none. */
  lastTimestamp(slot: number): number {
    return this.field(slot, F.lastT);
  }
  /** Accepted samples so far. */
  samples(slot: number): number {
    return this.field(slot, F.n);
  }
  /** Kind of the latest sample's surprise (see {@link BASELINE_KIND_NAMES}). */
  kind(slot: number): BaselineKind {
    return this.field(slot, F.kind) as BaselineKind;
  }
  /** Detected season: 0 none, 1 daily, 2 weekly. */
  season(slot: number): 0 | 1 | 2 {
    return this.field(slot, F.season) as 0 | 1 | 2;
  }
  /** Detected seasonal period in ms, or 0 when the series shows none. */
  periodMs(slot: number): number {
    const season = this.season(slot);
    return season === 1 ? DAY_MS : season === 2 ? WEEK_MS : 0;
  }
  /**
   * Drift score in [0, 1] of the latest sample: how far the deseasonalised level has wandered from
   * its long anchor (time constant `anchorTauMs`), in residual scales. Not part of {@link update}'s
   * point score.
   */
  drift(slot: number): number {
    return this.field(slot, F.drift);
  }
  /** Level shifts confirmed and accepted so far. */
  levelShifts(slot: number): number {
    return this.field(slot, F.shifts);
  }
  /** Estimated sampling interval in ms. */
  intervalMs(slot: number): number {
    return this.field(slot, F.dtEst);
  }

  /**
   * True when every number in the state is finite (the invariant tests assert after every batch);
   * a seasonal bucket may also be NaN, its "not visited yet" mark, but never infinite.
   */
  isFinite(): boolean {
    const check = (a: Float64Array | Float32Array, len: number, unvisited: boolean) => {
      for (let i = 0; i < len; i++) if (!Number.isFinite(a[i]) && !(unvisited && Number.isNaN(a[i]))) return false;
      return true;
    };
    for (let page = 0; page < this.scalarPages.length; page++) {
      const slots = Math.max(0, Math.min(PAGE_SLOTS, this.used - page * PAGE_SLOTS));
      if (!check(this.scalarPages[page], slots * F.COUNT, false) || !check(this.dailyPages[page], slots * DAY_BUCKETS, true) || !check(this.weeklyPages[page], slots * WEEK_BUCKETS, true)) return false;
    }
    return true;
  }

  /**
   * Serialises every slot: a 16-byte header (magic, version, slot count, scalar fields) then the
   * arrays of the used slots. Parameters are not included: restore into a model built with the
   * same parameters.
   */
  snapshot(): Uint8Array {
    const u = this.used;
    const header = 16;
    const out = new Uint8Array(header + u * BaselineModel.bytesPerSeries);
    const view = new DataView(out.buffer);
    view.setUint32(0, SNAPSHOT_MAGIC, true);
    view.setUint32(4, SNAPSHOT_VERSION, true);
    view.setUint32(8, u, true);
    view.setUint32(12, F.COUNT, true);
    // Format 7 as before the state was paged: each array's used slots in slot order, page after page.
    let at = header;
    for (const [pages, perSlot] of this.sections()) {
      for (let page = 0; page < pages.length && page * PAGE_SLOTS < u; page++) {
        const bytes = Math.min(PAGE_SLOTS, u - page * PAGE_SLOTS) * perSlot;
        out.set(new Uint8Array(pages[page].buffer, pages[page].byteOffset, bytes), at);
        at += bytes;
      }
    }
    return out;
  }

  /** The four arrays of the snapshot, in its order, with their bytes per slot. */
  private sections(): [readonly (Float64Array | Float32Array | Uint32Array)[], number][] {
    return [
      [this.scalarPages, F.COUNT * 8],
      [this.dailyPages, DAY_BUCKETS * 4],
      [this.weeklyPages, WEEK_BUCKETS * 4],
      [this.contextPages, CONTEXT_WORDS * 4],
    ];
  }

  /**
   * Replaces the whole state with a snapshot. Throws a RangeError naming what does not match when
   * the bytes are not a snapshot of this model version (the caller turns it into a coded error).
   */
  restore(bytes: Uint8Array): void {
    if (bytes.byteLength < 16) throw new RangeError(`baseline snapshot too short (${bytes.byteLength} bytes)`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new RangeError('not a baseline snapshot (bad magic)');
    const version = view.getUint32(4, true);
    if (version !== SNAPSHOT_VERSION) throw new RangeError(`baseline snapshot version ${version}, this model reads ${SNAPSHOT_VERSION}`);
    const u = view.getUint32(8, true);
    if (view.getUint32(12, true) !== F.COUNT) throw new RangeError('baseline snapshot has a different field layout');
    const expected = 16 + u * BaselineModel.bytesPerSeries;
    if (bytes.byteLength !== expected) throw new RangeError(`baseline snapshot of ${u} series should be ${expected} bytes, got ${bytes.byteLength}`);
    // Into a fresh model of the same shape (pages sized as addSeries would have made them), then
    // checked, then swapped in: a bad snapshot leaves this model as it was.
    const fresh = new BaselineModel(this.params, u < PAGE_SLOTS ? Math.max(16, 1 << Math.ceil(Math.log2(Math.max(u, 1)))) : u);
    let at = 16;
    for (const [pages, perSlot] of fresh.sections()) {
      for (let page = 0; page * PAGE_SLOTS < u; page++) {
        const len = Math.min(PAGE_SLOTS, u - page * PAGE_SLOTS) * perSlot;
        new Uint8Array(pages[page].buffer, pages[page].byteOffset, len).set(bytes.subarray(at, at + len));
        at += len;
      }
    }
    for (let page = 0; page * PAGE_SLOTS < u; page++) {
      const slots = Math.min(PAGE_SLOTS, u - page * PAGE_SLOTS);
      const scalars = fresh.scalarPages[page];
      for (let i = 0; i < slots * F.COUNT; i++) if (!Number.isFinite(scalars[i])) throw new RangeError('baseline snapshot contains non-finite numbers');
      for (const profile of [fresh.dailyPages[page], fresh.weeklyPages[page]]) for (const x of profile) if (x === Infinity || x === -Infinity) throw new RangeError('baseline snapshot contains an infinite seasonal bucket');
    }
    this.scalarPages = fresh.scalarPages;
    this.dailyPages = fresh.dailyPages;
    this.weeklyPages = fresh.weeklyPages;
    this.contextPages = fresh.contextPages;
    this.capacity = fresh.capacity;
    this.used = u;
  }
}
