/**
 * Which notifications went out for an incident: per incident, one row per (notifier instance,
 * update sequence) with its latest outcome, for `GET /api/v1/incidents/{id}/notifications` and the
 * incident page. Kept in memory only and bounded: the newest `perIncident` rows of the
 * `incidents` incidents touched most recently (older ones are forgotten, oldest first). The
 * outbox itself, not this record, is what guarantees delivery.
 */

/**
 * - `pending`: queued or waiting for a retry (`error` says why the last attempt failed);
 * - `delivered`: the notifier accepted it;
 * - `failed`: refused by the receiver (not retryable) or expired undelivered;
 * - `held`: published with `notify: false` (a silence, maintenance, flapping, or an update meant
 *   only for the API and UI): never sent; `error` carries the update's reason.
 */
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'held';

export interface DeliveryRow {
  readonly notifier: string;
  readonly sequence: number;
  readonly change: 'opened' | 'updated' | 'resolved';
  readonly outcome: DeliveryState;
  /** Delivery attempts so far (0 while queued or held). */
  readonly attempts: number;
  /** When the outcome was last updated (ms since the epoch, runtime clock). */
  readonly at: number;
  readonly error?: string;
}

export interface DeliveryRecordLimits {
  /** Rows kept per incident (default 50). */
  readonly perIncident?: number;
  /** Incidents kept (default 1000). */
  readonly incidents?: number;
}

export class DeliveryRecord {
  /** Insertion order = least recently touched first, so eviction takes the first key. */
  private readonly byIncident = new Map<string, DeliveryRow[]>();
  private readonly perIncident: number;
  private readonly maxIncidents: number;

  constructor(limits: DeliveryRecordLimits = {}) {
    this.perIncident = Math.max(1, limits.perIncident ?? 50);
    this.maxIncidents = Math.max(1, limits.incidents ?? 1000);
  }

  /** Adds the row, or replaces the one of the same notifier and sequence. */
  note(incidentId: string, row: DeliveryRow): void {
    const rows = this.byIncident.get(incidentId) ?? [];
    this.byIncident.delete(incidentId);
    this.byIncident.set(incidentId, rows);
    const i = rows.findIndex((r) => r.notifier === row.notifier && r.sequence === row.sequence);
    if (i >= 0) rows.splice(i, 1);
    rows.push(row);
    if (rows.length > this.perIncident) rows.splice(0, rows.length - this.perIncident);
    while (this.byIncident.size > this.maxIncidents) this.byIncident.delete(this.byIncident.keys().next().value as string);
  }

  /** The rows of one incident, newest sequence first (empty when none are known). */
  of(incidentId: string): DeliveryRow[] {
    return [...(this.byIncident.get(incidentId) ?? [])].sort((a, b) => b.sequence - a.sequence || a.notifier.localeCompare(b.notifier));
  }

  get incidents(): number {
    return this.byIncident.size;
  }
}
