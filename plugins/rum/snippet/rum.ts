/**
 * The Sextant RUM browser snippet: what a page reports about itself.
 *
 * Contract with the collect endpoint (beacon format version 1, see src/beacon.ts on the server):
 *
 *   POST <endpoint>   Content-Type: text/plain (a CORS-safelisted type: no preflight)
 *   { "v": 1, "sid": <session id>, "pid": <page-load id>, "seq": <beacon number in this page load>,
 *     "page": <page name>, "ev": [ <event>, ... ] }
 *
 * events: `{t:"view"}`, `{t:"nav", dcl, load}` (ms since navigation start), `{t:"vital", n:"LCP"|"CLS"|"INP"|"TTFB"|"FCP", v}`,
 * `{t:"err", k:"error"|"rejection"}` (no message, no stack: they can carry personal data),
 * `{t:"ec", n:<GA4 event name>, value?, currency?, tid?, items?}` (items = total quantity).
 *
 * Privacy: no cookies; the session id is random, kept in sessionStorage (one tab) and rotated after
 * 30 minutes without activity; no URL query strings, no error text, no user identifiers.
 *
 * Robustness: nothing here may throw into the page. Every entry point is wrapped; a blocked or
 * failing endpoint only loses the beacon.
 */
import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';

export interface RumOptions {
  /** Absolute URL of the collect endpoint (`https://rum.example.com/rum/v1/collect`). */
  readonly endpoint: string;
  /** Page (route) name; default: the location's path. */
  readonly page?: string;
  /** Longest time events wait before they are sent, ms (default 5000). */
  readonly flushMs?: number;
}

export interface RumApi {
  /** Records an e-commerce event with its GA4 name and parameters: `track('purchase', { transaction_id, value, currency, items })`. */
  track(name: string, params?: Record<string, unknown>): void;
  /** Starts a new page view under `name` (single-page apps call it on a route change). */
  page(name: string): void;
  /** Sends what is queued now. */
  flush(): void;
}

type RumEvent = Record<string, string | number>;

/** GA4 recommended e-commerce events the collector understands; others are ignored here. */
const ECOMMERCE = ['view_item', 'view_item_list', 'select_item', 'add_to_cart', 'remove_from_cart', 'view_cart', 'begin_checkout', 'add_shipping_info', 'add_payment_info', 'purchase', 'refund'];
const MAX_BATCH = 20;
const MAX_ERRORS_PER_PAGE = 10;
const SESSION_IDLE_MS = 30 * 60_000;

let api: RumApi | undefined;

function randomId(): string {
  const bytes = new Uint8Array(8);
  if (typeof crypto !== 'undefined' && crypto.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < 8; i++) bytes[i] = (Math.random() * 256) | 0;
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function sessionId(): string {
  const now = Date.now();
  try {
    const [id, last] = (sessionStorage.getItem('sextant.rum') || '').split('.');
    const sid = id && now - Number(last) < SESSION_IDLE_MS ? id : randomId();
    sessionStorage.setItem('sextant.rum', `${sid}.${now}`);
    return sid;
  } catch {
    return randomId(); // storage blocked: one session per page load
  }
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && isFinite(v) ? v : undefined;
}

const NOOP: RumApi = { track() {}, page() {}, flush() {} };

/** Starts reporting (once per page; later calls return the same API). Never throws: on any failure it returns an API that does nothing. */
export function init(options: RumOptions): RumApi {
  try {
    return api || start(options);
  } catch {
    return NOOP;
  }
}

function start(options: RumOptions): RumApi {
  const endpoint = options.endpoint;
  const flushMs = options.flushMs ?? 5000;
  const pid = randomId();
  let page = options.page || location.pathname;
  let queue: RumEvent[] = [];
  let seq = 0;
  let errors = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const send = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (!queue.length) return;
    const body = JSON.stringify({ v: 1, sid: sessionId(), pid, seq: seq++, page, ev: queue });
    queue = [];
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([body], { type: 'text/plain' }))) return;
    } catch {
      // fall through to fetch
    }
    try {
      fetch(endpoint, { method: 'POST', body, keepalive: true, mode: 'no-cors', credentials: 'omit', headers: { 'content-type': 'text/plain' } }).catch(() => undefined);
    } catch {
      // the beacon is lost; the page is not affected
    }
  };
  const push = (e: RumEvent, now = false): void => {
    queue.push(e);
    if (now || queue.length >= MAX_BATCH) send();
    else if (timer === undefined) timer = setTimeout(send, flushMs);
  };
  const guard =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch {
        // never into the page
      }
    };

  const rum: RumApi = {
    track: guard((name: string, params: Record<string, unknown> = {}) => {
      if (ECOMMERCE.indexOf(name) < 0) return;
      const e: RumEvent = { t: 'ec', n: name };
      const items = Array.isArray(params.items) ? (params.items as Record<string, unknown>[]) : [];
      let quantity = 0;
      let sum = 0;
      for (const item of items) {
        const q = num(item && item.quantity) ?? 1;
        quantity += q;
        sum += q * (num(item && item.price) ?? 0);
      }
      const value = num(params.value) ?? (items.length ? sum : undefined);
      if (value !== undefined) e.value = value;
      if (typeof params.currency === 'string') e.currency = params.currency.slice(0, 3).toUpperCase();
      if (typeof params.transaction_id === 'string' || typeof params.transaction_id === 'number') e.tid = String(params.transaction_id).slice(0, 64);
      if (items.length) e.items = quantity;
      push(e, name === 'purchase');
    }),
    page: guard((name: string) => {
      send();
      page = String(name).slice(0, 200);
      errors = 0;
      push({ t: 'view' });
    }),
    flush: guard(send),
  };

  const onError = guard((kind: string) => {
    if (++errors <= MAX_ERRORS_PER_PAGE) push({ t: 'err', k: kind });
  });
  const vital = guard((m: Metric) => push({ t: 'vital', n: m.name, v: m.value }));
  const navigation = guard(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    if (nav) push({ t: 'nav', dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd });
  });

  guard(() => {
    push({ t: 'view' });
    onTTFB(vital);
    onFCP(vital);
    onLCP(vital);
    onCLS(vital);
    onINP(vital);
    addEventListener('error', () => onError('error'));
    addEventListener('unhandledrejection', () => onError('rejection'));
    if (document.readyState === 'complete') setTimeout(navigation, 0);
    else addEventListener('load', () => setTimeout(navigation, 0));
    // registered after web-vitals' own listeners, so their final LCP/CLS/INP are queued first
    addEventListener('visibilitychange', guard(() => document.visibilityState === 'hidden' && send()));
    addEventListener('pagehide', guard(send));
  })();
  api = rum;
  return rum;
}
