/**
 * `timeoutDurationMs`: the zod field for a collector's request timeout, so every plugin accepts
 * and refuses the same way. It is `durationMs` from `@sextant/plugin-kit` with the bounds every
 * request timeout shares.
 */
import { durationMs } from '@sextant/plugin-kit';

/**
 * A duration (`"5s"`, `"500ms"`, or a number of milliseconds) parsed to whole milliseconds, from
 * 100 ms to 5 min. Unreadable text fails with `must be a duration such as "5s" or "500ms" (got ...)`.
 */
export const timeoutDurationMs = durationMs({ min: 100, max: 300_000 });
