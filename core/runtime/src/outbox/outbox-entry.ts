/**
 * One outbox entry: one incident update waiting for delivery to one notifier instance.
 *
 * Invariants:
 * - `(notifier, key)` is unique; `key` is the idempotency key `<incident id>:<sequence>` that the
 *   receiver sees, so a receiver can drop the duplicates that at-least-once delivery allows.
 * - Entries of one `(notifier, incident)` are attempted strictly in `sequence` order: an update is
 *   not attempted before the previous one was delivered, rejected or expired.
 * - Times are milliseconds since the Unix epoch on the runtime's clock.
 */
import type { IncidentUpdate } from '@sextant/plugin-api';

export interface OutboxEntry {
  /** Notifier instance id (`webhook/ops`). */
  readonly notifier: string;
  /** Idempotency key, `<incident id>:<sequence>`. */
  readonly key: string;
  readonly incidentId: string;
  readonly sequence: number;
  readonly update: IncidentUpdate;
  /** When the entry was first enqueued; expiry counts from here, across restarts. */
  readonly enqueuedAt: number;
  /** Delivery attempts started so far (0 before the first). */
  attempts: number;
  /** Earliest time of the next attempt. */
  nextAttemptAt: number;
}

/** Why an entry left the outbox. */
export type OutboxSettlement = 'delivered' | 'rejected' | 'expired';

/** The idempotency key of an incident update, as receivers see it. */
export function idempotencyKeyOf(update: IncidentUpdate): string {
  return `${update.incident.id}:${update.sequence}`;
}

/** Store-wide unique id of an entry. Notifier ids never contain a space (see instanceSpecs). */
export function outboxEntryId(entry: { readonly notifier: string; readonly key: string }): string {
  return `${entry.notifier} ${entry.key}`;
}

/**
 * Checks a value read back from a store (journal line, Redis hash field) before it is trusted:
 * a torn or hand-edited record must be skipped and counted, never crash the replay.
 * Returns a reason when the value is not a usable entry.
 */
export function invalidEntryReason(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const e = value as Record<string, unknown>;
  if (typeof e.notifier !== 'string' || e.notifier === '') return 'notifier missing';
  if (typeof e.key !== 'string' || e.key === '') return 'key missing';
  if (typeof e.incidentId !== 'string' || e.incidentId === '') return 'incidentId missing';
  if (typeof e.sequence !== 'number' || !Number.isFinite(e.sequence)) return 'sequence not a finite number';
  if (typeof e.enqueuedAt !== 'number' || !Number.isFinite(e.enqueuedAt)) return 'enqueuedAt not a finite number';
  if (typeof e.attempts !== 'number' || !Number.isInteger(e.attempts) || e.attempts < 0) return 'attempts not a non-negative integer';
  if (typeof e.nextAttemptAt !== 'number' || !Number.isFinite(e.nextAttemptAt)) return 'nextAttemptAt not a finite number';
  const update = e.update as Record<string, unknown> | undefined;
  const incident = update?.incident as Record<string, unknown> | undefined;
  if (typeof update !== 'object' || update === null || typeof incident !== 'object' || incident === null) return 'update.incident missing';
  if (incident.id !== e.incidentId || update.sequence !== e.sequence) return 'update does not match incidentId/sequence';
  return undefined;
}
