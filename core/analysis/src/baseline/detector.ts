/**
 * The `baseline` detector: every series gets a {@link BaselineModel} slot that learns its level,
 * seasonality and noise, and raises an anomaly when a point is surprising for that series.
 *
 * - No alert while a series is `learning` or `provisional`; only `trusted` series alert (250
 *   samples and two days: an hourly series is trusted after about ten days, a 10-second one after
 *   two days, once its daily season can be known).
 * - A drift is reported once per episode: again only when it has grown by `DRIFT_ESCALATION` in
 *   score (it got materially worse), or after it has stayed below half the threshold for a day,
 *   and at most once a day. A level that stays away for weeks is not reported every day.
 * - A spike or dip whose value stays beyond the band it broke for `confirmMs` (at least 3 samples) is
 *   reported again, once, as the `level-shift` it turned out to be (also inside the cooldown).
 * - One anomaly per episode: after an alert the series stays quiet for `cooldown` unless the
 *   kind of trouble changes to exhaustion.
 * - Memory series with a known limit (attribute or resource key ending in `memory.limit` or named
 *   `limit`) also raise `exhaustion` when the current growth (a weighted linear fit over a
 *   quarter of the horizon) would reach the limit within `exhaustionHorizon`.
 * - Bad input never throws: NaN/Infinity, values the kind cannot have, duplicated and
 *   out-of-order timestamps are dropped and counted in `dropped_total{reason}`.
 */
import {
  createDetectorFactory,
  ErrorCode,
  formatError,
  SextantError,
  type AnomalyInput,
  type Attributes,
  type Detector,
  type DetectorContext,
  type SampleBatch,
  type SeriesDescriptor,
  type FeedbackRecord,
  type FeedbackVerdict,
  type SeriesExpectation,
  type SeriesId,
} from '@sextant/plugin-api';
import { CounterRate, durationMs, parseDuration } from '@sextant/plugin-kit';
import { z } from 'zod';
import { inferMetricKind, forward, inverse, transformFor, Transform } from './metric-kind.js';
import { BaselineKind, BaselineModel } from './model.js';
import { BASELINE_CONSTANTS, type BaselineParams } from './params.js';

/** Milliseconds of a configured duration (validated by the schema, so never undefined here). */
function msOf(value: string | number): number {
  return parseDuration(value) ?? Number.NaN;
}

/**
 * Checked by the kit's duration schema, but kept as written (`BaselineConfig` and its defaults hold
 * `'30m'`, read with `msOf` where used).
 */
const kitDuration = durationMs();
const duration = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  const checked = kitDuration.safeParse(v);
  if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
});

export const baselineConfigSchema = z.object({
  /** Score (0..1) at or above which a trusted series raises an anomaly. */
  threshold: z.number().min(0).max(1),
  /** Quiet time per series after an anomaly (one alert per episode). */
  cooldown: duration,
  /** Memory series: alert when the limit would be reached within this time. */
  exhaustionHorizon: duration,
  /** Upper bound on series modelled by this instance (label-explosion guard). */
  maxSeries: z.number().int().positive(),
});

export type BaselineConfig = z.infer<typeof baselineConfigSchema>;

/**
 * The default threshold comes out of the cross-validation: the median of the leave-one-category-out
 * fold thresholds of the NAB standard profile for the raw model score of the default parameters
 * (0.354 at the time of writing, `sextant eval nab --detector sextant-model --cv categories`; no
 * model score falls between 0.35 and it): the operating point chosen without the series it is
 * judged on.
 */
export const BASELINE_DEFAULTS: BaselineConfig = { threshold: 0.35, cooldown: '30m', exhaustionHorizon: '4h', maxSeries: 1_000_000 };

const KIND_NAMES = ['spike', 'spike', 'dip', 'level-shift', 'spike'] as const;

/** Reads a memory limit (bytes) from the series' attributes or resource, if one is given. */
function memoryLimitOf(d: SeriesDescriptor): number {
  for (const attrs of [d.attributes, d.resource]) {
    for (const [k, v] of Object.entries(attrs)) {
      if ((k === 'limit' || k.endsWith('memory.limit')) && typeof v === 'number' && v > 0 && Number.isFinite(v)) return v;
    }
  }
  return 0;
}

function matches(resource: Attributes, match: Attributes): boolean {
  for (const [k, v] of Object.entries(match)) if (resource[k] !== v) return false;
  return true;
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(2) : Number(v.toPrecision(4)).toString();
}

const DRIFT_QUIET_MS = 86_400_000;
/** A drift already reported is reported again only when its score has grown by this much. */
const DRIFT_ESCALATION = 0.25;

const SNAPSHOT_TAG = 'sextant-baseline-detector/1';

/** What a user says about one series (the contract's FeedbackVerdict). */
export type BaselineFeedback = FeedbackVerdict;
export type BaselineFeedbackRecord = FeedbackRecord;

/** `missed-here` lowers a series' threshold by this much (score units). */
const FEEDBACK_STEP = 0.1;
/** `not-a-problem` puts the threshold this far above the marked anomaly's score. */
const FEEDBACK_MARGIN = 0.05;
/** Feedback never moves a series' threshold below / above these. */
const FEEDBACK_MIN = 0.15;
const FEEDBACK_MAX = 0.95;
const FEEDBACK_LOG_MAX = 1000;

export class BaselineDetector implements Detector {
  readonly model: BaselineModel;
  /** Series id -> slot + 1 (0 = not seen yet). */
  private slotOf = new Int32Array(1024);
  /** Slot -> series id. */
  private seriesOfSlot: number[] = [];
  private transforms = new Uint8Array(1024);
  private memoryLimit = new Float64Array(1024);
  /**
   * Memory growth for time-to-exhaustion: an exponentially weighted linear regression of the value
   * on time (time constant a quarter of the horizon), kept as running means and co-moments (time in
   * hours since the slot's first sample), so the slope is a fit over the last hour or so and not the
   * noise of the last steps; the slope is fitTV / fitTT.
   */
  private fitT = new Float64Array(1024);
  private fitV = new Float64Array(1024);
  private fitTT = new Float64Array(1024);
  private fitTV = new Float64Array(1024);
  private fitOrigin = new Float64Array(1024);
  private prevT = new Float64Array(1024);
  private quietUntil = new Float64Array(1024);
  /** A drift is reported at most once a day per series. */
  private driftQuietUntil = new Float64Array(1024);
  /** Drift score of the last drift report of this episode (0: none, the next drift is reported). */
  private driftReported = new Float64Array(1024);
  /** Since when the drift score has been below half the threshold (0: it is not). */
  private driftLowSince = new Float64Array(1024);
  /**
   * After a spike (+1) or dip (-1): the bound of the band it broke (value units) and how many
   * samples in a row have stayed beyond it since. A point that stays is a level shift.
   */
  private pointSign = new Int8Array(1024);
  private pointBound = new Float64Array(1024);
  private pointStay = new Float64Array(1024);
  /** Per-series threshold set by user feedback (0: the configured threshold). */
  private slotThreshold = new Float32Array(1024);
  /** What users said, newest last, at most FEEDBACK_LOG_MAX records (kept in the snapshot). */
  private feedbackRecords: BaselineFeedbackRecord[] = [];
  private counters: (CounterRate | undefined)[] = [];
  private readonly pausedMatches: Attributes[] = [];
  private readonly reported = { nan: 0, out_of_order: 0, duplicate: 0, out_of_range: 0 };
  private outOfRange = 0;
  private resetsSeen = 0;
  private limitHits = 0;
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly horizonMs: number;
  /** Time constant of the growth fit: a quarter of the horizon, 10 min to 6 h. */
  private readonly fitTauMs: number;
  private readonly dropped;
  private readonly anomaliesCounter;
  private readonly resetsCounter;
  private stopped = false;

  /**
   * `modelParams` override the model's defaults; only evaluation (parameter sweeps under
   * cross-validation) passes them, production always runs the defaults.
   */
  constructor(
    private readonly ctx: DetectorContext<BaselineConfig>,
    modelParams: Partial<BaselineParams> = {},
  ) {
    this.model = new BaselineModel(modelParams);
    this.threshold = ctx.config.threshold;
    this.cooldownMs = msOf(ctx.config.cooldown);
    this.horizonMs = msOf(ctx.config.exhaustionHorizon);
    this.fitTauMs = Math.min(6 * 3_600_000, Math.max(600_000, this.horizonMs / 4));
    this.dropped = ctx.metrics.counter('dropped_total', 'Samples the baseline detector dropped, by reason (nan, out_of_order, duplicate, out_of_range, series_limit)');
    this.anomaliesCounter = ctx.metrics.counter('anomalies_total', 'Anomalies raised by the baseline detector, by kind');
    this.resetsCounter = ctx.metrics.counter('counter_resets_total', 'Counter series that went backwards (restarts) and were read as resets');
  }

  start(): void {
    this.ctx.status.set('ok', 'learning the normal behaviour of every series');
  }

  shutdown(): void {
    this.stopped = true;
  }

  private slotFor(series: SeriesId): number {
    if (series < this.slotOf.length) {
      const s = this.slotOf[series];
      if (s > 0) return s - 1;
    }
    return this.newSlot(series);
  }

  private newSlot(series: SeriesId): number {
    const d = this.ctx.catalog.describe(series);
    if (this.model.size >= this.ctx.config.maxSeries) {
      if (this.limitHits++ === 0) {
        this.ctx.status.set('degraded', `baseline models at most ${this.ctx.config.maxSeries} series; new series are not analysed`, ErrorCode.LIMIT_EXCEEDED);
      }
      return -1;
    }
    if (series >= this.slotOf.length) {
      const bigger = new Int32Array(Math.max(series + 1, this.slotOf.length * 2));
      bigger.set(this.slotOf);
      this.slotOf = bigger;
    }
    const slot = this.model.addSeries();
    this.slotOf[series] = slot + 1;
    this.seriesOfSlot[slot] = series;
    this.ensureSlotArrays(slot);
    const kind = d ? inferMetricKind(d) : 'generic';
    this.transforms[slot] = d ? transformFor(kind, d.unit) : Transform.identity;
    this.memoryLimit[slot] = d && kind === 'memory' ? memoryLimitOf(d) : 0;
    this.counters[slot] = d?.type === 'counter' ? new CounterRate() : undefined;
    if (d && this.pausedMatches.some((m) => matches(d.resource, m))) this.model.setLearningPaused(slot, true);
    return slot;
  }

  private ensureSlotArrays(slot: number): void {
    if (slot < this.transforms.length) return;
    const n = this.transforms.length * 2;
    const g8 = (a: Uint8Array) => { const b = new Uint8Array(n); b.set(a); return b; };
    const g64 = (a: Float64Array) => { const b = new Float64Array(n); b.set(a); return b; };
    this.transforms = g8(this.transforms);
    this.memoryLimit = g64(this.memoryLimit);
    this.fitT = g64(this.fitT);
    this.fitV = g64(this.fitV);
    this.fitTT = g64(this.fitTT);
    this.fitTV = g64(this.fitTV);
    this.fitOrigin = g64(this.fitOrigin);
    this.prevT = g64(this.prevT);
    this.quietUntil = g64(this.quietUntil);
    this.driftQuietUntil = g64(this.driftQuietUntil);
    this.driftReported = g64(this.driftReported);
    this.driftLowSince = g64(this.driftLowSince);
    this.pointBound = g64(this.pointBound);
    this.pointStay = g64(this.pointStay);
    const th = new Float32Array(n);
    th.set(this.slotThreshold);
    this.slotThreshold = th;
    const s8 = new Int8Array(n);
    s8.set(this.pointSign);
    this.pointSign = s8;
  }

  process(batch: SampleBatch): void {
    if (this.stopped) return;
    const model = this.model;
    for (let i = 0; i < batch.length; i++) {
      const series = batch.series[i];
      const t = batch.timestamps[i];
      let v = batch.values[i];
      const slot = this.slotFor(series);
      if (slot < 0) {
        this.dropped.add(1, { reason: 'series_limit' });
        continue;
      }
      const counter = this.counters[slot];
      if (counter) {
        const before = counter.resets;
        const rate = counter.update(v, t);
        if (counter.resets !== before) this.resetsSeen++;
        if (rate === undefined) continue; // first reading, reset or bad value: no rate to learn
        v = rate;
      }
      const tf = this.transforms[slot] as Transform;
      const y = tf === Transform.identity ? v : forward(tf, v);
      if (Number.isNaN(y) && Number.isFinite(v)) {
        this.outOfRange++;
        continue;
      }
      const accepted = model.samples(slot);
      const score = model.update(slot, t, y);
      // A sample the model dropped (duplicate, out of order, out of range) moves nothing else either.
      if (model.samples(slot) === accepted) continue;
      if (this.pointSign[slot] !== 0 && this.stays(slot, series, t, v)) continue;
      if (this.memoryLimit[slot] > 0 && Number.isFinite(v)) this.trackExhaustion(slot, t, v);
      const drift = model.drift(slot);
      const threshold = this.slotThreshold[slot] || this.threshold;
      // The drift episode ends once the drift has stayed below half the threshold for a day.
      if (drift >= threshold / 2) this.driftLowSince[slot] = 0;
      else if (this.driftLowSince[slot] === 0) this.driftLowSince[slot] = t;
      else if (t - this.driftLowSince[slot] >= DRIFT_QUIET_MS) this.driftReported[slot] = 0;
      if (score < threshold && drift < threshold) continue;
      if (t < this.quietUntil[slot] || model.state(slot) !== 'trusted') continue;
      if (score >= threshold) {
        const kind = KIND_NAMES[model.kind(slot)] ?? 'spike';
        this.raise(slot, series, t, v, score, kind);
        if (kind === 'spike' || kind === 'dip') {
          this.pointSign[slot] = kind === 'spike' ? 1 : -1;
          this.pointBound[slot] = kind === 'spike' ? inverse(tf, model.upper(slot)) : inverse(tf, model.lower(slot));
          this.pointStay[slot] = 0;
        }
      } else if (t >= this.driftQuietUntil[slot] && (this.driftReported[slot] === 0 || drift >= this.driftReported[slot] + DRIFT_ESCALATION)) {
        this.raise(slot, series, t, v, drift, 'drift');
        this.driftQuietUntil[slot] = t + DRIFT_QUIET_MS;
        this.driftReported[slot] = drift;
      }
    }
    this.reportDrops();
  }

  /**
   * Follows the last spike or dip: when `confirmMs` of samples in a row stay beyond the band it
   * broke, it was not a spike but a new level, and that is raised once (as `level-shift`, even
   * inside the cooldown: what the problem turned out to be is news). Returns true when it raised.
   */
  private stays(slot: number, series: SeriesId, t: number, v: number): boolean {
    const sign = this.pointSign[slot];
    if (sign > 0 ? v > this.pointBound[slot] : v < this.pointBound[slot]) {
      this.pointStay[slot] += 1;
      if (this.pointStay[slot] >= this.model.confirmSamples(this.model.intervalMs(slot))) {
        this.pointSign[slot] = 0;
        this.raise(slot, series, t, v, Math.max(BASELINE_CONSTANTS.shiftScore, this.threshold), 'level-shift');
        return true;
      }
    } else this.pointSign[slot] = 0;
    return false;
  }

  /** Memory: fitted growth; alerts when the fitted value + growth * horizon crosses the limit. */
  private trackExhaustion(slot: number, t: number, v: number): void {
    const prevT = this.prevT[slot];
    const tauH = this.fitTauMs / 3_600_000;
    if (prevT === 0) {
      this.fitOrigin[slot] = t;
      this.fitV[slot] = v;
    } else {
      const a = 1 - Math.exp(-(t - prevT) / this.fitTauMs);
      const dT = (t - this.fitOrigin[slot]) / 3_600_000 - this.fitT[slot];
      const dV = v - this.fitV[slot];
      this.fitT[slot] += a * dT;
      this.fitV[slot] += a * dV;
      this.fitTT[slot] = (1 - a) * (this.fitTT[slot] + a * dT * dT);
      this.fitTV[slot] = (1 - a) * (this.fitTV[slot] + a * dT * dV);
    }
    this.prevT[slot] = t;
    // The slope (units per ms), once the fit spans a fair part of its time constant.
    const g = this.fitTT[slot] >= 0.25 * tauH * tauH ? this.fitTV[slot] / this.fitTT[slot] / 3_600_000 : 0;
    const limit = this.memoryLimit[slot];
    if (!(g > 0) || this.model.state(slot) !== 'trusted' || t < this.quietUntil[slot]) return;
    // Where the fit says the series is now (less noisy than the last sample).
    const now = this.fitV[slot] + g * 3_600_000 * ((t - this.fitOrigin[slot]) / 3_600_000 - this.fitT[slot]);
    const etaMs = (limit - now) / g;
    if (etaMs <= this.horizonMs) {
      const score = Math.min(1, 0.5 + 0.5 * (1 - Math.max(0, etaMs) / this.horizonMs));
      this.raise(slot, this.seriesOfSlot[slot], t, v, score, 'exhaustion', etaMs);
    }
  }

  private raise(slot: number, series: SeriesId, t: number, v: number, score: number, kind: AnomalyInput['kind'], etaMs?: number): void {
    const tf = this.transforms[slot] as Transform;
    const expected = inverse(tf, this.model.expected(slot));
    const lower = inverse(tf, this.model.lower(slot));
    const upper = inverse(tf, this.model.upper(slot));
    const metric = this.ctx.catalog.describe(series)?.metric ?? `series ${series}`;
    const range = `normal range ${formatValue(lower)} to ${formatValue(upper)}`;
    const what: Record<string, string> = {
      spike: `${metric} spiked to ${formatValue(v)} (expected about ${formatValue(expected)}, ${range})`,
      dip: `${metric} dropped to ${formatValue(v)} (expected about ${formatValue(expected)}, ${range})`,
      'level-shift': `${metric} moved to a new level around ${formatValue(v)} (was about ${formatValue(expected)}); the new level is now being learned as normal`,
      drift: `${metric} has been drifting away from its usual level: now ${formatValue(v)}, ${range}`,
      exhaustion: `${metric} is ${formatValue(v)} and growing; at this rate it reaches its limit ${formatValue(this.memoryLimit[slot])} in about ${Math.max(1, Math.round((etaMs ?? 0) / 60_000))} min`,
    };
    this.ctx.emit({
      seriesId: series,
      detector: 'baseline',
      kind,
      timestamp: t,
      value: v,
      expected,
      lower,
      upper,
      score,
      severity: score >= 0.9 || kind === 'exhaustion' ? 'critical' : 'warning',
      message: what[kind] ?? `${metric} is unusual: ${formatValue(v)} (${range})`,
    });
    this.anomaliesCounter.add(1, { kind });
    this.quietUntil[slot] = t + this.cooldownMs;
  }

  private reportDrops(): void {
    const d = this.model.dropped;
    const r = this.reported;
    if (d.nan !== r.nan) this.dropped.add(d.nan - r.nan, { reason: 'nan' });
    if (d.out_of_order !== r.out_of_order) this.dropped.add(d.out_of_order - r.out_of_order, { reason: 'out_of_order' });
    if (d.duplicate !== r.duplicate) this.dropped.add(d.duplicate - r.duplicate, { reason: 'duplicate' });
    if (this.outOfRange !== r.out_of_range) this.dropped.add(this.outOfRange - r.out_of_range, { reason: 'out_of_range' });
    r.nan = d.nan;
    r.out_of_order = d.out_of_order;
    r.duplicate = d.duplicate;
    r.out_of_range = this.outOfRange;
    if (this.resetsSeen > 0) {
      this.resetsCounter.add(this.resetsSeen);
      this.resetsSeen = 0;
    }
  }

  expectation(series: SeriesId): SeriesExpectation | undefined {
    if (series >= this.slotOf.length || this.slotOf[series] === 0) return undefined;
    const slot = this.slotOf[series] - 1;
    if (this.model.samples(slot) === 0) return undefined;
    const tf = this.transforms[slot] as Transform;
    return {
      timestamp: this.model.lastTimestamp(slot),
      expected: inverse(tf, this.model.expected(slot)),
      lower: inverse(tf, this.model.lower(slot)),
      upper: inverse(tf, this.model.upper(slot)),
      state: this.model.state(slot),
      progress: {
        samples: this.model.samples(slot),
        samplesNeeded: BASELINE_CONSTANTS.trustedSamples,
        spanMs: Math.max(0, this.model.lastTimestamp(slot) - this.model.firstTimestamp(slot)),
        spanNeededMs: BASELINE_CONSTANTS.trustedSpanMs,
      },
    };
  }

  pauseLearning(match: Attributes, paused: boolean): void {
    const key = JSON.stringify(Object.entries(match).sort());
    const at = this.pausedMatches.findIndex((m) => JSON.stringify(Object.entries(m).sort()) === key);
    if (paused && at < 0) this.pausedMatches.push(match);
    if (!paused && at >= 0) this.pausedMatches.splice(at, 1);
    for (let slot = 0; slot < this.model.size; slot++) {
      const d = this.ctx.catalog.describe(this.seriesOfSlot[slot]);
      if (!d || !matches(d.resource, match)) continue;
      const stillPaused = this.pausedMatches.some((m) => matches(d.resource, m));
      this.model.setLearningPaused(slot, stillPaused);
    }
  }

  /**
   * `[u32 header length][header JSON][model snapshot]`. The header maps slots to series ids and
   * keeps per-slot detector state; counters restart their rate from the next reading.
   */
  snapshot(): Uint8Array {
    const n = this.model.size;
    const header = JSON.stringify({
      tag: SNAPSHOT_TAG,
      series: this.seriesOfSlot.slice(0, n),
      // The growth fit, only for the memory series that have one: [slot, t, v, tt, tv, origin, prevT].
      fit: this.fitRows(n),
      quietUntil: Array.from(this.quietUntil.subarray(0, n)),
      driftQuietUntil: Array.from(this.driftQuietUntil.subarray(0, n)),
      driftReported: Array.from(this.driftReported.subarray(0, n)),
      // Thresholds users moved with feedback, only where moved: [slot, threshold]; and what they said.
      thresholds: this.thresholdRows(n),
      feedback: this.feedbackRecords,
    });
    const head = new TextEncoder().encode(header);
    const body = this.model.snapshot();
    const out = new Uint8Array(4 + head.length + body.length);
    new DataView(out.buffer).setUint32(0, head.length, true);
    out.set(head, 4);
    out.set(body, 4 + head.length);
    return out;
  }

  private thresholdRows(n: number): number[][] {
    const rows: number[][] = [];
    for (let slot = 0; slot < n; slot++) if (this.slotThreshold[slot] > 0) rows.push([slot, this.slotThreshold[slot]]);
    return rows;
  }

  /**
   * User feedback on one series, without labels: `not-a-problem` (an anomaly raised at `score` was
   * not worth an alert) raises that series' threshold just above the score, so the same surprise
   * stays quiet and a larger one still alerts; `missed-here` (a problem went unreported) lowers it by
   * FEEDBACK_STEP. The threshold stays within [FEEDBACK_MIN, FEEDBACK_MAX]; other series are not
   * affected. Kept in the snapshot with the record of what was said (`feedbackLog()`, for offline
   * evaluation). Returns the series' threshold now, or undefined for a series never seen.
   */
  feedback(series: SeriesId, verdict: BaselineFeedback, t: number, score?: number): number | undefined {
    if (verdict !== 'not-a-problem' && verdict !== 'missed-here') {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `unknown feedback "${String(verdict)}"`, { hint: 'use "not-a-problem" or "missed-here"' });
    }
    const slot = series < this.slotOf.length ? this.slotOf[series] - 1 : -1;
    if (slot < 0) return undefined;
    const before = this.slotThreshold[slot] || this.threshold;
    let after: number;
    if (verdict === 'not-a-problem') {
      const base = score !== undefined && Number.isFinite(score) ? Math.max(before, score + FEEDBACK_MARGIN) : before + FEEDBACK_STEP;
      after = Math.min(FEEDBACK_MAX, base);
    } else after = Math.max(FEEDBACK_MIN, before - FEEDBACK_STEP);
    this.slotThreshold[slot] = after;
    this.feedbackRecords.push({ series, verdict, t, ...(score !== undefined && Number.isFinite(score) ? { score } : {}), thresholdBefore: before, thresholdAfter: after });
    if (this.feedbackRecords.length > FEEDBACK_LOG_MAX) this.feedbackRecords.splice(0, this.feedbackRecords.length - FEEDBACK_LOG_MAX);
    return after;
  }

  /** The threshold a series alerts at (the configured one unless feedback moved it); undefined when never seen. */
  seriesThreshold(series: SeriesId): number | undefined {
    const slot = series < this.slotOf.length ? this.slotOf[series] - 1 : -1;
    return slot < 0 ? undefined : this.slotThreshold[slot] || this.threshold;
  }

  /** Every feedback record kept (newest last), for export and offline evaluation. */
  feedbackLog(): readonly BaselineFeedbackRecord[] {
    return this.feedbackRecords.slice();
  }

  private fitRows(n: number): number[][] {
    const rows: number[][] = [];
    for (let slot = 0; slot < n; slot++) {
      if (this.prevT[slot] === 0) continue;
      rows.push([slot, this.fitT[slot], this.fitV[slot], this.fitTT[slot], this.fitTV[slot], this.fitOrigin[slot], this.prevT[slot]]);
    }
    return rows;
  }

  /** Restores a snapshot; on bad bytes reports a degraded status and keeps learning from scratch. */
  restore(state: Uint8Array): void {
    try {
      if (state.byteLength < 4) throw new RangeError('snapshot too short');
      const len = new DataView(state.buffer, state.byteOffset, state.byteLength).getUint32(0, true);
      if (4 + len > state.byteLength) throw new RangeError('snapshot header is truncated');
      const header = JSON.parse(new TextDecoder().decode(state.subarray(4, 4 + len))) as { tag: string; series: number[]; quietUntil: number[]; driftQuietUntil?: number[]; driftReported?: number[]; fit?: number[][]; thresholds?: number[][]; feedback?: BaselineFeedbackRecord[] };
      if (header.tag !== SNAPSHOT_TAG) throw new RangeError(`snapshot tag "${String(header.tag)}" is not ${SNAPSHOT_TAG}`);
      this.model.restore(state.subarray(4 + len));
      if (header.series.length !== this.model.size) throw new RangeError('snapshot header and model disagree on the number of series');
      // A loop, not Math.max(...series): spreading one argument per series overflows the stack
      // above ~125k series, and the learned state of a large server was lost on restart.
      let maxSeries = 1023;
      for (const s of header.series) {
        if (!Number.isInteger(s) || s < 0) throw new RangeError(`snapshot names an invalid series id ${String(s)}`);
        if (s > maxSeries) maxSeries = s;
      }
      this.slotOf = new Int32Array(maxSeries + 1);
      this.seriesOfSlot = [];
      this.counters = [];
      const n = header.series.length;
      const cap = Math.max(1024, 1 << Math.ceil(Math.log2(Math.max(n, 1))));
      this.transforms = new Uint8Array(cap);
      this.memoryLimit = new Float64Array(cap);
      this.fitT = new Float64Array(cap);
      this.fitV = new Float64Array(cap);
      this.fitTT = new Float64Array(cap);
      this.fitTV = new Float64Array(cap);
      this.fitOrigin = new Float64Array(cap);
      this.prevT = new Float64Array(cap);
      this.quietUntil = new Float64Array(cap);
      this.driftQuietUntil = new Float64Array(cap);
      this.driftReported = new Float64Array(cap);
      this.driftLowSince = new Float64Array(cap);
      this.pointSign = new Int8Array(cap);
      this.pointBound = new Float64Array(cap);
      this.pointStay = new Float64Array(cap);
      this.slotThreshold = new Float32Array(cap);
      for (const row of header.thresholds ?? []) {
        if (!Array.isArray(row) || !Number.isInteger(row[0]) || row[0] < 0 || row[0] >= n) continue;
        if (Number.isFinite(row[1]) && row[1] >= FEEDBACK_MIN && row[1] <= FEEDBACK_MAX) this.slotThreshold[row[0]] = row[1];
      }
      this.feedbackRecords = Array.isArray(header.feedback) ? header.feedback.filter((r) => r && typeof r === 'object').slice(-FEEDBACK_LOG_MAX) : [];
      const finite = (xs: number[] | undefined, i: number) => (xs && Number.isFinite(xs[i]) ? xs[i] : 0);
      header.series.forEach((series, slot) => {
        this.slotOf[series] = slot + 1;
        this.seriesOfSlot[slot] = series;
        const d = this.ctx.catalog.describe(series);
        const kind = d ? inferMetricKind(d) : 'generic';
        this.transforms[slot] = d ? transformFor(kind, d.unit) : Transform.identity;
        this.memoryLimit[slot] = d && kind === 'memory' ? memoryLimitOf(d) : 0;
        this.counters[slot] = d?.type === 'counter' ? new CounterRate() : undefined;
        this.quietUntil[slot] = finite(header.quietUntil, slot);
        this.driftQuietUntil[slot] = finite(header.driftQuietUntil, slot);
        this.driftReported[slot] = finite(header.driftReported, slot);
      });
      for (const row of header.fit ?? []) {
        const slot = row[0];
        if (!Array.isArray(row) || row.length !== 7 || !Number.isInteger(slot) || slot < 0 || slot >= n) continue;
        const [t, v, tt, tv, origin, prevT] = row.slice(1).map((x) => (Number.isFinite(x) ? x : 0));
        this.fitT[slot] = t;
        this.fitV[slot] = v;
        this.fitTT[slot] = tt;
        this.fitTV[slot] = tv;
        this.fitOrigin[slot] = origin;
        this.prevT[slot] = prevT;
      }
    } catch (error) {
      this.model.restore(new BaselineModel(this.model.params).snapshot());
      this.slotOf = new Int32Array(1024);
      this.seriesOfSlot = [];
      const err = new SextantError(ErrorCode.VALUE_REJECTED, `baseline state could not be restored (${formatError(error)}); learning starts again`, {
        hint: 'the snapshot is from another Sextant version or damaged; delete it to silence this message',
      });
      this.ctx.status.set('degraded', err.message, err.code);
    }
  }
}

export const baselineDetectorFactory = createDetectorFactory<BaselineConfig>({
  type: 'baseline',
  stability: 'alpha',
  description: 'Learns every series\' level, daily/weekly seasonality and noise, and flags surprising points, shifts, drifts and memory exhaustion.',
  configSchema: baselineConfigSchema,
  defaults: BASELINE_DEFAULTS,
  create: (ctx) => new BaselineDetector(ctx),
});
