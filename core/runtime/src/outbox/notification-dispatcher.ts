/**
 * The durable notification outbox (issue 8 "Delivery guarantees").
 *
 * Every incident update that passes a notifier's route becomes one outbox entry per notifier
 * instance, recorded in an {@link OutboxStore} before `enqueue()` returns, and is delivered:
 * - in order per (notifier, incident): an update waits until the previous update of the same
 *   incident for the same notifier was delivered, rejected or expired; other incidents and other
 *   notifiers proceed independently;
 * - with retries: exponential backoff with full jitter between `backoff.initial` and
 *   `backoff.max`, or the receiver's `retryAfterMs` when it gives one;
 * - until `expiry` after it was first enqueued (counted in `sextant_notifications_expired_total`);
 * - at least once: each attempt carries the idempotency key `<incident id>:<sequence>`; after a
 *   crash an entry that was delivered but not yet marked is delivered again, and the receiver
 *   drops it by key.
 * Non-retryable outcomes are dropped with a counter and a log line. Updates with `notify: false`
 * (silences, maintenance) are never delivered.
 *
 * After a restart, `load()` of the store brings back every undelivered entry; entries wait for
 * their notifier instance to be attached again (or expire in the periodic sweep).
 */
import { join } from 'node:path';
import { formatError, type Clock, type DeliveryOutcome, type HealthState, type IncidentUpdate, type Logger, type Notifier } from '@sextant/plugin-api';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { DeliveryRecord, type DeliveryState } from './delivery-record.js';
import { JournalOutboxStore } from './journal-outbox-store.js';
import { MemoryOutboxStore } from './memory-outbox-store.js';
import { idempotencyKeyOf, type OutboxEntry, type OutboxSettlement } from './outbox-entry.js';
import type { OutboxStore } from './outbox-store.js';
import { routeMatches, type EntityAttributeLookup, type NotificationRoute } from './notification-route.js';
import { fullJitterBackoffMs } from './retry-backoff.js';

export interface DispatcherOptions {
  /** First retry delay ceiling in ms (default 1000). */
  readonly initialBackoffMs?: number;
  /** Largest retry delay in ms (default 300000 = 5 min). */
  readonly maxBackoffMs?: number;
  /** Give up on an update this long after it was first enqueued (default 24 h); counted as expired. */
  readonly expiryMs?: number;
  /** A deliver() call that has not settled after this long counts as a retryable failure (default 60 s). */
  readonly attemptTimeoutMs?: number;
  /** How often expiry of idle entries, gauges and store housekeeping run (default 10 s). */
  readonly sweepIntervalMs?: number;
  /** Where entries are kept. Default: a journal in `<dataDir>/outbox/`, or memory without dataDir. */
  readonly store?: OutboxStore;
  /** Runtime data directory, used for the default journal store. */
  readonly dataDir?: string;
  /** Topology lookup for `route.match` on entity attributes. */
  readonly entityAttributes?: EntityAttributeLookup;
  /** Source of jitter in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

type SetStatus = (state: HealthState, message?: string) => void;

interface Target {
  readonly id: string;
  readonly notifier: Notifier;
  readonly setStatus: SetStatus;
  readonly route: NotificationRoute | undefined;
}

/** The entries of one (notifier, incident), in sequence order; only the head is ever attempted. */
interface Lane {
  readonly notifier: string;
  readonly incidentId: string;
  readonly entries: OutboxEntry[];
  /** True while the head is being delivered (or the lane is being worked on synchronously). */
  running: boolean;
  cancelTimer: (() => void) | undefined;
}

const TIMEOUT = Symbol('timeout');

export class NotificationDispatcher {
  private readonly targets = new Map<string, Target>();
  private readonly lanes = new Map<string, Lane>();
  private readonly pendingByNotifier = new Map<string, number>();
  private readonly store: OutboxStore;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly expiryMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly sweepIntervalMs: number;
  private readonly random: () => number;
  private readonly entityAttributes: EntityAttributeLookup | undefined;
  private loaded = false;
  /** Set by close(): no new attempt starts; outcomes of attempts in flight are still recorded. */
  private stopping = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private cancelSweep: (() => void) | undefined;
  private storeDegraded = false;
  private opening: Promise<void> | undefined;
  /** Which notifications went out for each incident (bounded, in memory), for the API. */
  readonly deliveries = new DeliveryRecord();

  constructor(
    pipeline: Pipeline,
    private readonly telemetry: SelfTelemetry,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: DispatcherOptions = {},
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = Math.max(this.initialBackoffMs, options.maxBackoffMs ?? 300_000);
    this.expiryMs = options.expiryMs ?? 24 * 3_600_000;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 60_000;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.entityAttributes = options.entityAttributes;
    this.store = options.store ?? (options.dataDir ? new JournalOutboxStore(join(options.dataDir, 'outbox')) : new MemoryOutboxStore());
    pipeline.onIncident((update) => this.enqueue(update));
    this.scheduleSweep();
  }

  /**
   * Loads the store (once; the first attach() does it, so a runtime that never starts a notifier
   * never touches the data directory). Never rejects: a failed load is logged and counted.
   */
  ready(): Promise<void> {
    return (this.opening ??= this.open());
  }

  private async open(): Promise<void> {
    if (!this.store.durable) {
      this.logger.info('notification outbox is in memory only: undelivered notifications are lost on restart (set dataDir to keep them)');
    }
    let entries: OutboxEntry[] = [];
    try {
      entries = await this.store.load({
        failed: (op, error) => this.storeFailed(op, error),
        recovered: () => this.storeRecovered(),
        skipped: (reason) => {
          this.telemetry.add('sextant_outbox_records_skipped_total', 'Stored outbox records that could not be read back (torn or malformed) and were skipped', 1);
          this.logger.warn(`outbox: skipped a stored record: ${reason}`);
        },
      });
    } catch (e) {
      this.storeFailed('load', e);
    }
    let restored = 0;
    for (const entry of entries) if (this.insert(entry)) restored++;
    if (restored > 0) {
      this.telemetry.add('sextant_outbox_restored_total', 'Undelivered notifications brought back from the store at start', restored);
      this.logger.info(`outbox: ${restored} undelivered notification${restored === 1 ? '' : 's'} restored from ${this.store.description}`);
    } else if (this.store.durable) {
      this.logger.info(`outbox: using ${this.store.description}`);
    }
    this.loaded = true;
    this.updatePendingGauges();
    for (const lane of this.lanes.values()) void this.pump(lane);
  }

  private storeFailed(op: string, error: unknown): void {
    this.telemetry.add('sextant_outbox_store_errors_total', 'Outbox store operations that failed (retried; entries stay in memory meanwhile)', 1, { op });
    if (!this.storeDegraded) this.logger.error(`outbox: ${this.store.description}: ${op} failed: ${formatError(error)}; notifications stay in memory and the write is retried`);
    this.storeDegraded = true;
  }

  private storeRecovered(): void {
    if (this.storeDegraded) this.logger.info(`outbox: ${this.store.description} is writable again; buffered records written`);
    this.storeDegraded = false;
  }

  /**
   * Registers a notifier instance. Entries for `id` restored from the store start flowing now.
   * `route` limits which updates it gets (default: all). Returns a function that detaches it;
   * its undelivered entries stay in the outbox for the next attach with the same id.
   */
  attach(id: string, notifier: Notifier, setStatus: SetStatus, route?: NotificationRoute): () => void {
    const target: Target = { id, notifier, setStatus, route };
    this.targets.set(id, target);
    void this.ready();
    for (const lane of this.lanes.values()) if (lane.notifier === id) void this.pump(lane);
    return () => {
      if (this.targets.get(id) === target) this.targets.delete(id);
    };
  }

  /** Records an incident update for every attached notifier whose route matches, then delivers it. */
  enqueue(update: IncidentUpdate): void {
    if (this.stopping) {
      this.telemetry.add('sextant_notifications_after_close_total', 'Incident updates published while the outbox was closing, not recorded', 1);
      return;
    }
    const incidentId = update?.incident?.id;
    if (typeof incidentId !== 'string' || incidentId === '' || !Number.isSafeInteger(update.sequence) || update.sequence < 0) {
      this.telemetry.add('sextant_notifications_invalid_total', 'Incident updates refused by the outbox (no incident id or a sequence that is not a non-negative integer)', 1);
      this.logger.warn(`outbox: refused an incident update without a usable incident id/sequence (id ${JSON.stringify(incidentId)}, sequence ${String(update?.sequence)})`);
      return;
    }
    if (update.notify === false) {
      this.telemetry.add('sextant_notifications_held_total', 'Incident updates stored but not delivered (silenced, maintenance)', 1);
      for (const target of this.targets.values()) {
        if (routeMatches(target.route, update, this.entityAttributes)) this.deliveries.note(incidentId, { notifier: target.id, sequence: update.sequence, change: update.change, outcome: 'held', attempts: 0, at: this.clock.now(), ...(update.reason ? { error: update.reason } : {}) });
      }
      return;
    }
    const key = idempotencyKeyOf(update);
    const now = this.clock.now();
    const added: OutboxEntry[] = [];
    for (const target of this.targets.values()) {
      if (!routeMatches(target.route, update, this.entityAttributes)) {
        this.telemetry.add('sextant_notifications_filtered_total', 'Incident updates not sent to a notifier because its route did not match', 1, { notifier: target.id });
        continue;
      }
      const entry: OutboxEntry = { notifier: target.id, key, incidentId, sequence: update.sequence, update, enqueuedAt: now, attempts: 0, nextAttemptAt: now };
      if (!this.insert(entry)) {
        this.telemetry.add('sextant_notifications_duplicate_total', 'Incident updates enqueued twice for the same notifier (same idempotency key), ignored', 1, { notifier: target.id });
        continue;
      }
      added.push(entry);
      this.noteDelivery(entry, 'pending');
      this.telemetry.add('sextant_notifications_queued_total', 'Notifications queued, by notifier', 1, { notifier: target.id });
    }
    if (added.length === 0) return;
    this.store.enqueue(added);
    this.updatePendingGauges();
    for (const entry of added) void this.pump(this.lanes.get(laneKey(entry.notifier, entry.incidentId))!);
  }

  /** Adds an entry to its lane in sequence order; false when the lane already holds that key. */
  private insert(entry: OutboxEntry): boolean {
    const lk = laneKey(entry.notifier, entry.incidentId);
    let lane = this.lanes.get(lk);
    if (!lane) {
      lane = { notifier: entry.notifier, incidentId: entry.incidentId, entries: [], running: false, cancelTimer: undefined };
      this.lanes.set(lk, lane);
    }
    const entries = lane.entries;
    if (entries.some((e) => e.key === entry.key)) return false;
    // Never reorder in front of a head that is being delivered.
    let i = entries.length;
    const floor = lane.running ? 1 : 0;
    while (i > floor && entries[i - 1].sequence > entry.sequence) i--;
    entries.splice(i, 0, entry);
    this.pendingByNotifier.set(entry.notifier, (this.pendingByNotifier.get(entry.notifier) ?? 0) + 1);
    return true;
  }

  private async pump(lane: Lane): Promise<void> {
    if (lane.running || !this.loaded || this.stopping) return;
    lane.running = true;
    lane.cancelTimer?.();
    lane.cancelTimer = undefined;
    try {
      while (!this.stopping) {
        const entry = lane.entries[0];
        if (!entry) break;
        const now = this.clock.now();
        const expiresAt = entry.enqueuedAt + this.expiryMs;
        if (now >= expiresAt) {
          this.settle(lane, entry, 'expired');
          continue;
        }
        const target = this.targets.get(lane.notifier);
        if (!target) break;
        if (entry.nextAttemptAt > now) {
          lane.cancelTimer = this.clock.setTimeout(() => {
            lane.cancelTimer = undefined;
            void this.pump(lane);
          }, Math.min(entry.nextAttemptAt, expiresAt) - now);
          break;
        }
        entry.attempts++;
        this.inFlight++;
        let outcome: DeliveryOutcome;
        try {
          outcome = await this.attempt(target, entry);
        } finally {
          this.inFlight--;
        }
        if (this.closed) break;
        this.handleOutcome(lane, target, entry, outcome);
      }
    } finally {
      lane.running = false;
      if (lane.entries.length === 0 && !lane.cancelTimer) this.lanes.delete(laneKey(lane.notifier, lane.incidentId));
      this.wakeIdleWaiters();
    }
  }

  private async attempt(target: Target, entry: OutboxEntry): Promise<DeliveryOutcome> {
    let cancelTimeout: (() => void) | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      cancelTimeout = this.clock.setTimeout(() => resolve(TIMEOUT), this.attemptTimeoutMs);
    });
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => target.notifier.deliver({ idempotencyKey: entry.key, update: entry.update, attempt: entry.attempts })),
        timeout,
      ]);
      if (result === TIMEOUT) return { ok: false, retryable: true, error: `deliver() did not settle within ${this.attemptTimeoutMs} ms` };
      if (typeof result !== 'object' || result === null || typeof result.ok !== 'boolean') {
        return { ok: false, retryable: true, error: `deliver() returned ${JSON.stringify(result)} instead of a DeliveryOutcome` };
      }
      return result;
    } catch (e) {
      return { ok: false, retryable: true, error: `deliver() threw: ${formatError(e)}` };
    } finally {
      cancelTimeout?.();
    }
  }

  private handleOutcome(lane: Lane, target: Target, entry: OutboxEntry, outcome: DeliveryOutcome): void {
    const labels = { notifier: target.id };
    if (outcome.ok) {
      this.settle(lane, entry, 'delivered');
      this.noteDelivery(entry, 'delivered');
      this.telemetry.add('sextant_notifications_delivered_total', 'Notifications delivered, by notifier', 1, labels);
      this.telemetry.observe('sextant_notification_delivery_seconds', 'Time from queueing to delivery, by notifier', (this.clock.now() - entry.enqueuedAt) / 1000, labels);
      target.setStatus('ok');
      return;
    }
    this.telemetry.add('sextant_notification_failures_total', 'Failed delivery attempts, by notifier', 1, labels);
    if (!outcome.retryable) {
      this.settle(lane, entry, 'rejected');
      this.noteDelivery(entry, 'failed', `refused: ${outcome.error}`);
      this.telemetry.add('sextant_notifications_rejected_total', 'Notifications refused permanently by the receiver (not retried)', 1, labels);
      this.logger.error(`${target.id}: gave up on ${entry.key} after attempt ${entry.attempts}: ${outcome.error} (not retryable)`);
      target.setStatus('degraded', `delivery of ${entry.key} was refused: ${outcome.error}`);
      return;
    }
    const retryAfter = outcome.retryAfterMs;
    const delay = retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : fullJitterBackoffMs(entry.attempts, this.initialBackoffMs, this.maxBackoffMs, this.random);
    entry.nextAttemptAt = this.clock.now() + delay;
    this.store.attempted(entry);
    this.noteDelivery(entry, 'pending', outcome.error);
    target.setStatus('degraded', `delivery of ${entry.key} failed (attempt ${entry.attempts}, next in ${delay < 10_000 ? `${delay} ms` : `${Math.round(delay / 1000)} s`}): ${outcome.error}`);
  }

  private settle(lane: Lane, entry: OutboxEntry, how: OutboxSettlement): void {
    const i = lane.entries.indexOf(entry);
    if (i < 0) return;
    lane.entries.splice(i, 1);
    this.pendingByNotifier.set(entry.notifier, Math.max(0, (this.pendingByNotifier.get(entry.notifier) ?? 1) - 1));
    if (how === 'expired') {
      this.telemetry.add('sextant_notifications_expired_total', 'Notifications given up after the expiry without delivery', 1, { notifier: entry.notifier });
      this.logger.warn(`${entry.notifier}: ${entry.key} expired undelivered after ${entry.attempts} attempt${entry.attempts === 1 ? '' : 's'}`);
      this.noteDelivery(entry, 'failed', `expired undelivered after ${entry.attempts} attempt${entry.attempts === 1 ? '' : 's'}`);
    }
    this.store.settle(entry, how);
    this.updatePendingGauges(entry.notifier);
  }

  private noteDelivery(entry: OutboxEntry, outcome: DeliveryState, error?: string): void {
    this.deliveries.note(entry.incidentId, { notifier: entry.notifier, sequence: entry.sequence, change: entry.update.change, outcome, attempts: entry.attempts, at: this.clock.now(), ...(error ? { error } : {}) });
  }

  private scheduleSweep(): void {
    this.cancelSweep = this.clock.setTimeout(() => {
      this.sweep();
      if (!this.stopping) this.scheduleSweep();
    }, this.sweepIntervalMs);
  }

  /** Expires entries of idle lanes (also of notifiers no longer attached), updates gauges, store housekeeping. */
  private sweep(): void {
    if (!this.loaded || this.stopping) return;
    const now = this.clock.now();
    for (const [lk, lane] of this.lanes) {
      if (lane.running) continue;
      for (const entry of [...lane.entries]) if (now >= entry.enqueuedAt + this.expiryMs) this.settle(lane, entry, 'expired');
      if (lane.entries.length === 0) {
        lane.cancelTimer?.();
        this.lanes.delete(lk);
      }
    }
    this.store.maintain?.();
    this.updatePendingGauges();
    const oldest = new Map<string, number>();
    for (const lane of this.lanes.values()) {
      for (const entry of lane.entries) {
        const age = now - entry.enqueuedAt;
        if (age > (oldest.get(lane.notifier) ?? -1)) oldest.set(lane.notifier, age);
      }
    }
    for (const notifier of this.pendingByNotifier.keys()) {
      this.telemetry.set('sextant_outbox_oldest_pending_age_seconds', 'Age of the oldest undelivered notification, by notifier', (oldest.get(notifier) ?? 0) / 1000, { notifier });
    }
    this.telemetry.set('sextant_outbox_unwritten_records', 'Outbox records buffered in memory because the store could not be written', this.store.unwritten ?? 0);
  }

  private updatePendingGauges(only?: string): void {
    for (const [notifier, n] of this.pendingByNotifier) {
      if (only === undefined || only === notifier) this.telemetry.set('sextant_outbox_pending', 'Notifications waiting for delivery, by notifier', n, { notifier });
    }
  }

  /** Notifications not yet delivered, rejected or expired (all notifiers, attached or not). */
  get pending(): number {
    let n = 0;
    for (const v of this.pendingByNotifier.values()) n += v;
    return n;
  }

  /** Age in ms of the oldest undelivered notification (0 when none). */
  get oldestPendingAgeMs(): number {
    const now = this.clock.now();
    let oldest = 0;
    for (const lane of this.lanes.values()) for (const e of lane.entries) oldest = Math.max(oldest, now - e.enqueuedAt);
    return oldest;
  }

  /** Undelivered entries, for the API and tests: key, notifier, attempts, next attempt time. */
  entries(): readonly Readonly<Pick<OutboxEntry, 'notifier' | 'key' | 'attempts' | 'nextAttemptAt' | 'enqueuedAt'>>[] {
    const out: Pick<OutboxEntry, 'notifier' | 'key' | 'attempts' | 'nextAttemptAt' | 'enqueuedAt'>[] = [];
    for (const lane of this.lanes.values()) {
      for (const e of lane.entries) out.push({ notifier: e.notifier, key: e.key, attempts: e.attempts, nextAttemptAt: e.nextAttemptAt, enqueuedAt: e.enqueuedAt });
    }
    return out;
  }

  /**
   * Resolves when no deliver() call is in flight (for tests with a fake clock: advance, then wait
   * for the real I/O the due attempts started).
   */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdleWaiters(): void {
    if (this.inFlight !== 0 || this.idleWaiters.length === 0) return;
    // Let a lane that continues with its next entry start it before deciding we are idle.
    queueMicrotask(() => {
      if (this.inFlight !== 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    });
  }

  /**
   * Stops delivering and closes the store. Deliveries in flight get up to `graceMs` (real time) to
   * finish so their outcome is recorded; anything unfinished is delivered again after a restart.
   * Idempotent.
   */
  close(graceMs = 5000): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      if (this.opening !== undefined) await this.opening;
      if (this.inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.whenIdle(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
      }
      this.closed = true;
      this.cancelSweep?.();
      for (const lane of this.lanes.values()) lane.cancelTimer?.();
      if (this.opening !== undefined) await this.store.close();
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    })();
    return this.closing;
  }

}

function laneKey(notifier: string, incidentId: string): string {
  return `${notifier}\n${incidentId}`;
}
