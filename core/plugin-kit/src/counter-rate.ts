/**
 * Turns a cumulative counter into a per-second rate, correctly across resets and wraps. Every
 * collector that reads counters (/proc/stat, stub_status, Redis INFO) uses this so that a server
 * restart never shows up as a negative rate.
 */
export interface CounterRateOptions {
  /**
   * The counter's modulus if it wraps (2 ** 32 for 32-bit kernel counters, 2 ** 64 for 64-bit).
   * When set, a decrease from the upper half of the range is read as a wrap, not a reset.
   */
  readonly wrapAt?: number;
}

export class CounterRate {
  private lastValue = Number.NaN;
  private lastTime = Number.NaN;
  /** How many times the counter went backwards and was treated as a reset. */
  resets = 0;
  private readonly wrapAt: number | undefined;

  constructor(options: CounterRateOptions = {}) {
    this.wrapAt = options.wrapAt;
  }

  /**
   * Feeds the counter's current `value` read at `timestampMs` and returns the rate per second
   * since the previous reading, or `undefined` when there is no rate to report: first reading,
   * time not advancing, a non-finite or negative value, or a reset (the counter went backwards).
   */
  update(value: number, timestampMs: number): number | undefined {
    if (!Number.isFinite(value) || value < 0 || !Number.isFinite(timestampMs)) return undefined;
    const prevValue = this.lastValue;
    const prevTime = this.lastTime;
    if (Number.isNaN(prevTime) || timestampMs <= prevTime) {
      if (Number.isNaN(prevTime) || timestampMs < prevTime) {
        this.lastValue = value;
        this.lastTime = timestampMs;
      }
      return undefined;
    }
    this.lastValue = value;
    this.lastTime = timestampMs;
    let delta = value - prevValue;
    if (delta < 0) {
      if (this.wrapAt !== undefined && prevValue >= this.wrapAt / 2 && prevValue < this.wrapAt) {
        delta = this.wrapAt - prevValue + value;
      } else {
        this.resets++;
        return undefined;
      }
    }
    return delta / ((timestampMs - prevTime) / 1000);
  }

  /** Also returns the raw increase since the last reading (same rules as {@link update}). */
  delta(value: number, timestampMs: number): number | undefined {
    const prevTime = this.lastTime;
    const rate = this.update(value, timestampMs);
    return rate === undefined ? undefined : (rate * (timestampMs - prevTime)) / 1000;
  }
}
