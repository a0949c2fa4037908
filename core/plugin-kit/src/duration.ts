/**
 * Durations in configuration: one reading and one schema for every plugin, so `"5m"` means the same
 * in every section of sextant.yaml and a bad value is refused with the same words everywhere.
 *
 * A number is milliseconds; text is a number with a unit: `500ms`, `10s`, `5m`, `1h`, `2d`
 * (decimals allowed, spaces around the unit tolerated). No other units, no negative values, no
 * bare numbers in text (`"5"` is refused: 5 what?).
 */
import { z } from 'zod';

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when `value` is not a finite, non-negative duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return Number.isFinite(ms) ? ms : undefined;
}

/** How a duration renders in a message: whole units when exact (`5m`, `10s`), else milliseconds. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export interface DurationBounds {
  /** Smallest accepted value in ms (inclusive); default 0. Use 1 for "must be longer than 0". */
  readonly min?: number;
  /** Largest accepted value in ms (inclusive); default none. */
  readonly max?: number;
}

/**
 * The zod field for a duration in configuration: a number of milliseconds or text such as `"5s"`,
 * parsed to **whole milliseconds** (rounded), within `min`..`max`. Messages name the bound in the
 * user's units: `must be a duration such as "5s" or "500ms" (got "soon")`, `must be at least 100ms`,
 * `must be at most 10m`.
 *
 * ```ts
 * z.object({ timeout: durationMs({ min: 100, max: 300_000 }), interval: durationMs({ min: 1 }) })
 * ```
 */
export function durationMs(bounds: DurationBounds = {}) {
  const min = bounds.min ?? 0;
  const max = bounds.max;
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as "5s" or "500ms" (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    const ms = Math.round(parsed);
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: min === 1 ? 'must be longer than 0' : `must be at least ${formatDuration(min)}` });
      return z.NEVER;
    }
    if (max !== undefined && ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${formatDuration(max)}` });
      return z.NEVER;
    }
    return ms;
  });
}
