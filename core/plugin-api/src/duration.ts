/**
 * Durations in configuration: one reading for every plugin, so `"5m"` means the same in every
 * section of sextant.yaml. A number is milliseconds; text is a number with a unit: `500ms`, `10s`,
 * `5m`, `1h`, `2d` (decimals allowed, spaces around the unit tolerated). Schemas add their own bounds.
 */
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
