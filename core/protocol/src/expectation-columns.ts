/**
 * Detector expectations over the plugin protocol (sextant.common.v1.ExpectationColumns).
 *
 * The contract's `expectation(series)` is synchronous, so a detector in a child process cannot be
 * asked per call: after each batch the child sends the latest expectation of every series in it,
 * and the host's proxy answers from {@link ExpectationStore}. An answer is therefore as fresh as
 * the last batch the child has processed and reported (typically one batch behind the host's
 * pipeline while a batch is in flight).
 */
import type { LearningState, SeriesExpectation, SeriesId } from '@sextant/plugin-api';
import { LearningState as WireLearningState, type ExpectationColumns } from './gen/sextant/common/v1/common.js';

const STATE_TO_WIRE: Record<LearningState, WireLearningState> = {
  learning: WireLearningState.LEARNING_STATE_LEARNING,
  provisional: WireLearningState.LEARNING_STATE_PROVISIONAL,
  trusted: WireLearningState.LEARNING_STATE_TRUSTED,
};
const STATE_FROM_WIRE: (LearningState | undefined)[] = [undefined, 'learning', 'provisional', 'trusted'];

export function emptyExpectationColumns(): ExpectationColumns {
  return { series: [], timestamps: [], expected: [], lower: [], upper: [], states: [], progressSamples: [], progressSamplesNeeded: [], progressSpanMs: [], progressSpanNeededMs: [] };
}

/**
 * Child side: collects the expectations of the distinct series of processed batches until
 * {@link take}. A generation stamp per series id makes the "distinct" check one array read.
 */
export class ExpectationCollector {
  private stamp = new Uint32Array(1024);
  private generation = 0;
  private pending = emptyExpectationColumns();
  private hasProgress = false;

  constructor(private readonly expectationOf: (series: SeriesId) => SeriesExpectation | undefined) {}

  /** Appends the expectation of every distinct series among the first `count` ids. */
  afterBatch(ids: ArrayLike<number>, count: number): void {
    if (++this.generation === 0xffffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    const gen = this.generation;
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      if (id >= this.stamp.length) {
        const grown = new Uint32Array(Math.max(id + 1, this.stamp.length * 2));
        grown.set(this.stamp);
        this.stamp = grown;
      }
      if (this.stamp[id] === gen) continue;
      this.stamp[id] = gen;
      const e = this.expectationOf(id);
      if (e) this.push(id, e);
    }
  }

  get size(): number {
    return this.pending.series.length;
  }

  /** What was collected since the last call (undefined when nothing). */
  take(): ExpectationColumns | undefined {
    if (this.pending.series.length === 0) return undefined;
    const out = this.pending;
    if (!this.hasProgress) {
      out.progressSamples = [];
      out.progressSamplesNeeded = [];
      out.progressSpanMs = [];
      out.progressSpanNeededMs = [];
    }
    this.pending = emptyExpectationColumns();
    this.hasProgress = false;
    return out;
  }

  private push(id: number, e: SeriesExpectation): void {
    const c = this.pending;
    c.series.push(id);
    c.timestamps.push(e.timestamp);
    c.expected.push(e.expected);
    c.lower.push(e.lower);
    c.upper.push(e.upper);
    c.states.push(STATE_TO_WIRE[e.state] ?? WireLearningState.LEARNING_STATE_UNSPECIFIED);
    const p = e.progress;
    if (p) this.hasProgress = true;
    c.progressSamples.push(p ? p.samples : Number.NaN);
    c.progressSamplesNeeded.push(p ? p.samplesNeeded : Number.NaN);
    c.progressSpanMs.push(p ? p.spanMs : Number.NaN);
    c.progressSpanNeededMs.push(p ? p.spanNeededMs : Number.NaN);
  }
}

/** Host side: the latest expectation per series id, in typed arrays (no object kept per series). */
export class ExpectationStore {
  private state = new Uint8Array(0); // 0 = none, else index into STATE_FROM_WIRE
  private timestamp = new Float64Array(0);
  private expected = new Float64Array(0);
  private lower = new Float64Array(0);
  private upper = new Float64Array(0);
  private progress = new Float64Array(0); // 4 per series; NaN in the first = none

  /** Applies one message's columns; returns false (the caller counts a protocol error) when they disagree in length. */
  apply(c: ExpectationColumns): boolean {
    const n = c.series.length;
    if (c.timestamps.length !== n || c.expected.length !== n || c.lower.length !== n || c.upper.length !== n || c.states.length !== n) return false;
    const withProgress = c.progressSamples.length === n && c.progressSamplesNeeded.length === n && c.progressSpanMs.length === n && c.progressSpanNeededMs.length === n;
    if (!withProgress && c.progressSamples.length !== 0) return false;
    for (let i = 0; i < n; i++) {
      const id = c.series[i];
      if (id > 50_000_000) return false;
      if (id >= this.state.length) this.grow(id + 1);
      const st = c.states[i];
      this.state[id] = st > 0 && st < STATE_FROM_WIRE.length ? st : 0;
      this.timestamp[id] = c.timestamps[i];
      this.expected[id] = c.expected[i];
      this.lower[id] = c.lower[i];
      this.upper[id] = c.upper[i];
      const at = id * 4;
      this.progress[at] = withProgress ? c.progressSamples[i] : Number.NaN;
      if (withProgress) {
        this.progress[at + 1] = c.progressSamplesNeeded[i];
        this.progress[at + 2] = c.progressSpanMs[i];
        this.progress[at + 3] = c.progressSpanNeededMs[i];
      }
    }
    return true;
  }

  get(id: SeriesId): SeriesExpectation | undefined {
    const st = id < this.state.length ? STATE_FROM_WIRE[this.state[id]] : undefined;
    if (!st) return undefined;
    const at = id * 4;
    const samples = this.progress[at];
    return {
      timestamp: this.timestamp[id],
      expected: this.expected[id],
      lower: this.lower[id],
      upper: this.upper[id],
      state: st,
      ...(samples === samples ? { progress: { samples, samplesNeeded: this.progress[at + 1], spanMs: this.progress[at + 2], spanNeededMs: this.progress[at + 3] } } : {}),
    };
  }

  clear(): void {
    this.state.fill(0);
  }

  private grow(min: number): void {
    const size = Math.max(min, this.state.length * 2, 256);
    const g8 = new Uint8Array(size);
    g8.set(this.state);
    this.state = g8;
    const g = (a: Float64Array, width = 1) => {
      const b = new Float64Array(size * width);
      b.set(a);
      return b;
    };
    this.timestamp = g(this.timestamp);
    this.expected = g(this.expected);
    this.lower = g(this.lower);
    this.upper = g(this.upper);
    this.progress = g(this.progress, 4);
  }
}
