import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CounterRate, backoffDelayMs, compileGlob, compileGlobs, durationMs, formatDuration, parseDuration, secretsEqual } from '../src/index.js';

describe('CounterRate', () => {
  it('reports per-second rates and never a negative rate on reset', () => {
    const r = new CounterRate();
    expect(r.update(100, 0)).toBeUndefined();
    expect(r.update(200, 10_000)).toBe(10);
    expect(r.update(50, 20_000)).toBeUndefined(); // server restarted
    expect(r.resets).toBe(1);
    expect(r.update(150, 30_000)).toBe(10);
  });
  it('reads a decrease near the top of a 32-bit counter as a wrap', () => {
    const r = new CounterRate({ wrapAt: 2 ** 32 });
    r.update(2 ** 32 - 1000, 0);
    expect(r.update(1000, 1000)).toBe(2000);
  });
  it('ignores NaN, negative values and time going backwards', () => {
    const r = new CounterRate();
    r.update(10, 1000);
    expect(r.update(Number.NaN, 2000)).toBeUndefined();
    expect(r.update(-5, 2000)).toBeUndefined();
    expect(r.update(20, 1000)).toBeUndefined();
    expect(r.update(30, 3000)).toBe(10);
  });
});

describe('parseDuration', () => {
  it('reads numbers as milliseconds and text with a unit', () => {
    expect([250, '500ms', '10s', ' 5m ', '1.5h', '2d', '3 s'].map(parseDuration)).toEqual([250, 500, 10_000, 300_000, 5_400_000, 172_800_000, 3000]);
  });
  it('refuses what is not a duration', () => {
    expect(['soon', '5', '-1s', '1w', '', 'NaNs'].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect([Number.NaN, Number.POSITIVE_INFINITY, -5, null, {}].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('durationMs (the one duration field)', () => {
  const schema = z.object({ timeout: durationMs({ min: 100, max: 300_000 }) });
  const read = (timeout: unknown) => schema.safeParse({ timeout });
  it('parses text and numbers to whole milliseconds', () => {
    expect(read('5s').data?.timeout).toBe(5000);
    expect(read(250).data?.timeout).toBe(250);
    expect(read('1.0005s').data?.timeout).toBe(1001);
    expect(read(100.4).data?.timeout).toBe(100);
  });
  it('refuses unreadable text and values outside the bounds, saying why in the user\'s units', () => {
    expect(read('soon').error?.issues[0].message).toBe('must be a duration such as "5s" or "500ms" (got "soon")');
    expect(read('50ms').error?.issues[0].message).toBe('must be at least 100ms');
    expect(read('6m').error?.issues[0].message).toBe('must be at most 5m');
    expect(read(-1).success).toBe(false);
    expect(read(Number.NaN).success).toBe(false);
    expect(read(null).success).toBe(false);
    expect(z.object({ every: durationMs({ min: 1 }) }).safeParse({ every: 0 }).error?.issues[0].message).toBe('must be longer than 0');
  });
  it('formats bounds in whole units when exact', () => {
    expect([500, 1000, 90_000, 600_000, 86_400_000, 1500].map(formatDuration)).toEqual(['500ms', '1s', '90s', '10m', '1d', '1500ms']);
  });
});

describe('backoffDelayMs (the one retry formula)', () => {
  const policy = { initialMs: 1000, maxMs: 30_000 };
  it('doubles from the initial delay up to the cap; jitter 0 is exact', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelayMs(n, { ...policy, jitter: 0 }))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
  it('full jitter (the default) spreads over [0, ceiling); a share of jitter keeps the rest', () => {
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(3, policy, () => 0.999_999)).toBe(3999);
    expect(backoffDelayMs(3, { ...policy, jitter: 0.2 }, () => 0)).toBe(3200);
    expect(backoffDelayMs(3, { ...policy, jitter: 0.2 }, () => 0.5)).toBe(3600);
  });
  it('never goes negative or above the cap, whatever the input', () => {
    for (const attempt of [0, -3, 1.5, 1e9, Number.MAX_SAFE_INTEGER]) {
      const d = backoffDelayMs(attempt, policy, () => 0.999);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(policy.maxMs);
    }
    expect(backoffDelayMs(2, { ...policy, jitter: 5 }, () => 2)).toBeLessThanOrEqual(2000);
    expect(backoffDelayMs(2, { ...policy, jitter: -1 }, () => 0.3)).toBe(2000);
  });
});

describe('secretsEqual (the one constant-time comparison)', () => {
  it('matches only the same secret, whatever the lengths', () => {
    expect(secretsEqual('s3cret-token', 's3cret-token')).toBe(true);
    expect(secretsEqual(Buffer.from('s3cret-token'), 's3cret-token')).toBe(true);
    expect(secretsEqual('s3cret-tokeN', 's3cret-token')).toBe(false);
    expect(secretsEqual('s3cret', 's3cret-token')).toBe(false);
    expect(secretsEqual('s3cret-token-and-more', 's3cret-token')).toBe(false);
  });
  it('never matches an absent or empty secret', () => {
    expect(secretsEqual(undefined, '')).toBe(false);
    expect(secretsEqual('', '')).toBe(false);
    expect(secretsEqual(null, 'x')).toBe(false);
  });
});

describe('compileGlob (the one glob dialect: picomatch)', () => {
  it('* stays within a path segment, ** crosses, ? and classes and braces work, dot names match', () => {
    expect(compileGlob('veth*')('veth0a1')).toBe(true);
    expect(compileGlob('/run/*')('/run/user/1000')).toBe(false);
    expect(compileGlob('/run/**')('/run/user/1000')).toBe(true);
    expect(compileGlob('sd?')('sda')).toBe(true);
    expect(compileGlob('go_{gc,memstats}_*')('go_gc_duration_seconds')).toBe(true);
    expect(compileGlob('*')('.hidden')).toBe(true);
    expect(compileGlob('lo')('loop0')).toBe(false);
  });
  it('refuses an empty pattern; no patterns is no filter', () => {
    expect(() => compileGlob('')).toThrow('must not be empty');
    expect(compileGlobs([])).toBeUndefined();
    expect(compileGlobs(['a*', 'b*'])!('bc')).toBe(true);
  });
});
