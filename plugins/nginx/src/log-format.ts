/**
 * Access-log lines in any nginx `log_format`, parsed in linear time.
 *
 * {@link LogLineParser.compile} turns a `log_format` string (nginx syntax: `$name` or `${name}`
 * variables between literal text) into a list of (variable, following literal) pairs once. Parsing a
 * line then walks it left to right: each variable's value runs up to the first occurrence of the
 * literal that follows it. There is no regular expression and no backtracking, so a line costs
 * O(line length × longest literal), and a malformed line is rejected as soon as a literal is missing.
 *
 * This is unambiguous for nginx's own output because the default `escape=default` writes `"` as
 * `\x22` and control or non-ASCII bytes as `\xHH`, so a quoted value cannot contain its closing quote.
 * Two variables with nothing between them cannot be split and are refused at compile time.
 *
 * Values nginx writes as lists — `$upstream_response_time` is `0.010, 0.004` after a retry and
 * `0.010 : 0.004` after an internal redirect — are read whole even when the format separates fields
 * with spaces; their times are summed.
 *
 * Variables after the last one nginx's `combined` format has may be missing: a line in plain
 * `combined` format parses with the default format, with `$request_time` and
 * `$upstream_response_time` absent (NaN).
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/** nginx's predefined `combined` format. */
export const COMBINED_LOG_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** The default: `combined` plus request and upstream time, which latency quantiles need. */
export const DEFAULT_LOG_FORMAT = `${COMBINED_LOG_FORMAT} $request_time $upstream_response_time`;

// What the parser does with each variable's value. Plain numbers (no const enum: isolatedModules).
const SKIP = 0;
const STATUS = 1;
const BODY_BYTES = 2;
const BYTES_SENT = 3;
const REQUEST_TIME = 4;
const UPSTREAM_TIME = 5;
const REQUEST = 6;
const REQUEST_URI = 7;
const URI = 8;
const LIST_SKIP = 9; // other upstream_* variables: lists, read whole, value unused

const FIELD_OF: Readonly<Record<string, number>> = {
  status: STATUS,
  body_bytes_sent: BODY_BYTES,
  bytes_sent: BYTES_SENT,
  request_time: REQUEST_TIME,
  upstream_response_time: UPSTREAM_TIME,
  request: REQUEST,
  request_uri: REQUEST_URI,
  uri: URI,
};

/** Variables whose absence at the end of a line is tolerated (see the module comment). */
const OPTIONAL_AT_END = new Set(['request_time', 'upstream_response_time', 'upstream_connect_time', 'upstream_header_time', 'upstream_addr', 'upstream_status', 'pipe', 'connection_requests']);

/**
 * The result of parsing one line. One instance is reused for every line (no object per line):
 * read it before parsing the next line.
 */
export class ParsedLogLine {
  /** HTTP status, 100..599. */
  status = 0;
  /** Bytes of the response body; NaN when the format logs neither $body_bytes_sent nor $bytes_sent. */
  bytes = Number.NaN;
  /** $request_time in seconds; NaN when absent or `-`. */
  requestTime = Number.NaN;
  /** Sum of the $upstream_response_time list in seconds; NaN when absent, `-` or no upstream. */
  upstreamTime = Number.NaN;
  /** Offsets into the parsed text of the request path (with query), or -1 when the line has none. */
  pathStart = -1;
  pathEnd = -1;
  /** Why the last rejected line was rejected (no line content, so no secrets). */
  error = '';
}

export class LogLineParser {
  /** Whether the format logs each value; false ones are always NaN / -1. */
  readonly hasRequestTime: boolean;
  readonly hasUpstreamTime: boolean;
  readonly hasBytes: boolean;
  readonly hasPath: boolean;

  private constructor(
    readonly format: string,
    private readonly names: readonly string[],
    private readonly fields: Uint8Array,
    /** literals[0] precedes the first variable; literals[i + 1] follows variable i. */
    private readonly literals: readonly string[],
    /** Index of the first variable from which every later variable is optional at end of line. */
    private readonly optionalFrom: number,
  ) {
    const has = (f: number) => fields.includes(f);
    this.hasRequestTime = has(REQUEST_TIME);
    this.hasUpstreamTime = has(UPSTREAM_TIME);
    this.hasBytes = has(BODY_BYTES) || has(BYTES_SENT);
    this.hasPath = has(REQUEST) || has(REQUEST_URI) || has(URI);
  }

  /**
   * Compiles a `log_format` string. Throws `SEXTANT_ERR_CONFIG_INVALID` when the format cannot be
   * parsed unambiguously or lacks `$status`.
   */
  static compile(format: string): LogLineParser {
    const names: string[] = [];
    const literals: string[] = [];
    let literal = '';
    let i = 0;
    while (i < format.length) {
      const c = format[i];
      if (c !== '$') {
        literal += c;
        i++;
        continue;
      }
      let name: string;
      if (format[i + 1] === '{') {
        const close = format.indexOf('}', i + 2);
        if (close < 0) throw formatError(format, `unclosed "\${" at column ${i + 1}`);
        name = format.slice(i + 2, close);
        i = close + 1;
      } else {
        let j = i + 1;
        while (j < format.length && isNameChar(format.charCodeAt(j))) j++;
        name = format.slice(i + 1, j);
        i = j;
      }
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw formatError(format, `"$" at column ${i} is not followed by a variable name`);
      if (names.length > 0 && literal === '') {
        throw formatError(format, `$${names[names.length - 1]} and $${name} have nothing between them, so a line cannot be split`);
      }
      literals.push(literal);
      names.push(name);
      literal = '';
    }
    literals.push(literal);
    if (!names.includes('status')) throw formatError(format, 'it has no $status, which every nginx metric from the log needs');
    const fields = new Uint8Array(names.length);
    names.forEach((n, k) => {
      fields[k] = FIELD_OF[n] ?? (n.startsWith('upstream_') ? LIST_SKIP : SKIP);
    });
    let optionalFrom = names.length;
    while (optionalFrom > 0 && OPTIONAL_AT_END.has(names[optionalFrom - 1])) optionalFrom--;
    return new LogLineParser(format, names, fields, literals, optionalFrom);
  }

  /** Variable names in order of appearance. */
  get variables(): readonly string[] {
    return this.names;
  }

  /**
   * Parses `text[start, end)` (one line, without its newline) into `out`. Returns false, with
   * `out.error` set, when the line does not match the format or a value is out of range. Never
   * throws.
   */
  parse(text: string, start: number, end: number, out: ParsedLogLine): boolean {
    if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
    out.status = 0;
    out.bytes = Number.NaN;
    out.requestTime = Number.NaN;
    out.upstreamTime = Number.NaN;
    out.pathStart = -1;
    out.pathEnd = -1;
    const literals = this.literals;
    const fields = this.fields;
    const first = literals[0];
    if (first.length > 0) {
      if (!text.startsWith(first, start) || start + first.length > end) return reject(out, 'the line does not start like the format');
    }
    let pos = start + first.length;
    const n = fields.length;
    for (let v = 0; v < n; v++) {
      const after = literals[v + 1];
      const field = fields[v];
      let valueEnd: number;
      let next: number;
      if (v === n - 1 && after.length === 0) {
        valueEnd = end;
        next = end;
      } else {
        const isList = field === UPSTREAM_TIME || field === LIST_SKIP;
        valueEnd = findLiteral(text, after, pos, end, isList);
        if (valueEnd < 0) {
          // A line that stops early is fine when only optional trailing variables are missing.
          if (v >= this.optionalFrom - 1 && this.endsEarly(text, pos, end, after, v, out)) return out.status !== 0 || reject(out, 'no $status');
          return reject(out, `expected ${JSON.stringify(after)} after $${this.names[v]}`);
        }
        next = valueEnd + after.length;
      }
      if (field !== SKIP && !this.store(field, text, pos, valueEnd, out)) return false;
      pos = next;
    }
    if (pos !== end) return reject(out, 'unexpected text after the last field');
    return true;
  }

  /**
   * The line ended inside the optional tail: the value of variable `v` runs to the end of the line,
   * minus the trimmed literal that would have followed it.
   */
  private endsEarly(text: string, pos: number, end: number, after: string, v: number, out: ParsedLogLine): boolean {
    const closing = after.trimEnd();
    if (!text.startsWith(closing, end - closing.length) || end - closing.length < pos) return false;
    if (v >= this.optionalFrom && pos === end) return true; // nothing of the optional tail at all
    return this.fields[v] === SKIP || this.store(this.fields[v], text, pos, end - closing.length, out);
  }

  private store(field: number, text: string, s: number, e: number, out: ParsedLogLine): boolean {
    switch (field) {
      case STATUS: {
        if (e - s !== 3) return reject(out, '$status is not a 3-digit HTTP status');
        const st = parseUnsigned(text, s, e);
        if (!(st >= 100 && st <= 599)) return reject(out, '$status is not between 100 and 599');
        out.status = st;
        return true;
      }
      case BODY_BYTES:
      case BYTES_SENT: {
        const b = parseUnsigned(text, s, e);
        if (Number.isNaN(b)) return reject(out, `$${field === BODY_BYTES ? 'body_bytes_sent' : 'bytes_sent'} is not a byte count`);
        // $body_bytes_sent wins when both are logged
        if (field === BODY_BYTES || Number.isNaN(out.bytes)) out.bytes = b;
        return true;
      }
      case REQUEST_TIME: {
        if (e - s === 1 && text.charCodeAt(s) === 45) return true; // "-"
        const t = parseSeconds(text, s, e);
        if (Number.isNaN(t)) return reject(out, '$request_time is not a number of seconds');
        out.requestTime = t;
        return true;
      }
      case UPSTREAM_TIME: {
        const t = parseSecondsList(text, s, e);
        if (t === -2) return reject(out, '$upstream_response_time is not a list of seconds');
        if (t >= 0) out.upstreamTime = t;
        return true;
      }
      case REQUEST: {
        // "GET /path?q HTTP/1.1"; anything else (a TLS handshake on a plain port, "-") has no path
        let sp = s;
        while (sp < e && text.charCodeAt(sp) !== 32) sp++;
        if (sp + 1 < e && text.charCodeAt(sp + 1) === 47 /* / */) {
          let pe = sp + 1;
          while (pe < e && text.charCodeAt(pe) !== 32) pe++;
          if (out.pathStart < 0) {
            out.pathStart = sp + 1;
            out.pathEnd = pe;
          }
        }
        return true;
      }
      case REQUEST_URI:
      case URI:
        if (e > s && text.charCodeAt(s) === 47) {
          out.pathStart = s;
          out.pathEnd = e;
        }
        return true;
      default:
        return true;
    }
  }
}

function reject(out: ParsedLogLine, why: string): false {
  out.error = why;
  return false;
}

function formatError(format: string, why: string): SextantError {
  return new SextantError(ErrorCode.CONFIG_INVALID, `accessLog.format cannot be used: ${why}`, {
    hint: 'copy the log_format string from nginx.conf (the part after the format name), e.g. ' + JSON.stringify(DEFAULT_LOG_FORMAT),
    details: { format },
  });
}

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * First index >= from where `lit` starts and ends by `end`, or -1. For list values (`isList`), a
 * match that is part of a `, ` or ` : ` separator is skipped.
 */
function findLiteral(text: string, lit: string, from: number, end: number, isList: boolean): number {
  const c0 = lit.charCodeAt(0);
  const last = end - lit.length;
  outer: for (let i = from; i <= last; i++) {
    if (text.charCodeAt(i) !== c0) continue;
    for (let k = 1; k < lit.length; k++) if (text.charCodeAt(i + k) !== lit.charCodeAt(k)) continue outer;
    if (isList && c0 === 32 && i > from) {
      const prev = text.charCodeAt(i - 1);
      if (prev === 44 /* , */ || prev === 58 /* : */) continue;
      if (i + 1 < end && text.charCodeAt(i + 1) === 58) continue;
    }
    return i;
  }
  return -1;
}

/** Digits only, at most 15 of them; NaN otherwise. */
function parseUnsigned(text: string, s: number, e: number): number {
  if (e <= s || e - s > 15) return Number.NaN;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  return v;
}

/** `12`, `0.123`, `1.5`: non-negative decimal seconds (at most 9 integer digits); NaN otherwise. */
function parseSeconds(text: string, s: number, e: number): number {
  if (e <= s || e - s > 20) return Number.NaN;
  let whole = 0;
  let i = s;
  let digits = 0;
  for (; i < e; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    whole = whole * 10 + c;
    digits++;
  }
  if (digits === 0 || digits > 9) return Number.NaN;
  if (i === e) return whole;
  if (text.charCodeAt(i) !== 46) return Number.NaN;
  i++;
  let frac = 0;
  let scale = 1;
  for (; i < e; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    frac = frac * 10 + c;
    scale *= 10;
  }
  return whole + frac / scale;
}

/**
 * Sum of a `$upstream_*_time` list (`0.010`, `0.010, 0.004`, `0.010 : -`). Returns -1 when every
 * entry is `-` (no upstream answered), -2 when the value is not such a list.
 */
function parseSecondsList(text: string, s: number, e: number): number {
  let sum = 0;
  let entries = 0;
  let numbers = 0;
  let i = s;
  while (i < e) {
    if (isListSeparator(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < e && !isListSeparator(text.charCodeAt(j))) j++;
    entries++;
    if (!(j - i === 1 && text.charCodeAt(i) === 45)) {
      const t = parseSeconds(text, i, j);
      if (Number.isNaN(t)) return -2;
      sum += t;
      numbers++;
    }
    i = j;
  }
  if (entries === 0) return -2;
  return numbers > 0 ? sum : -1;
}

function isListSeparator(c: number): boolean {
  return c === 44 || c === 32 || c === 58;
}
