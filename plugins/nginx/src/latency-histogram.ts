/**
 * A fixed-memory latency histogram with log-spaced buckets, for per-interval quantiles.
 *
 * Values are seconds. Bucket 0 holds [0, minValue); bucket k >= 1 holds
 * [minValue·γ^(k-1), minValue·γ^k) with γ = (1 + relativeError) / (1 - relativeError), so reporting
 * the bucket's representative value 2·lower·γ/(1+γ) is within `relativeError` of any value in it. Values above `maxValue` land
 * in the last bucket. A quantile is the nearest-rank one (the smallest value with at least q·count
 * values at or below it), clamped to the exact minimum and maximum seen; the first and last ranks are the exact
 * minimum and maximum.
 *
 * Memory: one Uint32Array; at the default 1 % error over 1 µs..1 h that is about 1,100 buckets
 * (4.4 KiB). `record` is O(1) (one logarithm); `quantile` is O(buckets).
 */
export class LatencyHistogram {
  private readonly counts: Uint32Array;
  private readonly invLogGamma: number;
  private readonly gamma: number;
  private total = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(
    readonly relativeError = 0.01,
    private readonly minValue = 1e-6,
    maxValue = 3600,
  ) {
    this.gamma = (1 + relativeError) / (1 - relativeError);
    this.invLogGamma = 1 / Math.log(this.gamma);
    this.counts = new Uint32Array(2 + Math.ceil(Math.log(maxValue / minValue) * this.invLogGamma));
  }

  /** Number of values recorded since the last reset. */
  get count(): number {
    return this.total;
  }

  /** Records one duration in seconds. NaN, negative and infinite values are ignored (returns false). */
  record(seconds: number): boolean {
    if (!(seconds >= 0) || seconds === Number.POSITIVE_INFINITY) return false;
    let k = 0;
    if (seconds >= this.minValue) {
      k = 1 + Math.floor(Math.log(seconds / this.minValue) * this.invLogGamma);
      if (k >= this.counts.length) k = this.counts.length - 1;
    }
    this.counts[k]++;
    this.total++;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
    return true;
  }

  /** The q-quantile (0 < q <= 1) in seconds, or NaN when empty. */
  quantile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    if (rank >= this.total) return this.max;
    if (rank === 1) return this.min;
    let seen = 0;
    for (let k = 0; k < this.counts.length; k++) {
      seen += this.counts[k];
      if (seen >= rank) {
        const mid = k === 0 ? 0 : (2 * this.minValue * Math.pow(this.gamma, k)) / (1 + this.gamma);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  reset(): void {
    if (this.total === 0) return;
    this.counts.fill(0);
    this.total = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }
}
