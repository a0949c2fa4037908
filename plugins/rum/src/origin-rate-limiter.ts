/**
 * A token bucket per origin: `perSecond` beacons sustained, `burst` at once. Origins are
 * allow-listed before they get here, so the number of buckets is bounded by the allow-list.
 */
export class OriginRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `origin` at `now` (ms); false when the bucket is empty. */
  take(origin: string, now: number): boolean {
    let b = this.buckets.get(origin);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(origin, b);
    }
    if (now > b.at) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Seconds until `origin` has a token again (for Retry-After), at least 1. */
  retryAfterSeconds(origin: string): number {
    const b = this.buckets.get(origin);
    return Math.max(1, Math.ceil(((1 - (b?.tokens ?? 0)) / this.perSecond)));
  }
}
