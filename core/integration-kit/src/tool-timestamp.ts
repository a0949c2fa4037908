/**
 * Timestamps as configuration-management and CI tools write them into their reports (Chef, Puppet,
 * Salt, CI deploy hooks). Numbers are unix seconds or milliseconds, told apart by size: values
 * above 1e11 are milliseconds (1e11 s would be the year 5138).
 */

/** `YYYY-MM-DD[ T]HH:MM:SS[.frac][ ](Z|UTC|+HH:MM|+HHMM)`; a missing zone means UTC. */
const RUBY_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/;

/**
 * Milliseconds since the epoch from the timestamps tools send: ISO-8601, Ruby's
 * `2024-05-01 10:00:00.123456 +02:00` / `+0200` / `UTC`, unix seconds or milliseconds (numbers or
 * digit strings). Undefined when unreadable or outside 1970..2200.
 */
export function parseToolTimestamp(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{9,13}(\.\d+)?$/.test(value))) {
    const n = Number(value);
    ms = n > 1e11 ? n : n * 1000;
  } else if (value instanceof Date) {
    ms = value.getTime();
  } else if (typeof value === 'string') {
    const m = RUBY_TIME.exec(value.trim());
    if (m) {
      const frac = m[3] ? m[3].slice(0, 4).padEnd(4, '0') : '';
      let zone = m[4] ?? 'Z';
      if (zone === 'UTC') zone = 'Z';
      else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
      ms = Date.parse(`${m[1]}T${m[2]}${frac}${zone}`);
    } else {
      ms = Date.parse(value);
    }
  }
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms < 7_258_118_400_000 ? ms : undefined;
}
