/**
 * The collect endpoint's decisions, without the socket: which beacon is refused and why, and what
 * an accepted one adds to the aggregator. The HTTP listener ({@link CollectEndpoint}) and the
 * benchmark both go through here.
 *
 * Order of checks — each refusal is a 4xx, counted in `rejected_total{reason}`, and stores nothing:
 *  1. `origin` 403: the Origin header is missing or not in `allowedOrigins` (browsers always send
 *     it with a beacon; its absence means a script, not a page);
 *  2. `bot` 403: the User-Agent names a crawler, headless browser or HTTP library;
 *  3. `rate_limited` 429 (with Retry-After): the origin's token bucket is empty;
 *  4. `too_large` 413: the body is over `maxBodyBytes` (checked by the listener while reading);
 *  5. `malformed` 400: not JSON; `invalid` 400: JSON, but not a version-1 beacon;
 *  6. `replayed` 409: this page load's beacon number was already accepted.
 * Accepted: 204. Bad events inside an accepted beacon are dropped and counted in
 * `events_dropped_total`.
 *
 * Privacy: the intake sees the origin, the user agent (only to match bot fragments; not kept) and
 * the body. It never reads the client address or cookies.
 */
import type { SelfCounter } from '@sextant/plugin-api';
import { BeaconRefusal, readBeacon } from './beacon.js';
import type { RumConfig } from './config.js';
import { OriginRateLimiter } from './origin-rate-limiter.js';
import { ReplayGuard } from './replay-guard.js';
import type { RumAggregator } from './rum-aggregator.js';

export type RefusalReason = 'origin' | 'bot' | 'rate_limited' | 'too_large' | 'malformed' | 'invalid' | 'replayed' | 'method' | 'not_found';

export interface IntakeOutcome {
  readonly status: number;
  readonly reason?: RefusalReason;
  readonly message?: string;
  readonly retryAfterSeconds?: number;
}

const ACCEPTED: IntakeOutcome = { status: 204 };
export const REPLAY_MEMORY = { capacity: 500_000, ttlMs: 30 * 60_000 } as const;

export interface IntakeCounters {
  readonly accepted: SelfCounter;
  readonly rejected: SelfCounter;
  readonly eventsDropped: SelfCounter;
}

export class BeaconIntake {
  private readonly origins: ReadonlySet<string>;
  private readonly bots: readonly string[];
  private readonly limiter: OriginRateLimiter;
  private readonly replays = new ReplayGuard(REPLAY_MEMORY.capacity, REPLAY_MEMORY.ttlMs);
  /** Refusals by reason since start (also exported through `rejected_total`). */
  readonly refused: Partial<Record<RefusalReason, number>> = {};
  accepted = 0;

  constructor(
    private readonly config: RumConfig,
    private readonly aggregator: RumAggregator,
    private readonly counters?: IntakeCounters,
  ) {
    this.origins = new Set(config.allowedOrigins);
    this.bots = config.botUserAgents.map((b) => b.toLowerCase());
    this.limiter = new OriginRateLimiter(config.rateLimit.perSecond, config.rateLimit.burst);
  }

  /** True when `origin` may send beacons (and gets CORS headers). */
  allows(origin: string | undefined): boolean {
    return origin !== undefined && this.origins.has(origin);
  }

  /** Counts and returns a refusal. */
  refuse(reason: RefusalReason, status: number, message: string, retryAfterSeconds?: number): IntakeOutcome {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
    this.counters?.rejected.add(1, { reason });
    return { status, reason, message, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
  }

  /** Checks that need no body (origin, bot, rate). Undefined when the body should be read. */
  admit(origin: string | undefined, userAgent: string | undefined, now: number): IntakeOutcome | undefined {
    if (origin === undefined) return this.refuse('origin', 403, 'no Origin header: beacons come from pages');
    if (!this.allows(origin)) return this.refuse('origin', 403, `origin ${origin.slice(0, 100)} is not in allowedOrigins`);
    const ua = (userAgent ?? '').toLowerCase();
    if (ua === '' || this.bots.some((b) => ua.includes(b))) return this.refuse('bot', 403, 'user agent looks like a bot or script');
    if (!this.limiter.take(origin, now)) return this.refuse('rate_limited', 429, `more than ${this.config.rateLimit.perSecond} beacons/s from ${origin}`, this.limiter.retryAfterSeconds(origin));
    return undefined;
  }

  /** Parses, validates, de-duplicates and records one body that passed {@link admit}. */
  ingest(body: string, now: number): IntakeOutcome {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return this.refuse('malformed', 400, 'body is not JSON');
    }
    let beacon;
    try {
      beacon = readBeacon(json, this.config.maxOrderValue);
    } catch (e) {
      if (e instanceof BeaconRefusal) return this.refuse(e.reason, 400, e.message);
      throw e;
    }
    if (!this.replays.firstTime(beacon.pid, beacon.seq, now)) return this.refuse('replayed', 409, `beacon ${beacon.seq} of this page load was already accepted`);
    this.aggregator.record(beacon, now);
    this.accepted++;
    this.counters?.accepted.add(1);
    if (beacon.dropped > 0) this.counters?.eventsDropped.add(beacon.dropped, { reason: 'invalid' });
    return ACCEPTED;
  }

  /** Periodic housekeeping (replay memory). */
  expire(now: number): void {
    this.replays.expire(now);
  }
}
