/**
 * The beacon format (version 1) the snippet sends, and its validation. A beacon that is not an
 * object of the right shape is refused whole ({@link BeaconRefusal}); inside a good beacon, an event
 * with a bad value (NaN, negative, absurdly large, unknown name) is dropped and counted, the rest is
 * kept — one broken measurement must not cost the purchase next to it.
 *
 *   { "v": 1, "sid": "<8-64 of [A-Za-z0-9_-]>", "pid": "<same>", "seq": <integer >= 0>,
 *     "page": "<page name, <= 200 chars>", "ev": [ <at most 100 events> ] }
 */

/** Web vitals and navigation timings the collector keeps, with the largest plausible value. */
export const TIMING_LIMITS = { TTFB: 600_000, FCP: 600_000, LCP: 600_000, INP: 600_000, CLS: 100, dcl: 600_000, load: 600_000 } as const;
export type TimingName = keyof typeof TIMING_LIMITS;

/** GA4 recommended e-commerce event names the collector counts. */
export const ECOMMERCE_EVENTS = ['view_item', 'view_item_list', 'select_item', 'add_to_cart', 'remove_from_cart', 'view_cart', 'begin_checkout', 'add_shipping_info', 'add_payment_info', 'purchase', 'refund'] as const;
export type EcommerceEventName = (typeof ECOMMERCE_EVENTS)[number];
const ECOMMERCE_SET: ReadonlySet<string> = new Set(ECOMMERCE_EVENTS);

export const MAX_EVENTS_PER_BEACON = 100;
const ID = /^[A-Za-z0-9_-]{8,64}$/;
const CURRENCY = /^[A-Z]{3}$/;

export type BeaconEvent =
  | { readonly t: 'view' }
  | { readonly t: 'err' }
  | { readonly t: 'vital'; readonly n: 'TTFB' | 'FCP' | 'LCP' | 'INP' | 'CLS'; readonly v: number }
  | { readonly t: 'nav'; readonly dcl: number; readonly load: number }
  | { readonly t: 'ec'; readonly n: EcommerceEventName; readonly value?: number; readonly currency?: string; readonly tid?: string };

export interface Beacon {
  readonly sid: string;
  readonly pid: string;
  readonly seq: number;
  readonly page: string;
  readonly events: readonly BeaconEvent[];
  /** Events of the beacon dropped for a bad value or an unknown type. */
  readonly dropped: number;
}

/** A beacon refused whole: `reason` is the counter label, `message` what was wrong. */
export class BeaconRefusal extends Error {
  constructor(
    readonly reason: 'malformed' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

function finiteIn(v: unknown, max: number): v is number {
  return typeof v === 'number' && v >= 0 && v <= max; // NaN and Infinity fail both comparisons
}

/**
 * Validates a parsed JSON value as a beacon. `maxOrderValue` bounds purchase values.
 * Throws {@link BeaconRefusal} for anything not shaped like a beacon.
 */
export function readBeacon(json: unknown, maxOrderValue: number): Beacon {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BeaconRefusal('invalid', 'a beacon must be a JSON object');
  const b = json as Record<string, unknown>;
  if (b.v !== 1) throw new BeaconRefusal('invalid', `unsupported beacon version ${JSON.stringify(b.v)} (this collector reads 1)`);
  if (typeof b.sid !== 'string' || !ID.test(b.sid)) throw new BeaconRefusal('invalid', 'sid must be 8-64 characters of [A-Za-z0-9_-]');
  if (typeof b.pid !== 'string' || !ID.test(b.pid)) throw new BeaconRefusal('invalid', 'pid must be 8-64 characters of [A-Za-z0-9_-]');
  if (typeof b.seq !== 'number' || !Number.isInteger(b.seq) || b.seq < 0 || b.seq > 1e6) throw new BeaconRefusal('invalid', 'seq must be an integer 0..1000000');
  if (typeof b.page !== 'string' || b.page.length === 0 || b.page.length > 200) throw new BeaconRefusal('invalid', 'page must be a string of 1-200 characters');
  if (!Array.isArray(b.ev) || b.ev.length === 0 || b.ev.length > MAX_EVENTS_PER_BEACON) throw new BeaconRefusal('invalid', `ev must be an array of 1-${MAX_EVENTS_PER_BEACON} events`);
  const events: BeaconEvent[] = [];
  let dropped = 0;
  for (const raw of b.ev as unknown[]) {
    const e = readEvent(raw, maxOrderValue);
    if (e) events.push(e);
    else dropped++;
  }
  return { sid: b.sid, pid: b.pid, seq: b.seq, page: b.page, events, dropped };
}

function readEvent(raw: unknown, maxOrderValue: number): BeaconEvent | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const e = raw as Record<string, unknown>;
  switch (e.t) {
    case 'view':
      return { t: 'view' };
    case 'err':
      return { t: 'err' };
    case 'vital': {
      const n = e.n;
      if ((n === 'TTFB' || n === 'FCP' || n === 'LCP' || n === 'INP' || n === 'CLS') && finiteIn(e.v, TIMING_LIMITS[n])) return { t: 'vital', n, v: e.v };
      return undefined;
    }
    case 'nav':
      return finiteIn(e.load, TIMING_LIMITS.load) && finiteIn(e.dcl, TIMING_LIMITS.dcl) ? { t: 'nav', dcl: e.dcl, load: e.load } : undefined;
    case 'ec': {
      if (typeof e.n !== 'string' || !ECOMMERCE_SET.has(e.n)) return undefined;
      if (e.value !== undefined && !finiteIn(e.value, maxOrderValue)) return undefined;
      if (e.currency !== undefined && (typeof e.currency !== 'string' || !CURRENCY.test(e.currency))) return undefined;
      if (e.tid !== undefined && (typeof e.tid !== 'string' || e.tid.length === 0 || e.tid.length > 64)) return undefined;
      return { t: 'ec', n: e.n as EcommerceEventName, ...(e.value !== undefined ? { value: e.value as number } : {}), ...(e.currency !== undefined ? { currency: e.currency as string } : {}), ...(e.tid !== undefined ? { tid: e.tid as string } : {}) };
    }
    default:
      return undefined;
  }
}
