/**
 * Turns accepted beacons into per-interval figures and writes them as series.
 *
 * State is bounded whatever the traffic: at most `maxPages` named pages (the rest is `other`), one
 * DDSketch per page and timing per interval (reset at every flush; the site-wide quantiles come
 * from merging the page sketches, which is what makes DDSketch the right tool), at most
 * `maxSessions` sessions (least recently active forgotten first), at most
 * {@link MAX_REMEMBERED_TRANSACTIONS} transaction ids for purchase de-duplication.
 *
 * Sampling (`sampleRate`) keeps or drops a whole session's timings, decided by a hash of its id;
 * page views, errors and commerce events are never sampled, so order counts and revenue are exact.
 */
import { DDSketch } from '@datadog/sketches-js';
import { isSextantError, type Attributes, type SeriesId, type TelemetrySink } from '@sextant/plugin-api';
import { ECOMMERCE_EVENTS, type Beacon } from './beacon.js';
import { rumSeries, type RumMetricName } from './metrics.js';

export const OTHER_PAGE = 'other';
export const MAX_REMEMBERED_TRANSACTIONS = 100_000;
const TRANSACTION_MEMORY_MS = 24 * 3600_000;
const MAX_CURRENCIES = 20;
const MAX_CACHED_PAGE_NAMES = 10_000;
const QUANTILES = [
  [0.5, 'p50'],
  [0.75, 'p75'],
  [0.95, 'p95'],
] as const;

/** Timings in the order of the sketch slots. */
const TIMINGS: readonly { readonly metric: RumMetricName; readonly vital?: string }[] = [
  { metric: 'rum.ttfb', vital: 'TTFB' },
  { metric: 'rum.fcp', vital: 'FCP' },
  { metric: 'rum.lcp', vital: 'LCP' },
  { metric: 'rum.inp', vital: 'INP' },
  { metric: 'rum.cls', vital: 'CLS' },
  { metric: 'rum.dom_content_loaded' },
  { metric: 'rum.load' },
];
const VITAL_SLOT: Readonly<Record<string, number>> = { TTFB: 0, FCP: 1, LCP: 2, INP: 3, CLS: 4 };
const DCL_SLOT = 5;
const LOAD_SLOT = 6;
const EC_INDEX: Readonly<Record<string, number>> = Object.fromEntries(ECOMMERCE_EVENTS.map((n, i) => [n, i]));
const ADD_TO_CART = EC_INDEX.add_to_cart;
const PURCHASE = EC_INDEX.purchase;

const CART = 1;
const PURCHASED = 2;

interface PageWindow {
  views: number;
  errors: number;
  readonly sketches: (DDSketch | undefined)[];
}

export interface RumAggregatorOptions {
  readonly maxPages: number;
  readonly sampleRate: number;
  readonly sessionWindowMs: number;
  readonly maxSessions: number;
  readonly defaultCurrency: string;
}

/** What the aggregator refused or skipped, for self-metrics and tests. */
export interface RumAggregatorStats {
  duplicatePurchases: number;
  timingsSampledOut: number;
  currenciesRefused: number;
  seriesRefused: number;
}

/** 32-bit FNV-1a of a string, scaled to [0, 1). */
function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

/**
 * A page name for series: paths lose query and fragment, and segments that are ids (numbers,
 * UUIDs, long hex) become `:id`, so `/product/1234?ref=x` and `/product/99` are one page.
 */
export function normalizePage(raw: string): string {
  let page = raw.trim();
  if (page.startsWith('/')) {
    page = page.replace(/[?#].*$/, '');
    page = page
      .split('/')
      .map((seg) => (/^\d+$/.test(seg) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) || /^[0-9a-f]{16,}$/i.test(seg) ? ':id' : seg))
      .join('/');
  }
  return page.slice(0, 100) || '/';
}

export class RumAggregator {
  private readonly pages = new Map<string, PageWindow>();
  /** Page names as sent -> their window, so the hot path skips normalisation (cleared when full). */
  private readonly pageByRawName = new Map<string, PageWindow>();
  private readonly sessions = new Map<string, { last: number; flags: number }>();
  private readonly transactions = new Map<string, number>();
  private readonly ecommerce = new Float64Array(ECOMMERCE_EVENTS.length);
  private readonly revenue = new Map<string, number>();
  private readonly revenueTotal = new Map<string, number>();
  private orders = 0;
  private ordersTotal = 0;
  private lastFlush: number;
  private readonly seriesIds = new Map<string, SeriesId>();
  readonly stats: RumAggregatorStats = { duplicatePurchases: 0, timingsSampledOut: 0, currenciesRefused: 0, seriesRefused: 0 };

  constructor(
    private readonly options: RumAggregatorOptions,
    startedAt: number,
  ) {
    this.lastFlush = startedAt;
  }

  private page(name: string): PageWindow {
    const cached = this.pageByRawName.get(name);
    if (cached) return cached;
    const w = this.pageWindow(normalizePage(name));
    if (this.pageByRawName.size >= MAX_CACHED_PAGE_NAMES) this.pageByRawName.clear();
    this.pageByRawName.set(name, w);
    return w;
  }

  private pageWindow(normal: string): PageWindow {
    let w = this.pages.get(normal);
    if (!w) {
      const key = this.pages.size < this.options.maxPages ? normal : OTHER_PAGE;
      w = this.pages.get(key);
      if (!w) {
        w = { views: 0, errors: 0, sketches: new Array<DDSketch | undefined>(TIMINGS.length) };
        this.pages.set(key, w);
      }
    }
    return w;
  }

  private accept(w: PageWindow, slot: number, value: number): void {
    let s = w.sketches[slot];
    if (!s) s = w.sketches[slot] = new DDSketch({ relativeAccuracy: 0.01 });
    s.accept(value);
  }

  /** Adds one validated beacon, received at `now`. */
  record(beacon: Beacon, now: number): void {
    const w = this.page(beacon.page);
    const timed = this.options.sampleRate >= 1 || unitHash(beacon.sid) < this.options.sampleRate;
    let session = this.sessions.get(beacon.sid);
    if (session) this.sessions.delete(beacon.sid);
    else {
      session = { last: now, flags: 0 };
      if (this.sessions.size >= this.options.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    }
    session.last = now;
    this.sessions.set(beacon.sid, session);
    for (const e of beacon.events) {
      switch (e.t) {
        case 'view':
          w.views++;
          break;
        case 'err':
          w.errors++;
          break;
        case 'vital':
        case 'nav':
          if (!timed) {
            this.stats.timingsSampledOut++;
            break;
          }
          if (e.t === 'vital') this.accept(w, VITAL_SLOT[e.n], e.v);
          else {
            this.accept(w, DCL_SLOT, e.dcl);
            this.accept(w, LOAD_SLOT, e.load);
          }
          break;
        case 'ec': {
          const i = EC_INDEX[e.n];
          if (i === PURCHASE) {
            if (e.tid !== undefined) {
              if (this.transactions.has(e.tid)) {
                this.stats.duplicatePurchases++;
                break;
              }
              if (this.transactions.size >= MAX_REMEMBERED_TRANSACTIONS) this.transactions.delete(this.transactions.keys().next().value as string);
              this.transactions.set(e.tid, now);
            }
            const currency = e.currency ?? this.options.defaultCurrency;
            if (!this.revenueTotal.has(currency) && this.revenueTotal.size >= MAX_CURRENCIES) {
              this.stats.currenciesRefused++;
              break;
            }
            this.orders++;
            this.ordersTotal++;
            this.revenue.set(currency, (this.revenue.get(currency) ?? 0) + (e.value ?? 0));
            this.revenueTotal.set(currency, (this.revenueTotal.get(currency) ?? 0) + (e.value ?? 0));
            session.flags |= PURCHASED;
          } else if (i === ADD_TO_CART) session.flags |= CART;
          this.ecommerce[i]++;
          break;
        }
      }
    }
  }

  private sample(sink: TelemetrySink, resource: Attributes, metric: RumMetricName, attributes: Attributes, value: number, now: number): void {
    const key = `${metric}\u0000${JSON.stringify(attributes)}`;
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      try {
        id = sink.series(rumSeries(metric, resource, attributes));
      } catch (e) {
        if (!isSextantError(e)) throw e;
        this.stats.seriesRefused++;
        return;
      }
      this.seriesIds.set(key, id);
    }
    sink.sample(id, value, now);
  }

  /**
   * Writes the interval since the last flush (per-minute figures use its real length) and starts
   * a new one. Timings are written only where there were measurements; counts every interval.
   */
  flush(sink: TelemetrySink, resource: Attributes, now: number): void {
    const perMinute = 60_000 / Math.max(1, now - this.lastFlush);
    this.lastFlush = now;
    const write = (metric: RumMetricName, attributes: Attributes, value: number) => this.sample(sink, resource, metric, attributes, value, now);

    let views = 0;
    let errors = 0;
    const merged: (DDSketch | undefined)[] = new Array(TIMINGS.length);
    for (const [page, w] of this.pages) {
      views += w.views;
      errors += w.errors;
      write('rum.page_views', { page }, w.views * perMinute);
      write('rum.errors', { page }, w.errors * perMinute);
      if (w.views > 0) write('rum.error_rate', { page }, w.errors / w.views);
      for (let slot = 0; slot < TIMINGS.length; slot++) {
        const s = w.sketches[slot];
        if (!s) continue;
        for (const [q, label] of QUANTILES) write(TIMINGS[slot].metric, { page, quantile: label }, s.getValueAtQuantile(q));
        if (merged[slot]) merged[slot]!.merge(s);
        else merged[slot] = s;
        w.sketches[slot] = undefined;
      }
      w.views = 0;
      w.errors = 0;
    }
    write('rum.page_views', {}, views * perMinute);
    write('rum.errors', {}, errors * perMinute);
    if (views > 0) write('rum.error_rate', {}, errors / views);
    for (let slot = 0; slot < TIMINGS.length; slot++) {
      const s = merged[slot];
      if (s) for (const [q, label] of QUANTILES) write(TIMINGS[slot].metric, { quantile: label }, s.getValueAtQuantile(q));
    }

    // sessions: forget the idle ones (oldest activity first), then count what is left
    const cutoff = now - this.options.sessionWindowMs;
    for (const [sid, s] of this.sessions) {
      if (s.last >= cutoff) break;
      this.sessions.delete(sid);
    }
    let purchased = 0;
    let carts = 0;
    let abandoned = 0;
    for (const s of this.sessions.values()) {
      if (s.flags & PURCHASED) purchased++;
      if (s.flags & CART) {
        carts++;
        if (!(s.flags & PURCHASED)) abandoned++;
      }
    }
    write('rum.sessions', {}, this.sessions.size);
    if (this.sessions.size > 0) write('rum.conversion_rate', {}, purchased / this.sessions.size);
    if (carts > 0) write('rum.cart_abandonment', {}, abandoned / carts);

    write('rum.orders', {}, this.orders * perMinute);
    write('rum.orders.total', {}, this.ordersTotal);
    for (const [currency, total] of this.revenueTotal) {
      write('rum.revenue', { currency }, (this.revenue.get(currency) ?? 0) * perMinute);
      write('rum.revenue.total', { currency }, total);
    }
    for (let i = 0; i < ECOMMERCE_EVENTS.length; i++) {
      if (this.ecommerce[i] > 0 || this.seriesIds.has(`rum.ecommerce.events\u0000${JSON.stringify({ event: ECOMMERCE_EVENTS[i] })}`)) write('rum.ecommerce.events', { event: ECOMMERCE_EVENTS[i] }, this.ecommerce[i] * perMinute);
    }
    this.ecommerce.fill(0);
    this.revenue.clear();
    this.orders = 0;

    const txCutoff = now - TRANSACTION_MEMORY_MS;
    for (const [tid, at] of this.transactions) {
      if (at >= txCutoff) break;
      this.transactions.delete(tid);
    }
  }
}
