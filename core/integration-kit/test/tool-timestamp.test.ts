import { describe, expect, it } from 'vitest';
import { parseToolTimestamp } from '../src/index.js';

const AT = Date.UTC(2026, 2, 1, 10, 0, 42);

describe('parseToolTimestamp', () => {
  it('reads ISO-8601 and the Ruby Time formats Chef and Puppet write', () => {
    expect(parseToolTimestamp('2026-03-01T10:00:42Z')).toBe(AT);
    expect(parseToolTimestamp('2026-03-01T10:00:42.250Z')).toBe(AT + 250);
    expect(parseToolTimestamp('2026-03-01 10:00:42 +0000')).toBe(AT);
    expect(parseToolTimestamp('2026-03-01 12:00:42 +02:00')).toBe(AT);
    expect(parseToolTimestamp('2026-03-01 12:00:42 +0200')).toBe(AT);
    expect(parseToolTimestamp('2026-03-01 10:00:42 UTC')).toBe(AT);
    expect(parseToolTimestamp('2026-03-01 10:00:42.123456789 -0100')).toBe(AT + 3_600_000 + 123);
    expect(parseToolTimestamp('2026-03-01 10:00:42')).toBe(AT);
  });

  it('tells unix seconds from milliseconds, as numbers or digit strings', () => {
    expect(parseToolTimestamp(AT / 1000)).toBe(AT);
    expect(parseToolTimestamp(AT)).toBe(AT);
    expect(parseToolTimestamp(String(AT / 1000))).toBe(AT);
    expect(parseToolTimestamp(`${AT / 1000}.5`)).toBe(AT + 500);
    expect(parseToolTimestamp(String(AT))).toBe(AT);
    expect(parseToolTimestamp(new Date(AT))).toBe(AT);
  });

  it('refuses unreadable, non-finite, negative and far-future values instead of inventing a time', () => {
    for (const bad of ['yesterday', '', '2026-13-45 99:99:99', NaN, Infinity, -Infinity, -5, 1e20, '2300-01-01T00:00:00Z', new Date(NaN), null, undefined, {}, [AT], true]) {
      expect(parseToolTimestamp(bad), String(bad)).toBeUndefined();
    }
  });
});
