/**
 * A single-pass parser of the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text.
 *
 * Built for the scrape hot path: it walks the page once, creates no object per sample and hands
 * the visitor the *series text* of each sample line (`name{labels}` exactly as written). A scraper
 * keeps a cache keyed by that text (as Prometheus does), so the labels of a series are parsed —
 * with {@link parseSeriesText} — only the first time it is seen; later scrapes cost one map lookup
 * and one number parse per sample.
 *
 * Error handling: a malformed line is reported to `visitor.error` with its 1-based line number and
 * skipped; the rest of the page is still parsed. Nothing here throws on input.
 *
 * Not supported (reported as malformed lines): UTF-8 quoted metric names (`{"my.metric"}`), which
 * only Prometheus 3 producers emit, and the native protobuf format (negotiated away by the Accept
 * header the scraper sends).
 */

/** Metric family types of both formats. `untyped` (text 0.0.4) and `unknown` (OpenMetrics) mean the same. */
export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'untyped' | 'unknown';

export const FAMILY_TYPES: readonly FamilyType[] = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'untyped', 'unknown'];

export type ExpositionFormat = 'text' | 'openmetrics';

export interface ExpositionVisitor {
  /** `# TYPE name type`. Called before the family's samples in well-formed pages. */
  type(name: string, type: FamilyType): void;
  /** `# HELP name text`, unescaped. */
  help(name: string, text: string): void;
  /** `# UNIT name unit` (OpenMetrics only). */
  unit(name: string, unit: string): void;
  /**
   * One sample line. `series` is the series text as written (`http_requests_total{code="200"}`),
   * `nameLength` the length of the metric name at its start. `timestampMs` is NaN when the line has
   * none. Return `false` to stop parsing (a sample limit was hit).
   */
  sample(series: string, nameLength: number, value: number, timestampMs: number): boolean | void;
  /** A line that could not be parsed; parsing goes on with the next line. */
  error(line: number, message: string): void;
}

export interface ParseSummary {
  /** Sample lines handed to the visitor. */
  readonly samples: number;
  /** Lines reported as malformed. */
  readonly errors: number;
  /** True when the visitor stopped the parse early. */
  readonly stopped: boolean;
  /** OpenMetrics only: whether the mandatory `# EOF` line was seen (a missing one means a truncated page). */
  readonly sawEof: boolean;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}
function isLabelStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}
function isLabelChar(c: number): boolean {
  return isLabelStart(c) || (c >= 0x30 && c <= 0x39);
}

/**
 * Parses a sample value as Go's strconv.ParseFloat does for the values exporters write:
 * decimal and exponent notation, `NaN`, `+Inf`, `-Inf` and `Inf` (any case). Returns undefined for
 * anything else (including the empty string, hex and `Infinity`-style JavaScript spellings).
 */
export function parseSampleValue(token: string): number | undefined {
  const c = token.charCodeAt(0);
  if ((c >= 0x30 && c <= 0x39) || c === 0x2e || ((c === 0x2d || c === 0x2b) && token.length > 1 && token.charCodeAt(1) !== 0x49 && token.charCodeAt(1) !== 0x69)) {
    // digits, a dot, or a sign followed by neither 'I' nor 'i': a decimal; Number() accepts hex/binary
    // prefixes and surrounding whitespace, which the format does not
    if (token.length > 1 && (token.charCodeAt(1) | 0x20) === 0x78 && c === 0x30) return undefined;
    if (token.length > 1 && ((token.charCodeAt(1) | 0x20) === 0x62 || (token.charCodeAt(1) | 0x20) === 0x6f) && c === 0x30) return undefined;
    const n = Number(token);
    return Number.isNaN(n) ? undefined : n;
  }
  switch (token.toLowerCase()) {
    case 'nan':
      return NaN;
    case 'inf':
    case '+inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    default:
      return undefined;
  }
}

function unescapeHelp(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/**
 * Parses a whole page. `text` is the decoded body; lines may end in LF or CRLF.
 * In `openmetrics` format timestamps are seconds (fractions allowed) and exemplars (` # {...} v`)
 * are skipped; in `text` format timestamps are integer milliseconds.
 */
export function parseExposition(text: string, format: ExpositionFormat, visitor: ExpositionVisitor): ParseSummary {
  const om = format === 'openmetrics';
  const len = text.length;
  let pos = 0;
  let line = 0;
  let samples = 0;
  let errors = 0;
  let sawEof = false;
  const fail = (message: string) => {
    errors++;
    visitor.error(line, message);
  };

  while (pos < len) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = len;
    line++;
    let end = eol;
    if (end > pos && text.charCodeAt(end - 1) === CR) end--;
    let i = pos;
    const next = eol + 1;
    while (i < end && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
    if (i === end) {
      pos = next;
      continue;
    }
    if (sawEof) {
      fail('content after "# EOF"');
      pos = next;
      continue;
    }

    if (text.charCodeAt(i) === HASH) {
      parseComment(text, i + 1, end, om, visitor, fail, () => (sawEof = true));
      pos = next;
      continue;
    }

    // metric name
    const nameStart = i;
    if (!isNameStart(text.charCodeAt(i))) {
      fail(`expected a metric name, got ${JSON.stringify(text.slice(i, Math.min(end, i + 20)))}`);
      pos = next;
      continue;
    }
    i++;
    while (i < end && isNameChar(text.charCodeAt(i))) i++;
    const nameLength = i - nameStart;
    let seriesEnd = i;
    let j = i;
    while (j < end && (text.charCodeAt(j) === SPACE || text.charCodeAt(j) === TAB)) j++;
    if (j < end && text.charCodeAt(j) === LBRACE) {
      // find the closing brace outside quoted label values
      let k = j + 1;
      let inQuote = false;
      for (; k < end; k++) {
        const c = text.charCodeAt(k);
        if (inQuote) {
          if (c === BACKSLASH) k++;
          else if (c === QUOTE) inQuote = false;
        } else if (c === QUOTE) inQuote = true;
        else if (c === RBRACE) break;
      }
      if (k >= end) {
        fail('label set is not closed with "}"');
        pos = next;
        continue;
      }
      seriesEnd = k + 1;
      i = seriesEnd;
      if (j !== nameStart + nameLength) {
        fail('space between metric name and "{"');
        pos = next;
        continue;
      }
    }

    // value
    const afterSeries = i;
    while (i < end && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
    if (i === afterSeries) {
      fail(i === end ? 'sample has no value' : 'expected a space after the series');
      pos = next;
      continue;
    }
    const valueStart = i;
    while (i < end && text.charCodeAt(i) !== SPACE && text.charCodeAt(i) !== TAB) i++;
    const value = parseSampleValue(text.slice(valueStart, i));
    if (value === undefined) {
      fail(`invalid sample value ${JSON.stringify(text.slice(valueStart, i).slice(0, 40))}`);
      pos = next;
      continue;
    }

    // optional timestamp, then (OpenMetrics) an optional exemplar
    while (i < end && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
    let timestampMs = NaN;
    if (i < end && text.charCodeAt(i) !== HASH) {
      const tsStart = i;
      while (i < end && text.charCodeAt(i) !== SPACE && text.charCodeAt(i) !== TAB) i++;
      const token = text.slice(tsStart, i);
      const ts = om ? parseSampleValue(token) : /^-?\d+$/.test(token) ? Number(token) : undefined;
      if (ts === undefined || !Number.isFinite(ts)) {
        fail(`invalid timestamp ${JSON.stringify(token.slice(0, 40))}`);
        pos = next;
        continue;
      }
      timestampMs = om ? Math.round(ts * 1000) : ts;
      while (i < end && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
    }
    if (i < end && !(om && text.charCodeAt(i) === HASH)) {
      fail(`unexpected text after the value: ${JSON.stringify(text.slice(i, Math.min(end, i + 20)))}`);
      pos = next;
      continue;
    }

    samples++;
    if (visitor.sample(text.slice(nameStart, seriesEnd), nameLength, value, timestampMs) === false) {
      return { samples, errors, stopped: true, sawEof };
    }
    pos = next;
  }
  return { samples, errors, stopped: false, sawEof };
}

function parseComment(
  text: string,
  start: number,
  end: number,
  om: boolean,
  visitor: ExpositionVisitor,
  fail: (message: string) => void,
  eof: () => void,
): void {
  const body = text.slice(start, end);
  // `# TYPE name type`, `# HELP name text`, `# UNIT name unit`, `# EOF`; anything else is a comment
  const m = /^[ \t]+(TYPE|HELP|UNIT|EOF)(?:[ \t]+|$)/.exec(body);
  if (!m) {
    if (om) fail('OpenMetrics allows only # TYPE, # HELP, # UNIT and # EOF comments');
    return;
  }
  const keyword = m[1];
  if (keyword === 'EOF') {
    if (om) eof();
    else fail('"# EOF" in a text-format page');
    return;
  }
  const rest = body.slice(m[0].length);
  const sp = rest.search(/[ \t]/);
  const name = sp < 0 ? rest : rest.slice(0, sp);
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
    fail(`# ${keyword} has an invalid metric name ${JSON.stringify(name.slice(0, 40))}`);
    return;
  }
  const arg = sp < 0 ? '' : rest.slice(sp + 1).replace(/^[ \t]+/, '');
  if (keyword === 'TYPE') {
    const type = arg.trim() as FamilyType;
    if (!FAMILY_TYPES.includes(type)) fail(`# TYPE ${name} has an unknown type ${JSON.stringify(arg.trim().slice(0, 20))}`);
    else visitor.type(name, type);
  } else if (keyword === 'HELP') {
    visitor.help(name, unescapeHelp(arg));
  } else {
    visitor.unit(name, arg.trim());
  }
}

/** A series text split into its name and labels, in the order written. */
export interface ParsedSeries {
  readonly name: string;
  readonly labels: readonly (readonly [string, string])[];
}

/**
 * Parses series text (`name{a="1",b="x\"y"}`) fully: label names, quoted values with `\\`, `\"`
 * and `\n` escapes, an optional trailing comma. Duplicate label names are an error. Returns a
 * message instead of throwing.
 */
export function parseSeriesText(series: string, nameLength: number): ParsedSeries | { readonly error: string } {
  const name = series.slice(0, nameLength);
  const labels: [string, string][] = [];
  let i = nameLength;
  const n = series.length;
  if (i === n) return { name, labels };
  if (series.charCodeAt(i) !== LBRACE) return { error: 'expected "{" after the metric name' };
  i++;
  const seen = new Set<string>();
  for (;;) {
    while (i < n && (series.charCodeAt(i) === SPACE || series.charCodeAt(i) === TAB)) i++;
    if (i < n && series.charCodeAt(i) === RBRACE) break;
    const ls = i;
    if (!isLabelStart(series.charCodeAt(i))) return { error: `invalid label name at ${JSON.stringify(series.slice(i, i + 20))}` };
    while (i < n && isLabelChar(series.charCodeAt(i))) i++;
    const label = series.slice(ls, i);
    while (i < n && (series.charCodeAt(i) === SPACE || series.charCodeAt(i) === TAB)) i++;
    if (series.charCodeAt(i) !== 0x3d) return { error: `expected "=" after label ${label}` };
    i++;
    while (i < n && (series.charCodeAt(i) === SPACE || series.charCodeAt(i) === TAB)) i++;
    if (series.charCodeAt(i) !== QUOTE) return { error: `value of label ${label} must be quoted` };
    i++;
    let value = '';
    let chunk = i;
    for (;;) {
      if (i >= n) return { error: `value of label ${label} is not closed` };
      const c = series.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        value += series.slice(chunk, i);
        const e = series.charCodeAt(i + 1);
        if (e === 0x6e) value += '\n';
        else if (e === BACKSLASH) value += '\\';
        else if (e === QUOTE) value += '"';
        else return { error: `invalid escape in value of label ${label}` };
        i += 2;
        chunk = i;
        continue;
      }
      if (c === 0x0a) return { error: `value of label ${label} contains a raw newline` };
      i++;
    }
    value += series.slice(chunk, i);
    i++;
    if (seen.has(label)) return { error: `label ${label} appears twice` };
    seen.add(label);
    labels.push([label, value]);
    while (i < n && (series.charCodeAt(i) === SPACE || series.charCodeAt(i) === TAB)) i++;
    const c = series.charCodeAt(i);
    if (c === 0x2c) {
      i++;
      continue;
    }
    if (c === RBRACE) break;
    return { error: `expected "," or "}" after label ${label}` };
  }
  if (i !== n - 1) return { error: 'unexpected text after "}"' };
  return { name, labels };
}
