/**
 * Parser of the `INFO` reply. node-redis hands it over as raw text:
 *
 * ```
 * # Server\r\n
 * redis_version:7.0.15\r\n
 * ...\r\n
 * \r\n
 * # Keyspace\r\n
 * db0:keys=3,expires=1,avg_ttl=9876\r\n
 * ```
 *
 * Contract:
 * - Never throws, whatever the input (binary garbage, a reply from something that is not Redis,
 *   a truncated page). Time is linear in the input length: no regular expressions, one pass.
 * - A line is `key:value` where `key` is non-empty and has no whitespace or control characters;
 *   `value` is everything after the FIRST colon (values may contain colons: `executable:/usr/bin/x`,
 *   `slave0:ip=::1,...`) and may be empty. `# Title` lines start a section; blank lines are skipped.
 *   Anything else is a rejected line, counted in {@link RedisInfo.rejectedLines}.
 * - Lines longer than {@link MAX_LINE_LENGTH} are rejected (a real INFO line is < 1 KiB).
 * - A key seen twice keeps the last value.
 *
 * The parser is reused across rounds: {@link RedisInfoParser.parse} clears and refills one map, so
 * a collection round allocates only the value strings.
 */

export const MAX_LINE_LENGTH = 64 * 1024;

/** One parsed INFO reply. Valid until the next `parse()` on the same parser. */
export interface RedisInfo {
  /** Raw values by key (`used_memory` -> `"1048576"`). */
  readonly fields: ReadonlyMap<string, string>;
  /** Section titles seen, lower-cased (`server`, `keyspace`, ...). */
  readonly sections: ReadonlySet<string>;
  /** Lines that were neither `key:value`, `# Section` nor blank. */
  readonly rejectedLines: number;
}

export class RedisInfoParser implements RedisInfo {
  private readonly fieldMap = new Map<string, string>();
  private readonly sectionSet = new Set<string>();
  private rejected = 0;

  get fields(): ReadonlyMap<string, string> {
    return this.fieldMap;
  }
  get sections(): ReadonlySet<string> {
    return this.sectionSet;
  }
  get rejectedLines(): number {
    return this.rejected;
  }

  parse(text: string): RedisInfo {
    this.fieldMap.clear();
    this.sectionSet.clear();
    this.rejected = 0;
    if (typeof text !== 'string') {
      this.rejected = 1;
      return this;
    }
    const length = text.length;
    let start = 0;
    while (start < length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = length;
      let lineEnd = end;
      if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 13 /* \r */) lineEnd--;
      this.parseLine(text, start, lineEnd);
      start = end + 1;
    }
    return this;
  }

  private parseLine(text: string, start: number, end: number): void {
    if (end === start) return;
    if (end - start > MAX_LINE_LENGTH) {
      this.rejected++;
      return;
    }
    if (text.charCodeAt(start) === 35 /* # */) {
      const title = text.slice(start + 1, end).trim().toLowerCase();
      if (title.length > 0) this.sectionSet.add(title);
      return;
    }
    let colon = -1;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 58 /* : */) {
        colon = i;
        break;
      }
      // whitespace, control characters and DEL cannot be part of a key
      if (c <= 32 || c === 127) break;
    }
    if (colon <= start) {
      // a line of only whitespace counts as blank
      if (text.slice(start, end).trim().length > 0) this.rejected++;
      return;
    }
    this.fieldMap.set(text.slice(start, colon), text.slice(colon + 1, end));
  }
}

/**
 * Reads one subfield of a `k=v,k=v` value (`db0:keys=3,expires=1`, `slave0:ip=..,offset=..`)
 * without allocating an array. Returns undefined when `name` is absent.
 */
export function subfield(value: string, name: string): string | undefined {
  const length = value.length;
  let start = 0;
  // next '=' at or after `start`; searched again only once `start` has passed it, so the whole
  // scan stays linear even for values like ",,,,,,=" (no '=' in most segments)
  let eq = value.indexOf('=');
  while (start < length) {
    if (eq === -1) return undefined;
    if (eq < start) {
      eq = value.indexOf('=', start);
      if (eq === -1) return undefined;
    }
    let end = value.indexOf(',', start);
    if (end === -1) end = length;
    if (eq < end && eq - start === name.length && value.startsWith(name, start)) return value.slice(eq + 1, end);
    start = end + 1;
  }
  return undefined;
}

/**
 * A strict number: decimal integers or fractions as Redis prints them. Returns NaN for empty
 * strings, `inf`/`nan`, hex and anything else `Number()` would accept loosely (`" 1"`, `"0x10"`).
 */
export function strictNumber(value: string | undefined): number {
  if (value === undefined || value.length === 0 || value.length > 40) return Number.NaN;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (!digit && c !== 46 /* . */ && c !== 45 /* - */ && c !== 43 /* + */ && c !== 101 /* e */ && c !== 69 /* E */) return Number.NaN;
  }
  return Number(value);
}
