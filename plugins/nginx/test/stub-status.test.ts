import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseStubStatus } from '../src/index.js';

const PAGE = 'Active connections: 291 \nserver accepts handled requests\n 16630948 16630947 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n';

describe('parseStubStatus', () => {
  it('reads every field of a real nginx page', () => {
    expect(parseStubStatus(PAGE)).toEqual({
      ok: true,
      value: { active: 291, accepts: 16630948, handled: 16630947, requests: 31070465, reading: 6, writing: 179, waiting: 106 },
    });
  });

  it('accepts CRLF line ends and the extra request_time column of Tengine', () => {
    const page = 'Active connections: 1\r\nserver accepts handled requests request_time\r\n 10 10 20 3500\r\nReading: 0 Writing: 1 Waiting: 0\r\n';
    const r = parseStubStatus(page);
    expect(r.ok && r.value).toMatchObject({ accepts: 10, handled: 10, requests: 20, writing: 1 });
  });

  it.each([
    ['an HTML error page', '<html><body>404 Not Found</body></html>'],
    ['a non-numeric count', PAGE.replace('291', 'lots')],
    ['a negative count', PAGE.replace('Reading: 6', 'Reading: -6')],
    ['a fractional count', PAGE.replace('179', '1.5')],
    ['a count beyond 2^53', PAGE.replace('31070465', '99999999999999999999')],
    ['a missing line', PAGE.split('\n').slice(0, 3).join('\n')],
    ['trailing junk', PAGE + 'Extra: 1\n'],
    ['an empty body', ''],
    ['an oversized body', PAGE + ' '.repeat(10_000)],
  ])('refuses %s with a reason', (_what, page) => {
    const r = parseStubStatus(page);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.length).toBeGreaterThan(5);
  });

  it('says where it stopped', () => {
    const r = parseStubStatus(PAGE.replace('Writing:', 'Writting:'));
    expect(!r.ok && r.error).toMatch(/expected "Writing:"/);
  });

  it('never throws and never returns a negative or non-integer value (fuzz)', () => {
    const arbitraryPage = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
      // near-valid pages: real structure with random numbers and random mutations
      fc
        .tuple(fc.array(fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string({ maxLength: 4 })), { minLength: 7, maxLength: 7 }), fc.nat(200), fc.string({ maxLength: 5 }))
        .map(([n, cut, ins]) => {
          const p = `Active connections: ${n[0]} \nserver accepts handled requests\n ${n[1]} ${n[2]} ${n[3]} \nReading: ${n[4]} Writing: ${n[5]} Waiting: ${n[6]} \n`;
          return p.slice(0, cut) + ins + p.slice(cut);
        }),
    );
    fc.assert(
      fc.property(arbitraryPage, (page) => {
        const r = parseStubStatus(page);
        if (r.ok) {
          for (const v of Object.values(r.value)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
        } else {
          expect(typeof r.error).toBe('string');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('parses exactly what it was given for any valid counts (round trip)', () => {
    const count = fc.nat({ max: Number.MAX_SAFE_INTEGER }).filter((n) => String(n).length <= 15);
    fc.assert(
      fc.property(fc.array(count, { minLength: 7, maxLength: 7 }), (n) => {
        const page = `Active connections: ${n[0]} \nserver accepts handled requests\n ${n[1]} ${n[2]} ${n[3]} \nReading: ${n[4]} Writing: ${n[5]} Waiting: ${n[6]} \n`;
        expect(parseStubStatus(page)).toEqual({
          ok: true,
          value: { active: n[0], accepts: n[1], handled: n[2], requests: n[3], reading: n[4], writing: n[5], waiting: n[6] },
        });
      }),
    );
  });
});
