/**
 * URL patterns with bounded cardinality: `/users/42/orders/9f1c...?page=2` -> `/users/{id}/orders/{id}`.
 *
 * Rules, per path segment: all digits, a UUID, a hex string of 8+ characters with a digit, or a
 * token of 16+ letters/digits/`-`/`_` mixing letters and digits becomes `{id}`. The query string
 * and fragment are dropped; an absolute-form target (`http://host/path`) keeps only its path.
 * Depth is capped at {@link MAX_SEGMENTS} segments (`/{...}` marks the cut), segments longer than
 * {@link MAX_SEGMENT_LENGTH} become `{long}`, and anything that is not a path becomes `{invalid}`.
 * Linear in the input; never throws.
 */

export const MAX_SEGMENTS = 8;
export const MAX_SEGMENT_LENGTH = 64;
/** The template of request targets that are not a path (`*`, garbage, a TLS handshake). */
export const INVALID_TEMPLATE = '{invalid}';

/** Collapses `text[start, end)` (a request target) into its URL pattern. */
export function urlTemplate(text: string, start = 0, end = text.length): string {
  if (end <= start) return INVALID_TEMPLATE;
  let s = start;
  if (text.charCodeAt(s) !== 47) {
    // absolute-form "http://host/path"
    const scheme = text.startsWith('http://', s) ? 7 : text.startsWith('https://', s) ? 8 : 0;
    if (scheme === 0) return INVALID_TEMPLATE;
    s += scheme;
    while (s < end && text.charCodeAt(s) !== 47) s++;
    if (s === end) return '/';
  }
  let e = s;
  while (e < end) {
    const c = text.charCodeAt(e);
    if (c === 63 /* ? */ || c === 35 /* # */) break;
    e++;
  }
  let out = '';
  let changed = false;
  let segments = 0;
  let i = s + 1;
  for (;;) {
    let j = i;
    while (j < e && text.charCodeAt(j) !== 47) j++;
    if (++segments > MAX_SEGMENTS) {
      out += '/{...}';
      changed = true;
      break;
    }
    const kind = segmentKind(text, i, j);
    if (kind === KEEP) out += '/' + text.slice(i, j);
    else {
      out += kind === ID ? '/{id}' : '/{long}';
      changed = true;
    }
    if (j >= e) break;
    i = j + 1;
  }
  return changed ? out : text.slice(s, e);
}

const KEEP = 0;
const ID = 1;
const LONG = 2;

function segmentKind(text: string, s: number, e: number): number {
  const len = e - s;
  if (len === 0) return KEEP;
  let digits = 0;
  let hex = 0;
  let letters = 0;
  let token = 0; // letters, digits, '-', '_'
  let dashes = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      hex++;
      token++;
    } else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
      hex++;
      letters++;
      token++;
    } else if ((c >= 103 && c <= 122) || (c >= 71 && c <= 90)) {
      letters++;
      token++;
    } else if (c === 45) {
      dashes++;
      token++;
    } else if (c === 95) {
      token++;
    }
  }
  if (digits === len) return ID;
  if (len === 36 && dashes === 4 && hex === 32 && isUuidShape(text, s)) return ID;
  if (hex === len && len >= 8 && digits > 0) return ID;
  if (token === len && len >= 16 && digits > 0 && letters > 0) return ID;
  if (len > MAX_SEGMENT_LENGTH) return LONG;
  return KEEP;
}

function isUuidShape(text: string, s: number): boolean {
  return text.charCodeAt(s + 8) === 45 && text.charCodeAt(s + 13) === 45 && text.charCodeAt(s + 18) === 45 && text.charCodeAt(s + 23) === 45;
}
