import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { urlTemplate, LatencyHistogram } from '../src/index.js';

describe('urlTemplate', () => {
  it.each([
    ['/api/users/42/orders/7', '/api/users/{id}/orders/{id}'],
    ['/api/orders/550e8400-e29b-41d4-a716-446655440000?x=1', '/api/orders/{id}'],
    ['/blob/5f3a9c0e1b2d4a6f8e7c/raw', '/blob/{id}/raw'],
    ['/t/Ab3dE6gH9jK2mN5pQ8rS', '/t/{id}'],
    ['/static/app.v2.css', '/static/app.v2.css'],
    ['/search?q=secret-token', '/search'],
    ['/a#frag', '/a'],
    ['/', '/'],
    ['http://example.com/v1/items/12', '/v1/items/{id}'],
    ['https://example.com', '/'],
    ['*', '{invalid}'],
    ['', '{invalid}'],
    ['\\x16\\x03\\x01', '{invalid}'],
    ['/a/b/c/d/e/f/g/h/i/j', '/a/b/c/d/e/f/g/h/{...}'],
    [`/files/${'x'.repeat(100)}`, '/files/{long}'],
    ['/deadbeef', '/deadbeef'], // hex without a digit is a word
    ['/v1/health', '/v1/health'],
  ])('%s -> %s', (input, expected) => {
    expect(urlTemplate(input)).toBe(expected);
  });

  it('keeps cardinality bounded: 10k distinct ids collapse to one pattern', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(urlTemplate(`/users/${i}/cart/${(i * 2654435761).toString(16)}${i}?page=${i}`));
    expect([...seen]).toEqual(['/users/{id}/cart/{id}']);
  });

  it('never throws, never keeps a query string, and is idempotent (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (raw) => {
        const t = urlTemplate(raw);
        expect(t.includes('?')).toBe(false);
        expect(t === '{invalid}' || t.startsWith('/')).toBe(true);
        expect(t.split('/').length).toBeLessThanOrEqual(10);
        if (t !== '{invalid}') expect(urlTemplate(t)).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('LatencyHistogram', () => {
  it('gives nearest-rank quantiles within its relative error', () => {
    const h = new LatencyHistogram(0.01);
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000); // 1 ms .. 1 s
    for (const v of values) h.record(v);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1];
      expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-12);
    }
  });

  it('is exact on tiny samples and on zero durations', () => {
    const h = new LatencyHistogram();
    h.record(0.2);
    expect(h.quantile(0.5)).toBe(0.2);
    const z = new LatencyHistogram();
    for (let i = 0; i < 9; i++) z.record(0);
    z.record(0.05);
    expect(z.quantile(0.5)).toBe(0);
    expect(z.quantile(0.99)).toBe(0.05);
  });

  it('ignores NaN, negative and infinite values and is empty after reset', () => {
    const h = new LatencyHistogram();
    expect([Number.NaN, -1, Number.POSITIVE_INFINITY].map((v) => h.record(v))).toEqual([false, false, false]);
    expect(h.count).toBe(0);
    expect(h.quantile(0.5)).toBeNaN();
    h.record(1e9); // beyond the range: last bucket, clamped to the exact max
    expect(h.quantile(1)).toBe(1e9);
    h.reset();
    expect(h.count).toBe(0);
  });
});
