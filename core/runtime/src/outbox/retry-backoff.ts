/**
 * Exponential backoff with full jitter: the delay before retry `attempt` (1 = after the first
 * failure) is uniform in [0, min(maxMs, initialMs * 2^(attempt-1))). Full jitter spreads the
 * retries of many notifications that failed together (an endpoint outage) instead of having them
 * hit the recovered endpoint in lock step.
 *
 * `random` returns a number in [0, 1) (Math.random by default; tests pass their own).
 */
export function fullJitterBackoffMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 52);
  const ceiling = Math.min(maxMs, initialMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
