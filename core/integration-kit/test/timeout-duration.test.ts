import { describe, expect, it } from 'vitest';
import { timeoutDurationMs } from '../src/index.js';

describe('timeoutDurationMs', () => {
  it('reads text durations and milliseconds', () => {
    expect(timeoutDurationMs.parse('5s')).toBe(5000);
    expect(timeoutDurationMs.parse('500ms')).toBe(500);
    expect(timeoutDurationMs.parse(1500)).toBe(1500);
  });

  it('refuses unreadable, too short and too long values with a message that says why', () => {
    const message = (value: unknown) => timeoutDurationMs.safeParse(value).error?.issues[0]?.message;
    expect(message('soon')).toBe('must be a duration such as "5s" or "500ms" (got "soon")');
    expect(message('10ms')).toBe('must be at least 100ms');
    expect(message('1h')).toBe('must be at most 5m');
    expect(message(Number.NaN)).toBeDefined();
  });
});
