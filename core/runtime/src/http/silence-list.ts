/**
 * GET /api/v1/silences: the silences and maintenance windows created through the API (POST
 * /api/v1/silences, /api/v1/maintenance), newest first, read back from the event log where they are
 * stored. `active` is true while `from <= now < until` by the runtime's clock. Those configured in
 * sextant.yaml live in the incident correlator's config and are not listed here.
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
}

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
  for (const e of events) {
    if (e.type !== 'silence' && e.type !== 'maintenance') continue;
    const from = toMs(e.attributes?.from, e.timestamp);
    const duration = e.attributes?.duration !== undefined ? Number(e.attributes.duration) : Number.NaN;
    const until = toMs(e.attributes?.until, Number.isFinite(duration) ? from + duration : Number.POSITIVE_INFINITY);
    out.push({ id: e.id, kind: e.type, match: e.resource, from, until, comment: e.title, active: from <= now && now < until });
  }
  return out.reverse();
}
