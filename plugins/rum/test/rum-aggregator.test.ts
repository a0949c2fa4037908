import { describe, expect, it } from 'vitest';
import { FakeClock, RecordingSink } from '@sextant/testkit';
import { RumAggregator, normalizePage, type Beacon } from '../src/index.js';

const OPTIONS = { maxPages: 50, sampleRate: 1, sessionWindowMs: 30 * 60_000, maxSessions: 1000, defaultCurrency: 'USD' };
let n = 0;
const beacon = (sid: string, page: string, events: Beacon['events']): Beacon => ({ sid, pid: `p${++n}`, seq: 0, page, events, dropped: 0 });

describe('RumAggregator', () => {
  it('site-wide quantiles from merged page sketches stay within 1% of the exact quantiles', () => {
    const clock = new FakeClock();
    const agg = new RumAggregator(OPTIONS, clock.now());
    const all: number[] = [];
    let s = 7;
    for (let i = 0; i < 5000; i++) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const v = 50 + (s % 100_000) / 10 + (i % 3) * 700; // skewed, three page shapes
      all.push(v);
      agg.record(beacon(`session${i % 40}xx`, ['home', 'product', 'cart'][i % 3], [{ t: 'vital', n: 'LCP', v }]), clock.now());
    }
    const sink = new RecordingSink(clock);
    clock.advance(60_000);
    agg.flush(sink, { 'service.name': 'web' }, clock.now());
    sink.flush();
    all.sort((a, b) => a - b);
    for (const [q, label] of [[0.5, 'p50'], [0.75, 'p75'], [0.95, 'p95']] as const) {
      const exact = all[Math.floor(q * (all.length - 1))];
      const got = sink.of('rum.lcp', { quantile: label }).find((x) => !('page' in x.attributes))!.value;
      expect(Math.abs(got / exact - 1), label).toBeLessThanOrEqual(0.011);
    }
  });

  it('conversion and cart abandonment over the session window; idle sessions end', () => {
    const clock = new FakeClock();
    const agg = new RumAggregator(OPTIONS, clock.now());
    const ec = (name: 'add_to_cart' | 'purchase', extra = {}) => ({ t: 'ec' as const, n: name, ...extra });
    agg.record(beacon('buyer0001', 'product', [{ t: 'view' }, ec('add_to_cart')]), clock.now());
    agg.record(beacon('buyer0001', 'checkout', [ec('purchase', { value: 10, tid: 'T1' })]), clock.now());
    agg.record(beacon('leaver001', 'product', [{ t: 'view' }, ec('add_to_cart')]), clock.now());
    agg.record(beacon('browser01', 'home', [{ t: 'view' }]), clock.now());
    agg.record(beacon('browser02', 'home', [{ t: 'view' }]), clock.now());
    const sink = new RecordingSink(clock);
    const flush = () => {
      agg.flush(sink, {}, clock.now());
      sink.flush();
    };
    clock.advance(60_000);
    flush();
    expect(sink.of('rum.sessions').at(-1)?.value).toBe(4);
    expect(sink.of('rum.conversion_rate').at(-1)?.value).toBe(0.25);
    expect(sink.of('rum.cart_abandonment').at(-1)?.value).toBe(0.5);
    expect(sink.of('rum.orders').at(-1)?.value).toBe(1);
    clock.advance(20 * 60_000);
    agg.record(beacon('browser02', 'home', [{ t: 'view' }]), clock.now()); // still active
    clock.advance(15 * 60_000);
    flush();
    expect(sink.of('rum.sessions').at(-1)?.value).toBe(1);
    expect(sink.of('rum.conversion_rate').at(-1)?.value).toBe(0);
    expect(sink.of('rum.orders').at(-1)?.value).toBe(0);
    expect(sink.of('rum.orders.total').at(-1)?.value).toBe(1);
  });

  it('normalises page names', () => {
    expect(normalizePage('/product/1234?utm=x#top')).toBe('/product/:id');
    expect(normalizePage('/order/550e8400-e29b-41d4-a716-446655440000/items')).toBe('/order/:id/items');
    expect(normalizePage('checkout')).toBe('checkout');
    expect(normalizePage('  ')).toBe('/');
  });
});
