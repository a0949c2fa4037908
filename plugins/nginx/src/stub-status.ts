/**
 * Parser of the nginx `stub_status` page (ngx_http_stub_status_module):
 *
 *   Active connections: 291
 *   server accepts handled requests
 *    16630948 16630948 31070465
 *   Reading: 6 Writing: 179 Waiting: 106
 *
 * `accepts`, `handled` and `requests` are cumulative since the master started (they reset on a
 * restart, not on a reload); the other four are current gauges. Forks that add columns after
 * `requests` (Tengine's `request_time`) are accepted; the extra columns are ignored.
 *
 * Contract: never throws, linear in the input (one left-to-right scan, no regular expressions),
 * refuses pages over {@link STUB_STATUS_MAX_BYTES} and numbers beyond 2^53.
 */

export interface StubStatus {
  readonly active: number;
  readonly accepts: number;
  readonly handled: number;
  readonly requests: number;
  readonly reading: number;
  readonly writing: number;
  readonly waiting: number;
}

export type StubStatusResult = { readonly ok: true; readonly value: StubStatus } | { readonly ok: false; readonly error: string };

/** A real page is about 110 bytes; anything this large is not a stub_status page. */
export const STUB_STATUS_MAX_BYTES = 4096;

/** Parses one stub_status page. On failure `error` says what was expected where. */
export function parseStubStatus(text: string): StubStatusResult {
  if (typeof text !== 'string') return fail('input is not text');
  if (text.length > STUB_STATUS_MAX_BYTES) return fail(`page is ${text.length} bytes; a stub_status page is about 110`);
  const cursor = new Cursor(text);
  const active = cursor.labelledNumber('Active connections:');
  if (active === undefined) return fail(cursor.error);
  if (!cursor.expectWords(['server', 'accepts', 'handled', 'requests'])) return fail(cursor.error);
  cursor.skipRestOfLine();
  const accepts = cursor.number('accepts');
  if (accepts === undefined) return fail(cursor.error);
  const handled = cursor.number('handled');
  if (handled === undefined) return fail(cursor.error);
  const requests = cursor.number('requests');
  if (requests === undefined) return fail(cursor.error);
  cursor.skipRestOfLine();
  const reading = cursor.labelledNumber('Reading:');
  if (reading === undefined) return fail(cursor.error);
  const writing = cursor.labelledNumber('Writing:');
  if (writing === undefined) return fail(cursor.error);
  const waiting = cursor.labelledNumber('Waiting:');
  if (waiting === undefined) return fail(cursor.error);
  cursor.skipSpace();
  if (!cursor.atEnd()) return fail(`unexpected text after "Waiting:" at offset ${cursor.pos}`);
  return { ok: true, value: { active, accepts, handled, requests, reading, writing, waiting } };
}

function fail(error: string): StubStatusResult {
  return { ok: false, error };
}

const MAX_DIGITS = 15; // 10^15 < 2^53: every accepted number is exact

class Cursor {
  pos = 0;
  error = '';
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      this.pos++;
    }
  }

  /** Skips everything up to and including the next newline (extra columns of forks). */
  skipRestOfLine(): void {
    const t = this.text;
    while (this.pos < t.length && t.charCodeAt(this.pos) !== 10) this.pos++;
    if (this.pos < t.length) this.pos++;
  }

  private literal(word: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(word, this.pos)) {
      const seen = this.text.slice(this.pos, this.pos + 24).replace(/[^\x20-\x7e]/g, '?');
      this.error = `expected "${word}" at offset ${this.pos}, found "${seen}"`;
      return false;
    }
    this.pos += word.length;
    return true;
  }

  expectWords(words: readonly string[]): boolean {
    for (const w of words) if (!this.literal(w)) return false;
    return true;
  }

  labelledNumber(label: string): number | undefined {
    if (!this.literal(label)) return undefined;
    return this.number(label);
  }

  number(what: string): number | undefined {
    this.skipSpace();
    const t = this.text;
    const start = this.pos;
    let value = 0;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      this.pos++;
    }
    const digits = this.pos - start;
    if (digits === 0) {
      this.error = `expected a non-negative integer for ${what} at offset ${start}`;
      return undefined;
    }
    if (digits > MAX_DIGITS) {
      this.error = `${what} has ${digits} digits; more than ${MAX_DIGITS} is out of range`;
      return undefined;
    }
    if (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) {
        this.error = `expected a non-negative integer for ${what} at offset ${start}`;
        return undefined;
      }
    }
    return value;
  }
}
