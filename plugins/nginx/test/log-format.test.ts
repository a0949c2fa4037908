import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COMBINED_LOG_FORMAT, DEFAULT_LOG_FORMAT, LogLineParser, ParsedLogLine, isSextantErrorLike } from './log-format-helpers.js';

const parser = LogLineParser.compile(DEFAULT_LOG_FORMAT);

function parse(line: string, p = parser) {
  const out = new ParsedLogLine();
  const ok = p.parse(line, 0, line.length, out);
  return { ok, out, path: out.pathStart >= 0 ? line.slice(out.pathStart, out.pathEnd) : undefined };
}

const LINE = '10.0.0.7 - alice [24/Nov/2026:18:53:38 +0000] "GET /api/users/42?full=1 HTTP/1.1" 200 1534 "https://shop.example/" "Mozilla/5.0 (X11; Linux x86_64)" 0.123 0.120';

describe('LogLineParser', () => {
  it('extracts status, bytes, times and path from the default format', () => {
    const { ok, out, path } = parse(LINE);
    expect(ok).toBe(true);
    expect(out.status).toBe(200);
    expect(out.bytes).toBe(1534);
    expect(out.requestTime).toBeCloseTo(0.123, 9);
    expect(out.upstreamTime).toBeCloseTo(0.12, 9);
    expect(path).toBe('/api/users/42?full=1');
  });

  it('reads a plain combined line with the default format (timing absent -> NaN)', () => {
    const { ok, out } = parse('1.2.3.4 - - [24/Nov/2026:18:53:38 +0000] "GET / HTTP/1.1" 304 0 "-" "curl/8"');
    expect(ok).toBe(true);
    expect(out.status).toBe(304);
    expect(out.requestTime).toBeNaN();
    expect(out.upstreamTime).toBeNaN();
  });

  it('treats "-" upstream time as no upstream and sums retries and redirects', () => {
    expect(parse(LINE.replace(/0\.120$/, '-')).out.upstreamTime).toBeNaN();
    const retried = parse(LINE.replace(/0\.120$/, '0.010, 0.020 : 0.030'));
    expect(retried.ok).toBe(true);
    expect(retried.out.upstreamTime).toBeCloseTo(0.06, 9);
    expect(parse(LINE.replace(/0\.120$/, '-, 0.005')).out.upstreamTime).toBeCloseTo(0.005, 9);
  });

  it('keeps list values whole even in the middle of a line', () => {
    const p = LogLineParser.compile('$upstream_response_time $status $request_time');
    const { ok, out } = parse('0.010, 0.004 : 0.001 502 0.020', p);
    expect(ok).toBe(true);
    expect(out.status).toBe(502);
    expect(out.upstreamTime).toBeCloseTo(0.015, 9);
    expect(out.requestTime).toBeCloseTo(0.02, 9);
  });

  it('finds no path in a garbage request line but still counts the status', () => {
    const { ok, out, path } = parse(LINE.replace('GET /api/users/42?full=1 HTTP/1.1', '\\x16\\x03\\x01\\x02\\x00\\x01'));
    expect(ok).toBe(true);
    expect(out.status).toBe(200);
    expect(path).toBeUndefined();
  });

  it('supports ${var} syntax, $request_uri and JSON-like custom formats', () => {
    const p = LogLineParser.compile('{"uri":"${request_uri}","status":${status},"bytes":$bytes_sent,"rt":$request_time}');
    const { ok, out, path } = parse('{"uri":"/a/b?c=1","status":503,"bytes":99,"rt":1.5}', p);
    expect(ok).toBe(true);
    expect(path).toBe('/a/b?c=1');
    expect(out).toMatchObject({ status: 503, bytes: 99, requestTime: 1.5 });
    expect(p.hasUpstreamTime).toBe(false);
  });

  it.each([
    ['a status that is not a status', LINE.replace('" 200 ', '" 2000 ')],
    ['a status out of range', LINE.replace('" 200 ', '" 700 ')],
    ['a byte count that is a word', LINE.replace(' 1534 ', ' many ')],
    ['a negative request time', LINE.replace('0.123', '-0.123')],
    ['a missing quote', LINE.replace('" 200', ' 200')],
    ['an empty line', ''],
    ['random text', 'hello world'],
    ['a truncated line', LINE.slice(0, 60)],
  ])('rejects %s with a reason and no line content', (_what, line) => {
    const { ok, out } = parse(line);
    expect(ok).toBe(false);
    expect(out.error).toMatch(/\$|format|field|expected|start/);
    expect(out.error).not.toContain('alice');
  });

  it('refuses formats it cannot split, or without $status, with a hint', () => {
    for (const bad of ['$remote_addr$status', '$remote_addr - $request_time', '$status ${unclosed']) {
      let err: unknown;
      try {
        LogLineParser.compile(bad);
      } catch (e) {
        err = e;
      }
      expect(isSextantErrorLike(err)).toBe(true);
      expect((err as { code: string }).code).toBe('SEXTANT_ERR_CONFIG_INVALID');
      expect((err as { hint: string }).hint).toContain('log_format');
    }
    expect(LogLineParser.compile(COMBINED_LOG_FORMAT).hasRequestTime).toBe(false);
  });

  const fieldValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-', '"', ' ', '[', ']', '0.1, 0.2', '200', ''));

  it('never throws and never yields an impossible value on arbitrary input (fuzz)', () => {
    const out = new ParsedLogLine();
    const lines = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')),
      // a real line with a random splice
      fc.tuple(fc.nat(LINE.length), fc.nat(20), fc.string({ maxLength: 30 })).map(([at, del, ins]) => LINE.slice(0, at) + ins + LINE.slice(at + del)),
      // a real structure with random field values
      fc.array(fieldValue, { minLength: 10, maxLength: 10 }).map((v) => `${v[0]} - ${v[1]} [${v[2]}] "${v[3]}" ${v[4]} ${v[5]} "${v[6]}" "${v[7]}" ${v[8]} ${v[9]}`),
    );
    fc.assert(
      fc.property(lines, (line) => {
        const ok = parser.parse(line, 0, line.length, out);
        if (ok) {
          expect(out.status >= 100 && out.status <= 599).toBe(true);
          expect(Number.isNaN(out.bytes) || out.bytes >= 0).toBe(true);
          expect(Number.isNaN(out.requestTime) || (out.requestTime >= 0 && Number.isFinite(out.requestTime))).toBe(true);
          expect(Number.isNaN(out.upstreamTime) || (out.upstreamTime >= 0 && Number.isFinite(out.upstreamTime))).toBe(true);
          expect(out.pathStart <= out.pathEnd && out.pathEnd <= line.length).toBe(true);
        } else {
          expect(out.error).not.toBe('');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any valid field values (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9.\/_-]{1,20}$/);
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.nat(10 ** 12), fc.nat(600_000), token, (status, bytes, ms, seg) => {
        const rt = (ms / 1000).toFixed(3);
        const line = `1.1.1.1 - - [01/Jan/2026:00:00:00 +0000] "POST /x/${seg} HTTP/2.0" ${status} ${bytes} "-" "ua" ${rt} ${rt}`;
        const { ok, out, path } = parse(line);
        expect(ok).toBe(true);
        expect(out.status).toBe(status);
        expect(out.bytes).toBe(bytes);
        expect(out.requestTime).toBeCloseTo(Number(rt), 9);
        expect(path).toBe(`/x/${seg}`);
      }),
    );
  });

  it('stays linear on huge adversarial lines (no backtracking)', () => {
    // Each of these would make a backtracking regex explode; here a line costs one scan. Equal-size
    // inputs of different shapes take comparable work, and 8 MiB of them finishes at all.
    const out = new ParsedLogLine();
    const shapes = [
      '"'.repeat(1 << 20),
      ' '.repeat(1 << 20),
      '0.1, '.repeat(1 << 18),
      `1.2.3.4 - - [x] "GET /${'a '.repeat(1 << 19)}`,
      `1.2.3.4 - - [x] "GET / HTTP/1.1" 200 1 "${'-" "'.repeat(1 << 18)}`,
      `${'[ '.repeat(1 << 18)}`,
    ];
    let parsed = 0;
    for (const s of shapes) {
      for (let k = 0; k < 2; k++) {
        parser.parse(s, 0, s.length, out);
        parsed++;
      }
    }
    expect(parsed).toBe(shapes.length * 2);
  });
});
