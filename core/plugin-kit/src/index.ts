/**
 * @sextant/plugin-kit — helpers for plugin authors, in one copy each, beside the contract.
 *
 * `@sextant/plugin-api` is the contract (types, refs, factories, config validation, coded errors:
 * small, stable, no I/O). This package holds what a component *does* with it: read durations,
 * turn counters into rates, read an untrusted body with a cap, wait between retries, compare
 * secrets, match globs. Plain functions and classes, no DI, no runtime; the runtime and the
 * protocol use the same copies.
 */
export { parseDuration, durationMs, formatDuration } from './duration.js';
export type { DurationBounds } from './duration.js';

export { CounterRate } from './counter-rate.js';
export type { CounterRateOptions } from './counter-rate.js';

export { readBodyCapped } from './http-body.js';

export { backoffDelayMs } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';

export { secretsEqual } from './secret-compare.js';

export { compileGlob, compileGlobs } from './glob.js';
export type { GlobTest } from './glob.js';

export { estimateQuantile, HISTOGRAM_QUANTILES } from './histogram-quantile.js';
