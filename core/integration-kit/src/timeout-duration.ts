/**
 * `timeoutDurationMs`: the zod field for a collector's request timeout, so every plugin accepts
 * and refuses the same way.
 */
import { z } from 'zod';
import { parseDuration } from '@sextant/plugin-api';

/**
 * A duration (`"5s"`, `"500ms"`, or a number of milliseconds) parsed to milliseconds, from 100 ms
 * to 5 min. Unreadable text fails with `must be a duration such as "5s" or "500ms" (got ...)`.
 */
export const timeoutDurationMs = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as "5s" or "500ms" (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return ms;
  })
  .pipe(z.number().min(100, 'must be at least 100ms').max(300_000, 'must be at most 5m'));
