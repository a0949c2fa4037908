/**
 * Events reach the partition detectors of every member, wherever they were received.
 *
 * A member's runtime hands the events it receives (agents, `POST /api/v1/events`, maintenance
 * windows posted to its API) to its own partition detectors through their stand-ins
 * (PartitionDetectors: onEvent, pauseLearning). This module also appends each of them to the
 * group stream `{<group>}:detector-events` (MAXLEN ~10,000, entries `m` = member, `e` = event
 * JSON) and reads the other members' entries from it, so a deploy announced to member A opens the
 * expected-change window on member B, and a maintenance window posted to A pauses learning on B:
 *
 *   - `maintenance` (with `attributes.until`, or `timestamp + attributes.duration`) pauses learning
 *     for the matching series until then, `maintenance.end` (`attributes.window` = the window's
 *     event id) resumes it, as the runtime's pipeline does for its own windows;
 *   - every event goes to the detectors' onEvent.
 *
 * A window may be ended on another member than the one it was posted to (any member's API ends a
 * group window): an end received from the stream resumes learning for a window this member's
 * pipeline paused, and an end this member's runtime receives resumes a window another member
 * posted (the pipeline only ends the windows it started).
 *
 * A member that joins reads the stream's history first: windows still in force pause its
 * detectors (and every partition it takes over later). The events of the last `recentMs`
 * (default 15 min, at most 1,000) are kept and replayed to a partition's instances when this member
 * takes the partition over, so a deploy's quiet period survives a take-over.
 */
import { formatError, type Logger, type SextantEvent } from '@sextant/plugin-api';
import type { Runtime, StoredEvent } from '@sextant/runtime';
import type { ClusterKeys } from './cluster-keys.js';
import type { PartitionDetectors } from './partition-detectors.js';
import type { RedisLink } from './redis-link.js';

const MAX_LEN = '10000';

interface Window {
  readonly id: string;
  readonly match: SextantEvent['resource'];
  readonly until: number;
  /** Posted to this member's runtime: its pipeline paused the detectors and ends it on time. */
  readonly own: boolean;
  /** Known from the group's record of windows (groupWindows), not from the stream. */
  readonly fromGroup?: boolean;
}

/** A maintenance window as the group's record lists it (GroupWindows.active() of the group correlation). */
export interface GroupMaintenanceWindow {
  readonly id: string;
  readonly kind: string;
  readonly match: SextantEvent['resource'];
  readonly until: number;
}

export interface GroupDetectorEventsOptions {
  readonly link: RedisLink;
  readonly keys: ClusterKeys;
  readonly memberId: string;
  readonly runtime: Runtime;
  readonly detectors: PartitionDetectors;
  readonly logger: Logger;
  /** Poll period of the stream (default 250 ms). */
  readonly pollMs?: number;
  /** How long events are kept for partitions taken over later (default 15 min). */
  readonly recentMs?: number;
}

/** Until when a maintenance event pauses learning (the pipeline's rule), or NaN. */
export function maintenanceUntil(event: SextantEvent): number {
  const attrs = event.attributes ?? {};
  if (attrs.until !== undefined) return typeof attrs.until === 'number' ? attrs.until : Date.parse(String(attrs.until));
  if (attrs.duration !== undefined) return event.timestamp + Number(attrs.duration);
  return Number.NaN;
}

export class GroupDetectorEvents {
  readonly counters = { published: 0, received: 0, publishFailed: 0, unreadable: 0 };
  /** Maintenance windows in force: this member's own (paused by its pipeline) and other members' (paused here). */
  private windows: Window[] = [];
  private lastId = '0-0';
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private stopped = false;
  private reading: Promise<void> | undefined;
  /**
   * The group's record of windows in force (the group correlation's GroupWindows), when there is
   * one: a window the stream no longer holds (trimmed, or posted before this member joined and
   * more than ~10,000 events ago) still pauses learning here.
   */
  groupWindows: (() => readonly GroupMaintenanceWindow[]) | undefined;
  /** Windows ended here, so a stale copy of the group's record does not start them again. */
  private readonly endedIds = new Set<string>();
  /** The group's recent events in arrival order (this member's and the others'). */
  private readonly recent: { at: number; event: StoredEvent }[] = [];

  constructor(private readonly options: GroupDetectorEventsOptions) {
    options.detectors.recentEvents = () => this.recentEvents();
  }

  /** Events of the last `recentMs`, oldest first. */
  recentEvents(): readonly { at: number; event: StoredEvent }[] {
    const since = Date.now() - (this.options.recentMs ?? 900_000);
    let drop = 0;
    while (drop < this.recent.length && this.recent[drop].at < since) drop++;
    if (drop) this.recent.splice(0, drop);
    return this.recent;
  }

  private remember(event: StoredEvent): void {
    this.recent.push({ at: Date.now(), event });
    if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
  }

  /** Reads the history (windows in force), then follows the stream and publishes this runtime's events. */
  async start(): Promise<void> {
    // The history includes this member's own entries: after a restart its runtime may not have them.
    await this.readAll(true).catch((e) => this.options.logger.warn(`cluster: reading the group's events failed: ${formatError(e)}; retrying`));
    this.unlisten = this.options.runtime.pipeline.onEvent((event) => {
      void this.publish(event);
      this.remember(event);
      if (event.type === 'maintenance') {
        const until = maintenanceUntil(event);
        if (Number.isFinite(until) && !this.windows.some((w) => w.id === event.id)) this.windows.push({ id: event.id, match: event.resource, until, own: true });
      }
      if (event.type === 'maintenance.end') this.end(event.attributes?.window, true);
    });
    const tick = () => {
      if (this.stopped) return;
      this.reading = this.readAll()
        .catch(() => undefined)
        .then(() => this.expire(Date.now()))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs ?? 250);
        });
    };
    this.timer = setTimeout(tick, this.options.pollMs ?? 250);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.unlisten?.();
    await this.reading;
  }

  /** Windows of other members in force on this member's detectors. */
  get remoteWindows(): readonly Window[] {
    return this.windows.filter((w) => !w.own);
  }

  /** Ends a window: resumes learning unless this member's pipeline does (its own window, ended here). */
  private end(id: unknown, endedHere: boolean): void {
    if (typeof id === 'string') {
      if (this.endedIds.size > 10_000) this.endedIds.clear();
      this.endedIds.add(id);
    }
    const ended = this.windows.filter((w) => w.id === id);
    if (ended.length === 0) return;
    this.windows = this.windows.filter((w) => w.id !== id);
    const proxies = this.options.detectors.ids.map((i) => this.options.detectors.proxy(i));
    for (const w of ended) if (!(w.own && endedHere)) for (const p of proxies) p.pauseLearning(w.match, false);
  }

  private async publish(event: StoredEvent): Promise<void> {
    const { link, keys, memberId } = this.options;
    try {
      await link.call(keys.events, ['XADD', keys.events, 'MAXLEN', '~', MAX_LEN, '*', 'm', memberId, 'e', JSON.stringify(event)]);
      this.counters.published++;
    } catch (e) {
      // The store is down: this member's own detectors have the event; the others miss it.
      this.counters.publishFailed++;
      this.options.logger.warn(`cluster: event ${event.id} (${event.type}) not shared with the group: ${formatError(e)}`);
    }
  }

  private async readAll(history = false): Promise<void> {
    const { link, keys } = this.options;
    for (;;) {
      const reply = await link.call<unknown>(keys.events, ['XREAD', 'COUNT', '500', 'STREAMS', keys.events, this.lastId]);
      const entries = streamEntries(reply);
      if (entries.length === 0) return;
      for (const [id, fields] of entries) {
        this.lastId = id;
        if (fields.m === this.options.memberId && !history) continue; // the pipeline gave it to the detectors
        let event: StoredEvent;
        try {
          event = JSON.parse(fields.e ?? '') as StoredEvent;
          if (!event || typeof event.type !== 'string' || typeof event.id !== 'string' || typeof event.resource !== 'object') throw new Error('not an event');
        } catch {
          this.counters.unreadable++;
          continue;
        }
        this.counters.received++;
        this.deliver(event);
        // History is remembered only when recent by its own time; a live entry is recent now.
        if (!history || event.timestamp > Date.now() - (this.options.recentMs ?? 900_000)) this.remember(event);
      }
    }
  }

  private deliver(event: StoredEvent): void {
    const now = Date.now();
    const proxies = this.options.detectors.ids.map((id) => this.options.detectors.proxy(id));
    if (event.type === 'maintenance') {
      const until = maintenanceUntil(event);
      if (Number.isFinite(until) && until > now && !this.windows.some((w) => w.id === event.id)) {
        this.windows.push({ id: event.id, match: event.resource, until, own: false });
        for (const p of proxies) p.pauseLearning(event.resource, true);
      }
    }
    if (event.type === 'maintenance.end') this.end(event.attributes?.window, false);
    for (const p of proxies) p.onEvent(event);
  }

  /** Starts the windows in force that only the group's record knows; ends those it no longer lists. */
  private adoptGroupWindows(now: number): void {
    const source = this.groupWindows?.();
    if (!source) return;
    const active = source.filter((w) => w.kind === 'maintenance' && w.until > now);
    const proxies = this.options.detectors.ids.map((id) => this.options.detectors.proxy(id));
    for (const w of active) {
      if (this.endedIds.has(w.id) || this.windows.some((x) => x.id === w.id)) continue;
      this.windows.push({ id: w.id, match: w.match, until: w.until, own: false, fromGroup: true });
      for (const p of proxies) p.pauseLearning(w.match, true);
    }
    for (const w of this.windows.filter((x) => x.fromGroup && !active.some((a) => a.id === x.id))) this.end(w.id, false);
  }

  private expire(now: number): void {
    this.adoptGroupWindows(now);
    const ended = this.windows.filter((w) => w.until <= now);
    if (ended.length === 0) return;
    this.windows = this.windows.filter((w) => w.until > now);
    const proxies = this.options.detectors.ids.map((id) => this.options.detectors.proxy(id));
    // This member's own windows are ended by its pipeline's tick.
    for (const w of ended) if (!w.own) for (const p of proxies) p.pauseLearning(w.match, false);
  }
}

/** `[id, {field: value}]` of an XREAD reply (RESP2 arrays or RESP3 maps), one stream. */
function streamEntries(reply: unknown): [string, Record<string, string>][] {
  if (!reply) return [];
  let list: unknown;
  if (Array.isArray(reply)) list = (reply[0] as unknown[] | undefined)?.[1];
  else if (reply instanceof Map) list = [...reply.values()][0];
  else if (typeof reply === 'object') list = Object.values(reply)[0];
  if (!Array.isArray(list)) return [];
  const out: [string, Record<string, string>][] = [];
  for (const e of list) {
    if (!Array.isArray(e) || e.length < 2) continue;
    const raw = e[1];
    const fields: Record<string, string> = {};
    if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) fields[String(raw[i])] = String(raw[i + 1]);
    else if (raw instanceof Map) for (const [k, v] of raw) fields[String(k)] = String(v);
    else if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) fields[String(k)] = String(v);
    out.push([String(e[0]), fields]);
  }
  return out;
}
