/**
 * The one retry-delay formula of Sextant: capped exponential backoff with a configurable share of
 * jitter. The delay before retry `attempt` (1 = after the first failure) is
 *
 *     ceiling = min(maxMs, initialMs * 2^(attempt - 1))
 *     delay   = floor(ceiling * (1 - jitter + jitter * random()))     random() in [0, 1)
 *
 * so `jitter: 1` is "full jitter" (uniform in [0, ceiling): spreads a crowd of clients that failed
 * together, the AWS Architecture Blog recommendation), `jitter: 0` is a plain doubling (a supervised
 * child's restart, where predictability helps the operator), and a fraction in between keeps most of
 * the delay while still spreading clients.
 *
 * Why a function and not cockatiel: callers need the delay of attempt N as a pure function of N (the
 * notification outbox keeps the attempt count in its journal or Redis, not in a live iterator) and
 * tests inject `random`; cockatiel's backoffs are stateful iterator chains with `Math.random` built in,
 * and cockatiel 4 needs Node 22.
 *
 * Also exported alone as `@sextant/plugin-kit/backoff` (no Node built-ins), for the browser UI.
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry, in ms (> 0). */
  readonly initialMs: number;
  /** Largest ceiling, in ms (>= initialMs). */
  readonly maxMs: number;
  /** Share of the ceiling that is random, 0..1 (clamped); default 1 (full jitter). */
  readonly jitter?: number;
}

/**
 * Whole milliseconds to wait before retry `attempt` (1-based; 0 or less is treated as 1) under
 * `policy`. Never negative, never above `maxMs`; `random` (default Math.random) returns [0, 1).
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(1, Math.floor(attempt)) - 1, 52);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 1));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.floor(ceiling * (1 - jitter + jitter * r)));
}
