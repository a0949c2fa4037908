/**
 * Delivers incident updates to every attached notifier, in order per incident, with retries
 * (exponential backoff with jitter, capped) and an expiry. Each delivery carries an idempotency
 * key `<incident id>:<sequence>` so receivers can drop duplicates.
 *
 * This in-memory queue is the embedded default; a durable outbox can replace it behind the same
 * attach()/enqueue interface.
 */
import { formatError, type Clock, type HealthState, type IncidentUpdate, type Logger, type Notifier } from '@sextant/plugin-api';
import type { Pipeline } from './pipeline.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';

interface Pending {
  readonly update: IncidentUpdate;
  readonly key: string;
  attempt: number;
  readonly firstAt: number;
}

interface Target {
  readonly id: string;
  readonly notifier: Notifier;
  readonly setStatus: (state: HealthState, message?: string) => void;
  /** Per incident, updates waiting, oldest first. */
  readonly queues: Map<string, Pending[]>;
  readonly busy: Set<string>;
}

export interface DispatcherOptions {
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Give up on an update after this long (counted as expired). */
  readonly expiryMs?: number;
}

export class NotificationDispatcher {
  private targets: Target[] = [];
  private closed = false;
  private readonly timers = new Set<() => void>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly expiryMs: number;

  constructor(
    pipeline: Pipeline,
    private readonly telemetry: SelfTelemetry,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: DispatcherOptions = {},
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 300_000;
    this.expiryMs = options.expiryMs ?? 24 * 3_600_000;
    pipeline.onIncident((update) => this.enqueue(update));
  }

  attach(id: string, notifier: Notifier, setStatus: Target['setStatus']): () => void {
    const target: Target = { id, notifier, setStatus, queues: new Map(), busy: new Set() };
    this.targets.push(target);
    return () => void (this.targets = this.targets.filter((t) => t !== target));
  }

  enqueue(update: IncidentUpdate): void {
    if (this.closed) return;
    if (update.notify === false) {
      this.telemetry.add('sextant_notifications_held_total', 'Incident updates stored but not delivered (silenced, maintenance)', 1);
      return;
    }
    const key = `${update.incident.id}:${update.sequence}`;
    for (const t of this.targets) {
      let q = t.queues.get(update.incident.id);
      if (!q) t.queues.set(update.incident.id, (q = []));
      q.push({ update, key, attempt: 0, firstAt: this.clock.now() });
      this.telemetry.add('sextant_notifications_queued_total', 'Notifications queued, by notifier', 1, { notifier: t.id });
      void this.drain(t, update.incident.id);
    }
  }

  private async drain(t: Target, incidentId: string): Promise<void> {
    if (t.busy.has(incidentId)) return;
    t.busy.add(incidentId);
    try {
      const q = t.queues.get(incidentId);
      while (q && q.length > 0 && !this.closed) {
        const item = q[0];
        if (this.clock.now() - item.firstAt > this.expiryMs) {
          q.shift();
          this.telemetry.add('sextant_notifications_expired_total', 'Notifications given up after the expiry', 1, { notifier: t.id });
          continue;
        }
        item.attempt++;
        let outcome;
        try {
          outcome = await t.notifier.deliver({ idempotencyKey: item.key, update: item.update, attempt: item.attempt });
        } catch (e) {
          outcome = { ok: false as const, retryable: true, error: formatError(e) };
        }
        if (outcome.ok) {
          q.shift();
          this.telemetry.add('sextant_notifications_delivered_total', 'Notifications delivered, by notifier', 1, { notifier: t.id });
          t.setStatus('ok');
          continue;
        }
        this.telemetry.add('sextant_notification_failures_total', 'Failed delivery attempts, by notifier', 1, { notifier: t.id });
        t.setStatus('degraded', `delivery of ${item.key} failed: ${outcome.error}`);
        if (!outcome.retryable) {
          q.shift();
          this.logger.error(`${t.id}: gave up on ${item.key}: ${outcome.error}`);
          this.telemetry.add('sextant_notifications_rejected_total', 'Notifications refused permanently by the receiver', 1, { notifier: t.id });
          continue;
        }
        const backoff = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (item.attempt - 1));
        const delay = outcome.retryAfterMs ?? backoff / 2 + Math.random() * (backoff / 2);
        await new Promise<void>((resolve) => {
          const cancel = this.clock.setTimeout(() => {
            this.timers.delete(cancel);
            resolve();
          }, delay);
          this.timers.add(() => {
            cancel();
            resolve();
          });
        });
      }
    } finally {
      t.busy.delete(incidentId);
    }
  }

  /** Notifications not yet delivered. */
  get pending(): number {
    let n = 0;
    for (const t of this.targets) for (const q of t.queues.values()) n += q.length;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }
}
