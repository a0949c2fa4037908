/**
 * GET /api/v1/silences: the silences and maintenance windows created through the API (POST
 * /api/v1/silences, /api/v1/maintenance), newest first, read back from the event log where they are
 * stored. `active` is true while `from <= now < until` by the runtime's clock. Those configured in
 * sextant.yaml live in the incident correlator's config and are not listed here. One ended early
 * (DELETE /api/v1/silences/{id}, stored as a `silence.end` / `maintenance.end` event naming it) has
 * `endedAt` and `until` set to that time.
 */
import type { Attributes } from '@sextant/plugin-api';
import type { StoredEvent } from '../pipeline/pipeline.js';

export interface SilenceView {
  readonly id: string;
  readonly kind: 'silence' | 'maintenance';
  readonly match: Attributes;
  readonly from: number;
  readonly until: number;
  readonly comment: string;
  readonly active: boolean;
  /** When it was ended early through the API. */
  readonly endedAt?: number;
}

/** The event types this list is made from. */
export const SILENCE_EVENT_TYPES: ReadonlySet<string> = new Set(['silence', 'maintenance', 'silence.end', 'maintenance.end']);

function toMs(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  return fallback;
}

export function silenceViews(events: readonly StoredEvent[], now: number): SilenceView[] {
  const out: SilenceView[] = [];
  const endedAt = new Map<unknown, number>();
  for (const e of events) if (e.type === 'silence.end' || e.type === 'maintenance.end') endedAt.set(e.attributes?.window, Math.min(endedAt.get(e.attributes?.window) ?? Infinity, e.timestamp));
  for (const e of events) {
    if (e.type !== 'silence' && e.type !== 'maintenance') continue;
    const from = toMs(e.attributes?.from, e.timestamp);
    const duration = e.attributes?.duration !== undefined ? Number(e.attributes.duration) : Number.NaN;
    const ended = endedAt.get(e.id);
    const planned = toMs(e.attributes?.until, Number.isFinite(duration) ? from + duration : Number.POSITIVE_INFINITY);
    const until = ended !== undefined && ended < planned ? Math.max(from, ended) : planned;
    out.push({ id: e.id, kind: e.type, match: e.resource, from, until, comment: e.title, active: from <= now && now < until, ...(ended !== undefined && ended < planned ? { endedAt: ended } : {}) });
  }
  return out.reverse();
}
