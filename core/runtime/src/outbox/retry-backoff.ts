/**
 * The outbox's retry delay: exponential backoff with full jitter, i.e. `backoffDelayMs` of
 * `@sextant/plugin-kit` (the one retry formula) with `jitter: 1`. The delay before retry `attempt`
 * (1 = after the first failure) is uniform in [0, min(maxMs, initialMs * 2^(attempt-1))) whole ms.
 * Full jitter spreads the retries of many notifications that failed together (an endpoint outage)
 * instead of having them hit the recovered endpoint in lock step.
 *
 * `random` returns a number in [0, 1) (Math.random by default; tests pass their own).
 */
import { backoffDelayMs } from '@sextant/plugin-kit';

export function fullJitterBackoffMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  return backoffDelayMs(attempt, { initialMs, maxMs, jitter: 1 }, random);
}
