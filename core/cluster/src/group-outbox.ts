/**
 * The group's one notification outbox (`{<group>:corr}:outbox`, docs/architecture.md "Scale-out").
 *
 * Entries are written by the leader's commit script in the same step as the incident change and
 * the correlator checkpoint that produced them, one per (notifier instance, incident update) whose
 * route matches, keyed `<notifier> <incident id>:<sequence>` (the idempotency key receivers see).
 * So an update exists in the outbox exactly when the checkpoint covers it: a new leader neither
 * loses one nor makes it again.
 *
 * Only the leader delivers: on taking the lead it loads every undelivered entry (a dead leader's
 * too) and delivers them like the runtime's outbox: in sequence order per (notifier, incident),
 * retries with full-jitter backoff, `retryAfterMs` honoured, an expiry. A delivered entry is
 * deleted at once. An attempt starts only while the lease is surely ours, so a stalled leader
 * does not deliver beside its successor; what remains is the at-least-once window of a leader
 * killed between a delivery and its delete (milliseconds), which receivers drop by idempotency key.
 */
import { formatError, type IncidentUpdate, type Logger, type Notifier } from '@sextant/plugin-api';
import { fullJitterBackoffMs, routeMatches, type DeliveryRow, type NotificationRoute, type Runtime } from '@sextant/runtime';
import { hashValues, parseRows } from './group-incidents.js';
import type { RedisLink } from './redis-link.js';

export interface GroupOutboxEntry {
  readonly notifier: string;
  /** `<incident id>:<sequence>` */
  readonly key: string;
  readonly incidentId: string;
  readonly sequence: number;
  readonly update: IncidentUpdate;
  readonly enqueuedAt: number;
  attempts: number;
  nextAttemptAt: number;
}

export interface NotifierTarget {
  readonly id: string;
  readonly route: NotificationRoute | undefined;
}

export interface GroupOutboxOptions {
  readonly link: RedisLink;
  readonly key: string;
  /** Hash of delivery rows per incident (GET /api/v1/incidents/{id}/notifications on every member). */
  readonly deliveriesKey: string;
  readonly runtime: Runtime;
  readonly notifiers: readonly NotifierTarget[];
  /** True while this member surely leads (checked before every attempt). */
  readonly leads: () => boolean;
  readonly logger: Logger;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly expiryMs?: number;
  readonly attemptTimeoutMs?: number;
}

export const entryId = (e: { notifier: string; key: string }): string => `${e.notifier} ${e.key}`;

/** The outbox entries of incident updates: one per notifier whose route matches, none for `notify: false`. */
export function outboxEntriesFor(updates: readonly IncidentUpdate[], notifiers: readonly NotifierTarget[], now: number): GroupOutboxEntry[] {
  const out: GroupOutboxEntry[] = [];
  for (const update of updates) {
    if (update.notify === false) continue;
    for (const n of notifiers) {
      if (!routeMatches(n.route, update)) continue;
      out.push({ notifier: n.id, key: `${update.incident.id}:${update.sequence}`, incidentId: update.incident.id, sequence: update.sequence, update, enqueuedAt: now, attempts: 0, nextAttemptAt: now });
    }
  }
  return out;
}

export class GroupOutbox {
  readonly counters = { delivered: 0, failed: 0, rejected: 0, expired: 0, restored: 0 };
  /** entry id -> entry, while undelivered. */
  private readonly entries = new Map<string, GroupOutboxEntry>();
  /** `<notifier>\n<incident>` of lanes with an attempt in flight. */
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private stopped = false;
  /** Delivery rows per incident as last written (loaded from Redis on first touch), newest 1,000 incidents. */
  private readonly rows = new Map<string, DeliveryRow[]>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(private readonly options: GroupOutboxOptions) {}

  get pending(): number {
    return this.entries.size;
  }

  /** Loads every undelivered entry (previous leaders' included) and starts delivering. */
  async start(): Promise<void> {
    const { link, key } = this.options;
    for (const raw of hashValues(await link.call(key, ['HGETALL', key]))) {
      try {
        const e = JSON.parse(raw) as GroupOutboxEntry;
        if (typeof e.notifier !== 'string' || typeof e.key !== 'string' || typeof e.sequence !== 'number' || !e.update?.incident) throw new Error('fields missing');
        if (!this.entries.has(entryId(e))) {
          this.entries.set(entryId(e), e);
          this.counters.restored++;
        }
      } catch (err) {
        this.options.logger.warn(`cluster: skipped an unreadable group outbox record: ${formatError(err)}`);
      }
    }
    if (this.counters.restored > 0) this.options.logger.info(`cluster: ${this.counters.restored} undelivered notification(s) taken over from the group outbox`);
    this.timer = setInterval(() => this.pump(), 100);
    this.timer.unref();
    this.pump();
  }

  /** Entries the commit script has just written. */
  add(entries: readonly GroupOutboxEntry[]): void {
    for (const e of entries) {
      if (this.entries.has(entryId(e))) continue;
      this.entries.set(entryId(e), { ...e });
      this.note(e, 'pending');
    }
    this.pump();
  }

  /** Updates held back (`notify: false`: silence, maintenance, flapping) show as `held` for every notifier they would have reached. */
  held(updates: readonly IncidentUpdate[]): void {
    for (const u of updates) {
      if (u.notify !== false) continue;
      for (const n of this.options.notifiers) {
        if (routeMatches(n.route, u)) this.note({ notifier: n.id, incidentId: u.incident.id, sequence: u.sequence, update: u, attempts: 0 }, 'held', u.reason);
      }
    }
  }

  /** Records what happened to one notification, for every member's API (best effort; the leader is the one writer). */
  private note(e: Pick<GroupOutboxEntry, 'notifier' | 'incidentId' | 'sequence' | 'update' | 'attempts'>, outcome: DeliveryRow['outcome'], error?: string): void {
    const id = e.incidentId;
    const row: DeliveryRow = { notifier: e.notifier, sequence: e.sequence, change: e.update.change, outcome, attempts: e.attempts, at: Date.now(), ...(error ? { error } : {}) };
    const { link, deliveriesKey } = this.options;
    const apply = () => {
      const rows = (this.rows.get(id) ?? []).filter((r) => !(r.notifier === row.notifier && r.sequence === row.sequence));
      rows.push(row);
      if (rows.length > 50) rows.splice(0, rows.length - 50);
      this.rows.delete(id);
      this.rows.set(id, rows);
      while (this.rows.size > 1000) this.rows.delete(this.rows.keys().next().value as string);
      void link.call(deliveriesKey, ['HSET', deliveriesKey, id, JSON.stringify(rows)]).catch(() => undefined);
    };
    if (this.rows.has(id)) return apply();
    let loading = this.loading.get(id);
    if (!loading) {
      loading = link.call(deliveriesKey, ['HGET', deliveriesKey, id]).then(
        (raw) => void (this.rows.has(id) || this.rows.set(id, parseRows(raw))),
        () => void (this.rows.has(id) || this.rows.set(id, [])),
      );
      this.loading.set(id, loading);
      void loading.finally(() => this.loading.delete(id));
    }
    void loading.then(apply);
  }

  private pump(): void {
    if (this.stopped || !this.options.leads()) return;
    const now = Date.now();
    // The head of each (notifier, incident) lane: the lowest sequence still undelivered.
    const heads = new Map<string, GroupOutboxEntry>();
    for (const e of this.entries.values()) {
      const lane = `${e.notifier}\n${e.incidentId}`;
      const h = heads.get(lane);
      if (!h || e.sequence < h.sequence) heads.set(lane, e);
    }
    for (const [lane, e] of heads) {
      if (this.busy.has(lane) || e.nextAttemptAt > now) continue;
      this.busy.add(lane);
      this.inFlight++;
      void this.attempt(e).finally(() => {
        this.busy.delete(lane);
        this.inFlight--;
      });
    }
  }

  private async attempt(e: GroupOutboxEntry): Promise<void> {
    const { runtime, logger } = this.options;
    const labels = { notifier: e.notifier };
    const expiry = this.options.expiryMs ?? 24 * 3_600_000;
    if (Date.now() >= e.enqueuedAt + expiry) {
      this.counters.expired++;
      runtime.telemetry.add('sextant_notifications_expired_total', 'Notifications given up after the expiry without delivery', 1, labels);
      logger.warn(`${e.notifier}: ${e.key} expired undelivered after ${e.attempts} attempt(s)`);
      this.note(e, 'failed', `expired undelivered after ${e.attempts} attempt(s)`);
      await this.settle(e);
      return;
    }
    const notifier = runtime.component(e.notifier) as Notifier | undefined;
    if (!notifier || typeof notifier.deliver !== 'function') {
      e.nextAttemptAt = Date.now() + 5000; // not started (yet): the entry waits, and expires eventually
      return;
    }
    e.attempts++;
    let outcome: Awaited<ReturnType<Notifier['deliver']>>;
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.attemptTimeoutMs ?? 60_000;
    try {
      outcome = await Promise.race([
        Promise.resolve().then(() => notifier.deliver({ idempotencyKey: e.key, update: e.update, attempt: e.attempts })),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`deliver() did not settle within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      if (typeof outcome !== 'object' || outcome === null || typeof outcome.ok !== 'boolean') outcome = { ok: false, retryable: true, error: `deliver() returned ${JSON.stringify(outcome)}` };
    } catch (err) {
      outcome = { ok: false, retryable: true, error: formatError(err) };
    } finally {
      clearTimeout(timer);
    }
    if (outcome.ok) {
      this.counters.delivered++;
      runtime.telemetry.add('sextant_notifications_delivered_total', 'Notifications delivered, by notifier', 1, labels);
      const settled = this.settle(e);
      this.note(e, 'delivered');
      await settled;
      return;
    }
    this.counters.failed++;
    runtime.telemetry.add('sextant_notification_failures_total', 'Failed delivery attempts, by notifier', 1, labels);
    if (!outcome.retryable) {
      this.counters.rejected++;
      runtime.telemetry.add('sextant_notifications_rejected_total', 'Notifications refused permanently by the receiver (not retried)', 1, labels);
      logger.error(`${e.notifier}: gave up on ${e.key} after attempt ${e.attempts}: ${outcome.error} (not retryable)`);
      this.note(e, 'failed', `refused: ${outcome.error}`);
      await this.settle(e);
      return;
    }
    const delay = outcome.retryAfterMs !== undefined && Number.isFinite(outcome.retryAfterMs) && outcome.retryAfterMs >= 0 ? outcome.retryAfterMs : fullJitterBackoffMs(e.attempts, this.options.initialBackoffMs ?? 1000, this.options.maxBackoffMs ?? 300_000);
    e.nextAttemptAt = Date.now() + delay;
    this.note(e, 'pending', outcome.error);
    // Best effort: a successor that loads this entry starts from these attempts.
    await this.options.link.call(this.options.key, ['HSET', this.options.key, entryId(e), JSON.stringify(e)]).catch(() => undefined);
  }

  /** Deletes a delivered (or given up) entry; retried until Redis takes it, so it is not sent twice. */
  private async settle(e: GroupOutboxEntry): Promise<void> {
    this.entries.delete(entryId(e));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.options.link.call(this.options.key, ['HDEL', this.options.key, entryId(e)]);
        return;
      } catch (err) {
        if (attempt === 0) this.options.logger.warn(`cluster: could not remove delivered ${entryId(e)} from the group outbox: ${formatError(err)}; retrying`);
        if (this.stopped && attempt > 20) return;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  /** Stops starting attempts; waits up to `graceMs` for those in flight so their outcome is recorded. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const end = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  /** Stops at once (a crash as the group sees it; tests). */
  halt(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }
}
