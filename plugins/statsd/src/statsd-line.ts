/**
 * One line of the StatsD protocol with the DogStatsD extensions:
 *
 *   <name>:<value>[:<value>...]|<type>[|@<sample rate>][|#<tag>[:<val>],...][|c:<container>][|T<ts>]
 *
 * Types: `c` counter, `g` gauge (a leading `+`/`-` makes it a delta), `ms` timer, `h` histogram,
 * `d` distribution, `s` set (the value is any string; distinct values are counted). Several
 * values after the name (`name:1:2:3|ms`, DogStatsD protocol 1.1) are several samples, except for
 * sets, whose value is everything up to the first `|`. Other DogStatsD sections that start with a
 * letter (`c:` container id, `T` timestamp, `e:` external data, `card:`) are accepted and ignored.
 *
 * The parser writes into a caller-owned {@link ParsedLine} and returns a {@link LineOutcome}, so
 * parsing allocates only the substrings it keeps (name, tags, values of sets).
 */

export type StatsdType = 'c' | 'g' | 'ms' | 'h' | 'd' | 's';

/** Why a line was refused; the label of `malformed_total{reason}`. */
export type MalformedReason =
  | 'syntax' // no `name:value|type` shape
  | 'name' // empty or longer than MAX_NAME_LENGTH, or with whitespace
  | 'type' // unknown type letter
  | 'value' // not a decimal number (hex, words, empty)
  | 'non_finite' // NaN, Inf, or a number that overflows a double
  | 'sample_rate' // `@` not followed by a number in (0, 1]
  | 'tags' // more than MAX_TAGS tags, a tag longer than MAX_TAG_LENGTH, an empty tag key, or a reserved key
  | 'too_long' // a line (TCP) longer than the configured cap
  | 'type_conflict'; // the same name and tags already seen with another type in this instance

export type LineOutcome = 'ok' | 'event' | 'service_check' | 'empty' | MalformedReason;

export const MAX_NAME_LENGTH = 250;
export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 200;
/** Tag keys the plugin writes itself on timer series; a user tag with this key is refused. */
export const RESERVED_TAG_KEYS: ReadonlySet<string> = new Set(['quantile']);

/** Reused output of {@link parseStatsdLine}; valid until the next call. */
export interface ParsedLine {
  name: string;
  type: StatsdType;
  /** Numeric samples (not for sets); `valueCount` of them are used. */
  readonly values: number[];
  valueCount: number;
  /** Gauge only: the values are deltas (`+n` / `-n`). */
  delta: boolean;
  /** The set member (type `s`). */
  setMember: string;
  /** In (0, 1]; 1 when absent. */
  sampleRate: number;
  /**
   * The tag section as sent (`key` or `key:value`, comma-separated; several `#` sections joined
   * by `,`), already validated; `''` when none. Not canonical: {@link canonicalTags} sorts it.
   */
  tagText: string;
}

export function newParsedLine(): ParsedLine {
  return { name: '', type: 'c', values: [], valueCount: 0, delta: false, setMember: '', sampleRate: 1, tagText: '' };
}

const NON_FINITE = /^[+-]?(?:nan|inf(?:inity)?)$/i;

/** ASCII control characters, space and DEL; cheaper than a regex per line. */
function hasWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 127) return true;
  }
  return false;
}

/** `[+-]digits[.digits][(e|E)[+-]digits]` with at least one mantissa digit (no hex, no spaces, no `1,5`). */
function isDecimal(text: string): boolean {
  const n = text.length;
  let i = 0;
  let c = text.charCodeAt(0);
  if (c === 43 || c === 45) c = text.charCodeAt(++i);
  let digits = 0;
  while (c >= 48 && c <= 57) {
    digits++;
    c = text.charCodeAt(++i);
  }
  if (c === 46 /* . */) {
    c = text.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      digits++;
      c = text.charCodeAt(++i);
    }
  }
  if (digits === 0) return false;
  if (c === 101 || c === 69 /* e E */) {
    c = text.charCodeAt(++i);
    if (c === 43 || c === 45) c = text.charCodeAt(++i);
    let exp = 0;
    while (c >= 48 && c <= 57) {
      exp++;
      c = text.charCodeAt(++i);
    }
    if (exp === 0) return false;
  }
  return i === n;
}

/** Parses a decimal number; NaN when the text is not one, ±Infinity when it is NaN/Inf or overflows. */
function parseNumber(text: string): number | 'value' | 'non_finite' {
  if (!isDecimal(text)) return NON_FINITE.test(text) ? 'non_finite' : 'value';
  const n = Number(text);
  return Number.isFinite(n) ? n : 'non_finite';
}

function isType(t: string): t is StatsdType {
  return t === 'c' || t === 'g' || t === 'ms' || t === 'h' || t === 'd' || t === 's';
}

/**
 * Parses one line (without its newline; a trailing `\r` is tolerated). Never throws.
 * `_e{` (events) and `_sc|` (service checks) are recognised and reported, not parsed.
 */
export function parseStatsdLine(raw: string, out: ParsedLine): LineOutcome {
  const line = raw.length > 0 && raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
  if (line.length === 0 || line.trim().length === 0) return 'empty';
  if (line.startsWith('_e{')) return 'event';
  if (line.startsWith('_sc|')) return 'service_check';
  const colon = line.indexOf(':');
  const pipe = line.indexOf('|');
  if (colon <= 0 || pipe < 0 || pipe < colon) return colon === 0 ? 'name' : 'syntax';
  const name = line.slice(0, colon);
  if (name.length > MAX_NAME_LENGTH || hasWhitespace(name)) return 'name';

  let typeEnd = line.indexOf('|', pipe + 1);
  if (typeEnd < 0) typeEnd = line.length;
  const type = line.slice(pipe + 1, typeEnd);
  if (!isType(type)) return type.length === 0 ? 'syntax' : 'type';

  out.name = name;
  out.type = type;
  out.delta = false;
  out.valueCount = 0;
  out.sampleRate = 1;
  out.tagText = '';
  let tagCount = 0;
  const valueText = line.slice(colon + 1, pipe);
  if (type === 's') {
    if (valueText.length === 0) return 'value';
    out.setMember = valueText;
  } else {
    let start = 0;
    while (start <= valueText.length) {
      let end = valueText.indexOf(':', start);
      if (end < 0) end = valueText.length;
      const text = valueText.slice(start, end);
      const n = parseNumber(text);
      if (typeof n !== 'number') return n;
      if (type === 'g' && (text.charCodeAt(0) === 43 || text.charCodeAt(0) === 45)) out.delta = true;
      out.values[out.valueCount++] = n;
      start = end + 1;
    }
  }

  // optional sections
  let at = typeEnd;
  while (at < line.length) {
    let next = line.indexOf('|', at + 1);
    if (next < 0) next = line.length;
    const first = line.charCodeAt(at + 1);
    if (first === 64 /* @ */) {
      const rate = parseNumber(line.slice(at + 2, next));
      if (typeof rate !== 'number' || rate <= 0 || rate > 1) return 'sample_rate';
      out.sampleRate = rate;
    } else if (first === 35 /* # */) {
      const n = countValidTags(line, at + 2, next);
      if (n < 0 || (tagCount += n) > MAX_TAGS) return 'tags';
      if (n > 0) out.tagText = out.tagText.length === 0 ? line.slice(at + 2, next) : `${out.tagText},${line.slice(at + 2, next)}`;
    } else if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) {
      return 'syntax';
    }
    at = next;
  }
  return 'ok';
}

/** Validates the tags in line[from, to) without copying them; returns how many, or -1 when one is invalid. */
function countValidTags(line: string, from: number, to: number): number {
  let count = 0;
  let start = from;
  while (start < to) {
    let end = line.indexOf(',', start);
    if (end < 0 || end > to) end = to;
    if (end > start) {
      if (end - start > MAX_TAG_LENGTH || line.charCodeAt(start) === 58 /* : */) return -1;
      for (const key of RESERVED_TAG_KEYS) {
        if (line.startsWith(key, start) && (start + key.length === end || line.charCodeAt(start + key.length) === 58)) return -1;
      }
      count++;
    }
    start = end + 1;
  }
  return count;
}

/** The tags of a {@link ParsedLine.tagText}, sorted, duplicates and empty entries removed: the identity of a tag set. */
export function canonicalTags(tagText: string): string[] {
  if (tagText.length === 0) return [];
  const tags = tagText.split(',').filter((t) => t.length > 0);
  tags.sort();
  let w = 0;
  for (let r = 0; r < tags.length; r++) if (w === 0 || tags[r] !== tags[w - 1]) tags[w++] = tags[r];
  tags.length = w;
  return tags;
}

/** Tags as point attributes: `key:value` -> `{key: value}`, a bare `key` -> `{key: ''}`; the last of a repeated key wins. */
export function tagsToAttributes(tags: readonly string[]): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const tag of tags) {
    const sep = tag.indexOf(':');
    if (sep < 0) attrs[tag] = '';
    else attrs[tag.slice(0, sep)] = tag.slice(sep + 1);
  }
  return attrs;
}
