/**
 * Input and output of the root-cause ranker (see rank-root-causes.ts).
 *
 * The ranker is generic: it knows entities, directed dependency edges and per-entity metric series,
 * nothing about any particular application. Adapters (the correlator, the PetShop evaluation) turn
 * their data into this shape.
 */
import type { MetricKind } from '@sextant/plugin-api';

/** One metric series of one entity, aligned with {@link RcaInput.timestamps}. */
export interface RcaSeries {
  /** Index into {@link RcaInput.entities}. */
  readonly entity: number;
  /** Display name of the metric, used in evidence (`latency`, `availability`, `http.errors`). */
  readonly metric: string;
  /**
   * What the values measure. Decides the direction that is bad and the scale:
   * - `latency`: higher is bad, compared on a log scale (a 2x rise counts the same at 5 ms and 5 s);
   * - `availability`: lower is bad (any unit: 0..1 or percent);
   * - `error-ratio`, `saturation`, `utilization`, `memory`: higher is bad;
   * - `throughput`, `business-count`: never a fault by itself (traffic is caused by callers), shown
   *   only as evidence;
   * - `generic`: both directions are bad.
   */
  readonly kind: MetricKind;
  /** Aggregation of the raw samples, shown in evidence (`p90`, `Average`). Optional. */
  readonly statistic?: string;
  /** Values at {@link RcaInput.timestamps}; NaN = no data. Same length as the timestamps. */
  readonly values: Float64Array;
  /**
   * Values of the same series during normal operation (any length, any time; NaN = no data).
   * History from the same period as the incident works best (levels drift over weeks). When
   * absent, or when fewer than `minReferenceCount` values or less than `minReferenceCoverage` of
   * it are finite (a series that usually has no data), the ranker uses the values before the
   * analysis window of {@link values} instead, and leaves the series unknown if those are too few.
   */
  readonly reference?: Float64Array;
}

/** A change event on an entity (deploy, configuration run, scaling). */
export interface RcaChangeEvent {
  readonly entity: number;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** One line a person understands: "deploy 1.4.2 -> 1.4.3". */
  readonly title: string;
}

/** What the incident is about: the anomalous symptom the causes must explain. */
export interface RcaTarget {
  readonly entity: number;
  /** Kind of the symptom; series of the same kind weigh more (errors and latency spread differently). */
  readonly kind: MetricKind;
  /** When the symptom was seen, milliseconds since the Unix epoch. */
  readonly timestamp: number;
}

export interface RcaInput {
  /** Entity names, e.g. `service:petsearch`, `host:web-1`. Index = entity number. */
  readonly entities: readonly string[];
  /**
   * Dependency edges as pairs `[from0, to0, from1, to1, ...]` of entity numbers, `from` depends on
   * `to`: caller -> callee for service calls, container -> host for `runs-on`. Problems spread
   * against the edges (a slow callee makes its callers slow), so causes are searched along them.
   */
  readonly edges: Uint32Array;
  /** Ascending sample times in milliseconds since the Unix epoch, shared by every series. */
  readonly timestamps: Float64Array;
  readonly series: readonly RcaSeries[];
  readonly target: RcaTarget;
  readonly events?: readonly RcaChangeEvent[];
  readonly options?: Partial<RcaOptions>;
}

/**
 * Tuning knobs. The defaults were chosen on the PetShop train issues and are the same for every
 * scenario and target; there are no per-dataset parameters.
 */
export interface RcaOptions {
  /** Robust score (MAD units) below which a series counts as normal. */
  readonly normalScore: number;
  /** Robust score at and above which a series counts as fully anomalous. */
  readonly fullScore: number;
  /** Weight of series whose kind differs from the target's kind (0..1). */
  readonly otherKindWeight: number;
  /** Smallest spread on the natural-log scale for latency (0.05 = 5 %): sub-noise changes never score. */
  readonly latencyScaleFloor: number;
  /** Smallest spread for linear kinds, relative to the reference median (0.002 = 0.2 %). */
  readonly relativeScaleFloor: number;
  /** Share of a reference that must be finite for it to be used (0..1). */
  readonly minReferenceCoverage: number;
  /** Analysis window around the target, in sample steps before and after it. */
  readonly windowStepsBefore: number;
  readonly windowStepsAfter: number;
  /** How much of a series' pre-window score is subtracted: an anomaly that was already there did not start this incident. */
  readonly preWindowDiscount: number;
  /** Change events within this many ms before the target (or inside the window) count as "just before". */
  readonly eventLookbackMs: number;
  /** Iterations of the blame walk. */
  readonly walkSteps: number;
  /**
   * Fewest finite reference values a series needs to be judged at all (the pre-window fallback
   * too); below it the series is unknown, not normal. A spread from two or three values is noise.
   */
  readonly minReferenceCount: number;
  /**
   * Tail calibration for heavy-tailed series: the spread is at least the distance from the median
   * to this quantile of the reference on the bad side, divided by the normal quantile of the same
   * level (so it equals the standard deviation for Gaussian data). A series whose normal operation
   * already has large excursions (a batch job, a cold-starting function) then needs a larger
   * excursion to count. 0 turns it off.
   */
  readonly tailQuantile: number;
  /**
   * Highest entity anomaly (0..1) that evidence of another kind than the target's alone can give
   * (a latency spike on a dependency of a service whose availability fell). A dependency with
   * such evidence then takes only part of the blame from an anomalous caller, instead of all of
   * it once both saturate. 1 turns the cap off. Chosen on PetShop: 0.1-0.3 give the same ranks.
   */
  readonly otherKindCeiling: number;
}

export const DEFAULT_RCA_OPTIONS: RcaOptions = {
  normalScore: 6,
  fullScore: 12,
  otherKindWeight: 0.7,
  latencyScaleFloor: 0.05,
  relativeScaleFloor: 0.002,
  minReferenceCoverage: 0.5,
  windowStepsBefore: 1,
  windowStepsAfter: 3,
  preWindowDiscount: 1,
  eventLookbackMs: 30 * 60_000,
  walkSteps: 60,
  minReferenceCount: 5,
  tailQuantile: 0.95,
  otherKindCeiling: 0.2,
};

/** One candidate cause. The list is sorted by descending score; scores of a ranking sum to at most 1. */
export interface RankedCause {
  readonly entity: string;
  /** Index into {@link RcaInput.entities}. */
  readonly index: number;
  /** Share of the incident's anomaly mass that ends at this entity, 0..1. */
  readonly score: number;
  /** How anomalous the entity itself is, 0..1. */
  readonly anomaly: number;
  /** Sentences a person understands, strongest first. */
  readonly evidence: readonly string[];
}
