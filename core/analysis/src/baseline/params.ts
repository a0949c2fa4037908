/**
 * Parameters of the baseline model. One set serves every series: nothing here is tuned per series,
 * per file or per category (the NAB evaluation runs with exactly these defaults).
 *
 * Every memory is a time constant (ms), converted to a per-sample step at each series' own
 * sampling interval, so a 1 s and a 60 s series of the same process remember the same hours;
 * counts of samples are statistical minimums (how many samples an estimate needs); levels are in
 * the series' own robust residual scales, so nothing depends on the unit or size of the values.
 *
 * {@link BaselineParams} are the choices that move the NAB score: each was swept under
 * leave-one-category-out cross-validation, and `sextant eval nab --study sensitivity` re-runs the
 * sweep and the nested cross-validation that chooses them without the category it scores.
 * {@link BASELINE_CONSTANTS} are fixed a priori by what they mean and are not tuned.
 */
export interface BaselineParams {
  /** Samples before a series leaves `learning` (no alerts before). */
  readonly learningSamples: number;
  /**
   * Time constant (ms) of the recent level and the recent residual spread of each candidate model
   * (robust, clipped updates): how long "what this series does now" remembers.
   */
  readonly adaptTauMs: number;
  /** A seasonal candidate must cut the residual scale by this fraction to be chosen. */
  readonly seasonGain: number;
  /** |z| above which a sample counts toward a level-shift excursion. */
  readonly excursionZ: number;
  /** Consecutive same-sign excursion samples that confirm a level shift (then it is accepted). */
  readonly confirmMs: number;
  /** Half-life (ms) of the memory of recent surprises that damps repeated alarms of one episode. */
  readonly surpriseHalfLifeMs: number;
  /**
   * A residual surprise scores only when it exceeds the decayed memory of recent surprises by this
   * much (score units, 0..1): a repeat of an episode's surprise that is merely a little larger
   * (a daily burst, the next tweet storm of a noisy day) is not a new anomaly.
   */
  readonly repeatMargin: number;
  /** Gap between the level and its long anchor, in residual scales, at which a drift is reported. */
  readonly driftZ: number;
  /** Score at or above which a sample counts as an alarm (starts the quiet period). */
  readonly alarmLevel: number;
  /** Time (ms) after an alarm during which scores are forced to 0 (one alarm per episode). */
  readonly quietMs: number;
  /** Quantisation levels of the running value range for context novelty (2..16). */
  readonly contextLevels: number;
  /**
   * Distance (levels) at which an unseen context counts as wholly new: a context d levels from the
   * nearest seen one scores min(1, d / contextDistance). 1 makes every unseen context wholly new;
   * 2 makes a path off by one level (quantisation jitter) half as novel. At most 5.
   */
  readonly contextDistance: number;
  /** Score of a sample whose two shape contexts are both unseen (half for one); 0 turns them off. */
  readonly shapeScore: number;
  /** Score of a sample whose contexts are all wholly new (context novelty at full weight); 0 turns it off. */
  readonly contextScore: number;
  /**
   * Variance change: ratio of the fast residual scale to the long one (time constant
   * `longScaleTauMs`) at which a widening of the series' spread is reported, once per episode (it
   * re-arms when the ratio falls below `varianceRearm` of this); 0 turns the signal off. Counted
   * after the context warm-up only.
   */
  readonly varianceRatio: number;
}

export const DEFAULT_BASELINE_PARAMS: BaselineParams = Object.freeze({
  learningSamples: 200,
  adaptTauMs: 4 * 3_600_000,
  seasonGain: 0.075,
  excursionZ: 6,
  confirmMs: 3_600_000,
  surpriseHalfLifeMs: 35 * 86_400_000,
  repeatMargin: 0.1,
  driftZ: 6,
  alarmLevel: 0.5,
  quietMs: 12 * 3_600_000,
  contextLevels: 12,
  contextDistance: 2,
  shapeScore: 0.45,
  contextScore: 1,
  varianceRatio: 1.9,
});

/** Fixed parts of the model: each has a meaning, none is tuned (see the file comment). */
export interface BaselineConstants {
  /** Samples before a series is `trusted` (alerts are raised only then; with `trustedSpanMs`). */
  readonly trustedSamples: number;
  /** Time covered before a series is `trusted`: two days, so a daily season can be detected first. */
  readonly trustedSpanMs: number;
  /** Residuals are clipped at this many scales before they move level and scale (outlier robustness). */
  readonly clip: number;
  /** Rate of the seasonal bucket update, per visit of a bucket. */
  readonly seasonRate: number;
  /** Time constant (ms) of the slow base level the seasonal profiles are learned against. */
  readonly baseTauMs: number;
  /** Time constant (ms) of the long residual scale that floors the fast one. */
  readonly longScaleTauMs: number;
  /** The fast scale never drops below this fraction of the long scale. */
  readonly scaleFloor: number;
  /** Tail probability whose quantile of ln(1 + |z|) is tracked per series (its "usual worst"). */
  readonly tailProbability: number;
  /** Step of the log-space quantile tracker. */
  readonly tailRate: number;
  /** The tracked tail never drops below this (ln(1 + |z|)). */
  readonly minTailU: number;
  /** Residual score of the sample that confirms a level shift (0 = a shift adds nothing). */
  readonly shiftScore: number;
  /** Time constant (ms) of the long anchor level used for drift detection. */
  readonly anchorTauMs: number;
  /** Scales per e-fold of the drift score toward 1. */
  readonly driftSpan: number;
  /**
   * The drift threshold is at least this many times the series' usual gap between its level and
   * the long anchor (tracked over `anchorTauMs`): a level that always wanders is not a drift.
   */
  readonly driftWanderGain: number;
  /** Longest context, in samples (1..3): contexts of the last 1..contextLength levels are checked. */
  readonly contextLength: number;
  /** Levels of the shape contexts (2..8). */
  readonly shapeLevels: number;
  /** Time constant (ms) of the fast mean of the shape contexts. */
  readonly shapeFastTauMs: number;
  /** Time constant (ms) of the mean absolute step (volatility) of the shape contexts. */
  readonly shapeVolatilityTauMs: number;
  /** Time constant (ms) of the slow mean of the shape contexts. */
  readonly shapeSlowTauMs: number;
  /** The volatility is multiplied by this before it is quantised against the running range. */
  readonly shapeVolatilityGain: number;
  /** Samples before context novelty scores (its filter must first learn the ordinary contexts). */
  readonly contextWarmup: number;
  /** ... or this much time (ms), whichever comes first (a slow series covers many cycles sooner). */
  readonly contextWarmupMs: number;
  /**
   * Context novelty scores only while the recent share of unseen contexts is below this: a filter
   * that still meets new contexts often (a noisy series, days after its start) is not sure yet.
   */
  readonly contextSureRate: number;
  /** Per-sample rate of the running share of unseen contexts compared to `contextSureRate`. */
  readonly contextRateAlpha: number;
  /** Share of `varianceRatio` below which the variance signal re-arms (hysteresis, 0..1). */
  readonly varianceRearm: number;
  /** Score of a fresh variance change (noisy-OR with the residual and context scores). */
  readonly varianceScore: number;
}

export const BASELINE_CONSTANTS: BaselineConstants = Object.freeze({
  trustedSamples: 250,
  trustedSpanMs: 2 * 86_400_000,
  clip: 4,
  seasonRate: 0.1,
  baseTauMs: 3 * 86_400_000,
  longScaleTauMs: 3 * 86_400_000,
  scaleFloor: 0.1,
  tailProbability: 0.01,
  tailRate: 0.05,
  minTailU: 1,
  shiftScore: 0.7,
  anchorTauMs: 7 * 86_400_000,
  driftSpan: 4,
  driftWanderGain: 3,
  contextLength: 3,
  shapeLevels: 8,
  shapeFastTauMs: 30 * 60_000,
  shapeVolatilityTauMs: 45 * 60_000,
  shapeSlowTauMs: 150 * 60_000,
  shapeVolatilityGain: 4,
  contextWarmup: 1200,
  contextWarmupMs: 7 * 86_400_000,
  contextSureRate: 0.02,
  contextRateAlpha: 0.002,
  varianceRearm: 0.7,
  varianceScore: 0.7,
});
