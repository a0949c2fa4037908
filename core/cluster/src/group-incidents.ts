/**
 * The group's incidents, silences and maintenance windows as every member's API sees them
 * (docs/architecture.md, "Scale-out"): read from Redis, so `GET /api/v1/incidents` and
 * `GET /api/v1/silences` answer the same on every member. The leader writes incidents (its commit
 * script); any member writes the silence and maintenance events its API or agents receive.
 *
 * GroupWindows keeps a copy of the windows refreshed every heartbeat, for synchronous readers:
 * `active()` lists the silences and maintenance windows in force (e.g. to pause a partition
 * detector's learning during maintenance).
 */
import type { Attributes, Incident, Logger } from '@sextant/plugin-api';
import { formatError } from '@sextant/plugin-api';
import type { DeliveryRow, GroupView, StoredEvent } from '@sextant/runtime';
import type { GroupKeys } from './group-keys.js';
import type { RedisLink } from './redis-link.js';

/** The event types kept in `{<group>:corr}:windows`. */
export const WINDOW_EVENT_TYPES: ReadonlySet<string> = new Set(['silence', 'maintenance', 'silence.end', 'maintenance.end']);

/** A silence or maintenance window of the group. */
export interface GroupWindow {
  readonly id: string;
  readonly kind: 'silence' | 'maintenance';
  readonly match: Attributes;
  readonly from: number;
  /** Planned end, or when it was ended early (DELETE /api/v1/silences/{id}). */
  readonly until: number;
  readonly comment: string;
}

/** Hash values as a list, whatever the protocol version (RESP2 flat array, RESP3 map, object). */
export function hashValues(reply: unknown): string[] {
  if (!reply) return [];
  if (reply instanceof Map) return [...reply.values()].map(String);
  if (Array.isArray(reply)) return reply.filter((_, i) => i % 2 === 1).map(String);
  if (typeof reply === 'object') return Object.values(reply as Record<string, unknown>).map(String);
  return [];
}

function parseAll<T>(values: readonly string[], valid: (v: unknown) => boolean): T[] {
  const out: T[] = [];
  for (const v of values) {
    try {
      const parsed: unknown = JSON.parse(v);
      if (valid(parsed)) out.push(parsed as T);
    } catch {
      // a damaged record is skipped (counted by the caller's view of what it got)
    }
  }
  return out;
}

const isIncident = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as Incident).id === 'string' && typeof (v as Incident).updatedAt === 'number';
const isEvent = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as StoredEvent).id === 'string' && typeof (v as StoredEvent).type === 'string';

function toMs(v: unknown, fallback: number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  return fallback;
}

/** Delivery rows read back from Redis; anything unreadable is an empty list. */
export function parseRows(raw: unknown): DeliveryRow[] {
  if (!raw) return [];
  try {
    const rows: unknown = JSON.parse(String(raw));
    return Array.isArray(rows) ? rows.filter((r): r is DeliveryRow => typeof r === 'object' && r !== null && typeof (r as DeliveryRow).notifier === 'string' && typeof (r as DeliveryRow).sequence === 'number') : [];
  } catch {
    return [];
  }
}

export function sortRows(rows: readonly DeliveryRow[]): DeliveryRow[] {
  return [...rows].sort((a, b) => b.sequence - a.sequence || a.notifier.localeCompare(b.notifier));
}

/** Windows from their events: planned bounds, cut short by a `*.end` event naming them. */
export function windowsOf(events: readonly StoredEvent[]): GroupWindow[] {
  const endedAt = new Map<unknown, number>();
  for (const e of events) if (e.type === 'silence.end' || e.type === 'maintenance.end') endedAt.set(e.attributes?.window, Math.min(endedAt.get(e.attributes?.window) ?? Infinity, e.timestamp));
  const out: GroupWindow[] = [];
  for (const e of events) {
    if (e.type !== 'silence' && e.type !== 'maintenance') continue;
    const from = toMs(e.attributes?.from, e.timestamp);
    const duration = e.attributes?.duration !== undefined ? Number(e.attributes.duration) : Number.NaN;
    const planned = toMs(e.attributes?.until, Number.isFinite(duration) ? from + duration : Number.POSITIVE_INFINITY);
    const ended = endedAt.get(e.id);
    out.push({ id: e.id, kind: e.type, match: e.resource, from, until: ended !== undefined && ended < planned ? Math.max(from, ended) : planned, comment: e.title });
  }
  return out;
}

export class GroupIncidentView implements GroupView {
  constructor(
    private readonly link: RedisLink,
    private readonly keys: GroupKeys,
  ) {}

  async incidents(): Promise<readonly Incident[]> {
    return parseAll<Incident>(hashValues(await this.link.call(this.keys.incidents, ['HGETALL', this.keys.incidents])), isIncident);
  }

  async incident(id: string): Promise<Incident | undefined> {
    const raw = await this.link.call<string | null>(this.keys.incidents, ['HGET', this.keys.incidents, id]);
    return raw ? parseAll<Incident>([String(raw)], isIncident)[0] : undefined;
  }

  /** Oldest first (the order events were stored in), like the runtime's event log. */
  async windowEvents(): Promise<readonly StoredEvent[]> {
    const events = parseAll<StoredEvent>(hashValues(await this.link.call(this.keys.windows, ['HGETALL', this.keys.windows])), isEvent);
    return events.sort((a, b) => a.timestamp - b.timestamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** What the leader's outbox did with the incident's updates, newest sequence first. */
  async notifications(incidentId: string): Promise<readonly DeliveryRow[]> {
    const raw = await this.link.call<string | null>(this.keys.deliveries, ['HGET', this.keys.deliveries, incidentId]);
    return sortRows(parseRows(raw));
  }

  /** Forgets windows that ended before `before` (ms), with their `*.end` events. Returns how many events went. */
  async forgetEnded(before: number): Promise<number> {
    const events = await this.windowEvents();
    const gone = new Set(windowsOf(events).filter((w) => w.until < before).map((w) => w.id));
    const ids = events.filter((e) => gone.has(e.id) || gone.has(String(e.attributes?.window))).map((e) => e.id);
    if (ids.length > 0) await this.link.call(this.keys.windows, ['HDEL', this.keys.windows, ...ids]);
    return ids.length;
  }

  /** Stores a silence / maintenance (or its end) event for every member to see. */
  async storeWindowEvent(event: StoredEvent): Promise<void> {
    await this.link.call(this.keys.windows, ['HSET', this.keys.windows, event.id, JSON.stringify(event)]);
  }
}

/**
 * The group's silences and maintenance windows, refreshed from Redis every heartbeat (and at once
 * when this member stores one). `active()` is synchronous: safe on hot paths.
 */
export class GroupWindows {
  private all: GroupWindow[] = [];
  private failing = false;

  constructor(
    private readonly view: GroupIncidentView,
    private readonly logger?: Logger,
  ) {}

  /** Every window known (ended ones too), as of the last refresh. */
  get windows(): readonly GroupWindow[] {
    return this.all;
  }

  /** Windows in force at `now` (default: this clock's now), optionally of one kind. */
  active(now = Date.now(), kind?: GroupWindow['kind']): GroupWindow[] {
    return this.all.filter((w) => w.from <= now && now < w.until && (!kind || w.kind === kind));
  }

  async refresh(): Promise<void> {
    try {
      this.all = windowsOf(await this.view.windowEvents());
      if (this.failing) this.logger?.info('cluster: silences and maintenance windows readable again');
      this.failing = false;
    } catch (e) {
      if (!this.failing) this.logger?.warn(`cluster: could not read the group's silences and maintenance windows: ${formatError(e)}; using the last copy`);
      this.failing = true;
    }
  }
}
