/**
 * The incident correlator: one incident per problem, the likely cause first, and quiet when
 * nothing new is happening. It is also Sextant's one noise-control layer, for detector anomalies
 * and static threshold rules alike:
 *
 * - confirmation: an anomaly below `confirm.immediateScore` needs `confirm.count` anomalies on the
 *   same series within `confirm.within` before it can open an incident (a `level-shift` or
 *   `exhaustion` is already a confirmed persistent change and needs none, except right after a
 *   change event);
 * - dedup: more anomalies of a series already in an open incident update it silently;
 * - grouping: anomalies within `groupWindow` of an open incident that are connected to it (same
 *   entity, host, service or peer group; a topology edge either way) join it;
 * - topology-aware inhibition: while a host is down, its containers' anomalies join the host's
 *   incident as inhibited; while a dependency is failing, its callers' symptoms join its incident;
 * - hysteresis and flap damping: an incident resolves only after `resolveAfter` without anomalies;
 *   one that comes back within `reopenWindow` is reopened, not duplicated, its hold time doubles
 *   with every flap, and after `flap.max` flaps within `flap.window` its updates are held back;
 * - silences and maintenance windows (config, or `silence` / `maintenance` events through the API,
 *   matching resource attributes): incidents still form and are visible, updates are not delivered
 *   (`notify: false`); maintenance also pauses the detectors' learning (the runtime forwards it);
 *   a `silence.end` / `maintenance.end` event whose `attributes.window` is the window's event id ends it early;
 * - re-notification every `renotifyEvery` while an incident stays open.
 *
 * Every suppression is counted on the incident (`suppressed`), so `GET /api/v1/incidents/{id}`
 * explains what was held back and why.
 */
import { z } from 'zod';
import {
  ErrorCode,
  createCorrelatorFactory,
  type Anomaly,
  type Attributes,
  type Correlator,
  type CorrelatorContext,
  type ImpactClass,
  type Incident,
  type LikelyCause,
  type Severity,
  type SextantEvent,
  type Suppression,
  type TimelineEntry,
} from '@sextant/plugin-api';
import { durationMs } from '@sextant/plugin-kit';
import { combineImpact, impactOf } from './impact.js';
import { rankLikelyCauses } from './likely-causes.js';

const duration = durationMs();

const windowSchema = z.object({
  match: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  from: z.union([z.number(), z.string()]).optional(),
  until: z.union([z.number(), z.string()]).optional(),
  comment: z.string().optional(),
});

export const incidentConfigSchema = z.object({
  groupWindow: duration,
  resolveAfter: duration,
  reopenWindow: duration,
  changeLookback: duration,
  /** After a deploy/config run/scale of a service, its anomalies need `confirm.count + 2` hits (a short blip is expected). */
  expectedChange: duration,
  renotifyEvery: duration,
  confirm: z.object({ count: z.number().int().min(1), within: duration, immediateScore: z.number().min(0).max(1) }),
  flap: z.object({ max: z.number().int().min(1), window: duration }),
  maxAnomaliesPerIncident: z.number().int().min(10),
  silences: z.array(windowSchema),
  maintenance: z.array(windowSchema),
});
export type IncidentConfig = z.output<typeof incidentConfigSchema>;

export const INCIDENT_DEFAULTS: z.input<typeof incidentConfigSchema> = {
  groupWindow: '5m',
  resolveAfter: '10m',
  // Longer than the baseline's level-shift confirmation (`confirmMs`, 1 h): a spike that turns out
  // to be a lasting shift is reported again then, and belongs to the incident the spike opened.
  reopenWindow: '90m',
  changeLookback: '30m',
  expectedChange: '10m',
  renotifyEvery: '4h',
  confirm: { count: 2, within: '5m', immediateScore: 0.9 },
  flap: { max: 3, window: '1h' },
  maxAnomaliesPerIncident: 500,
  silences: [],
  maintenance: [],
};

interface Window {
  /** The id of the `silence` / `maintenance` event that made it (run-time windows only); a `<type>.end` event names it. */
  readonly id?: string;
  readonly match: Attributes;
  readonly from: number;
  /** Ends early when a `silence.end` / `maintenance.end` event names the window. */
  until: number;
  readonly comment: string;
  readonly kind: 'silenced' | 'maintenance';
  /** Config windows are rebuilt from the config at start; only those added at run time are kept in snapshots. */
  readonly origin?: 'config';
}

interface SeriesState {
  hits: number[];
  incident?: string;
}

interface IncidentState {
  readonly id: string;
  status: 'open' | 'resolved';
  openedAt: number;
  updatedAt: number;
  resolvedAt?: number;
  lastAnomalyAt: number;
  lastNotifiedAt: number;
  sequence: number;
  impact: ImpactClass;
  severity: Severity;
  readonly entities: Set<string>;
  readonly hosts: Set<string>;
  readonly services: Set<string>;
  readonly peerGroups: Set<string>;
  readonly anomalies: Anomaly[];
  readonly anomalyIds: string[];
  readonly eventIds: Set<string>;
  readonly suppressed: Map<string, { reason: Suppression['reason']; detail: string; count: number }>;
  readonly timeline: TimelineEntry[];
  causes: LikelyCause[];
  title: string;
  flaps: number[];
  /** Host entity reported down (its containers are inhibited). */
  hostDown?: string;
  held: boolean;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const AVAILABILITY = /(^|\.)(up|availability|reachable)$/;

function parseTime(v: number | string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v === 'number') return v;
  const t = Date.parse(v);
  return Number.isNaN(t) ? dflt : t;
}

/** Snapshot format of the correlator's state; another tag is refused (learning what is open starts again). */
const SNAPSHOT_TAG = 'sextant-incidents/1';

type SerialisedIncident = Omit<IncidentState, 'entities' | 'hosts' | 'services' | 'peerGroups' | 'eventIds' | 'suppressed'> & {
  entities: string[];
  hosts: string[];
  services: string[];
  peerGroups: string[];
  eventIds: string[];
  suppressed: [string, { reason: Suppression['reason']; detail: string; count: number }][];
};

interface SerialisedState {
  tag: string;
  open: SerialisedIncident[];
  recentlyResolved: SerialisedIncident[];
  series: [number, SeriesState][];
  windows: Window[];
  events: SextantEvent[];
  downHosts: [string, string][];
}

function serialiseIncident(inc: IncidentState): SerialisedIncident {
  return {
    ...inc,
    entities: [...inc.entities],
    hosts: [...inc.hosts],
    services: [...inc.services],
    peerGroups: [...inc.peerGroups],
    eventIds: [...inc.eventIds],
    suppressed: [...inc.suppressed.entries()],
  };
}

function reviveIncident(x: SerialisedIncident): IncidentState {
  if (typeof x?.id !== 'string' || (x.status !== 'open' && x.status !== 'resolved') || !Array.isArray(x.anomalies) || !Array.isArray(x.timeline)) {
    throw new RangeError('an incident in the snapshot lacks its id, status, anomalies or timeline');
  }
  return {
    ...x,
    entities: new Set(x.entities),
    hosts: new Set(x.hosts),
    services: new Set(x.services),
    peerGroups: new Set(x.peerGroups),
    eventIds: new Set(x.eventIds),
    suppressed: new Map(x.suppressed),
  };
}

/** JSON has no Infinity: an open-ended window is written as null. */
function reviveWindow(w: Window): Window {
  return { ...w, until: typeof w.until === 'number' ? w.until : Number.POSITIVE_INFINITY };
}

function matches(match: Attributes, resource: Attributes, attributes: Attributes = {}): boolean {
  return Object.entries(match).every(([k, v]) => String(resource[k] ?? attributes[k]) === String(v));
}

let incidentCounter = 0;

export class IncidentCorrelator implements Correlator {
  private readonly open = new Map<string, IncidentState>();
  private recentlyResolved: IncidentState[] = [];
  private readonly series = new Map<number, SeriesState>();
  private windows: Window[] = [];
  private readonly events: SextantEvent[] = [];
  private readonly downHosts = new Map<string, string>();
  /** Counters a test or the demo reads: anomalies in, incidents opened, updates published. */
  readonly stats = { anomaliesIn: 0, incidentsOpened: 0, updatesPublished: 0, suppressed: 0 };

  constructor(private readonly ctx: CorrelatorContext<IncidentConfig>) {
    for (const w of ctx.config.silences) this.windows.push({ match: w.match, from: parseTime(w.from, 0), until: parseTime(w.until, Number.POSITIVE_INFINITY), comment: w.comment ?? 'silenced in config', kind: 'silenced', origin: 'config' });
    for (const w of ctx.config.maintenance) this.windows.push({ match: w.match, from: parseTime(w.from, 0), until: parseTime(w.until, Number.POSITIVE_INFINITY), comment: w.comment ?? 'maintenance window in config', kind: 'maintenance', origin: 'config' });
  }

  private entityOf(a: Pick<Anomaly, 'resource' | 'seriesId'>): string {
    return this.ctx.topology.entityOf(a.resource) ?? `series:${a.seriesId}`;
  }

  private countSuppressed(inc: IncidentState | undefined, reason: Suppression['reason'], detail: string): void {
    this.stats.suppressed++;
    this.ctx.metrics.counter('suppressed_total', 'Anomalies and updates held back by noise control').add(1, { reason: String(reason) });
    if (!inc) return;
    const key = `${reason}\u0000${detail}`;
    const s = inc.suppressed.get(key);
    if (s) s.count++;
    else inc.suppressed.set(key, { reason, detail, count: 1 });
  }

  private activeWindow(resource: Attributes, attributes: Attributes, at: number): Window | undefined {
    return this.windows.find((w) => w.from <= at && at < w.until && matches(w.match, resource, attributes));
  }

  onEvent(event: SextantEvent): void {
    this.events.push(event);
    if (this.events.length > 5000) this.events.splice(0, this.events.length - 5000);
    if (event.type === 'silence' || event.type === 'maintenance') {
      const attrs = event.attributes ?? {};
      const from = parseTime(attrs.from as number | string | undefined, event.timestamp);
      const dur = attrs.duration !== undefined ? Number(attrs.duration) : undefined;
      const until = parseTime(attrs.until as number | string | undefined, dur !== undefined && Number.isFinite(dur) ? from + dur : Number.POSITIVE_INFINITY);
      this.windows.push({ ...(event.id ? { id: event.id } : {}), match: event.resource, from, until, comment: event.title, kind: event.type === 'silence' ? 'silenced' : 'maintenance' });
      return;
    }
    if (event.type === 'silence.end' || event.type === 'maintenance.end') {
      // Ends the window made by the event named in `attributes.window`; tick() then forgets it.
      const id = event.attributes?.window;
      for (const w of this.windows) if (w.id !== undefined && w.id === id && w.until > event.timestamp) w.until = Math.max(w.from, event.timestamp);
      return;
    }
    if (event.type === 'host.down' && event.resource['host.name'] !== undefined) {
      this.downHosts.set(`host:${String(event.resource['host.name'])}`, event.title);
    }
    if (event.type === 'host.up' && event.resource['host.name'] !== undefined) this.downHosts.delete(`host:${String(event.resource['host.name'])}`);
    const entity = this.ctx.topology.entityOf(event.resource);
    for (const inc of this.open.values()) {
      if (entity && (inc.entities.has(entity) || (event.resource['service.name'] !== undefined && inc.services.has(String(event.resource['service.name']))))) {
        inc.eventIds.add(event.id ?? event.title);
        this.addTimeline(inc, { timestamp: event.timestamp, kind: 'event', message: event.title, ...(event.id ? { ref: event.id } : {}) });
        this.publishQuietly(inc, `event: ${event.title}`);
      }
    }
  }

  onAnomaly(a: Anomaly): void {
    this.stats.anomaliesIn++;
    this.ctx.metrics.counter('anomalies_in_total', 'Anomalies received by the correlator').add(1, { detector: a.detector });
    const entity = this.entityOf(a);
    const state = this.series.get(a.seriesId) ?? { hits: [] };
    this.series.set(a.seriesId, state);
    const current = state.incident ? this.open.get(state.incident) : undefined;
    if (current) {
      this.attach(current, a, entity);
      this.countSuppressed(current, 'duplicate', `more anomalies of ${a.metric} on ${entity}`);
      return;
    }
    const cfg = this.ctx.config;
    const window = this.activeWindow(a.resource, a.attributes, a.timestamp);
    // Inhibition: a down host or a failing dependency owns this symptom.
    const inhibitor = this.inhibitorFor(a, entity);
    if (inhibitor) {
      state.incident = inhibitor.inc.id;
      const impactBefore = inhibitor.inc.impact;
      this.attach(inhibitor.inc, a, entity);
      this.countSuppressed(inhibitor.inc, 'inhibited', inhibitor.why);
      // the symptom is held back, but what it costs is news (a backend incident now loses orders)
      if (inhibitor.inc.impact !== impactBefore) this.publish(inhibitor.inc, 'updated', `${inhibitor.inc.impact} impact: ${a.message}`);
      return;
    }
    // Confirmation (N anomalies within a window) unless the score is decisive or the detector has
    // already confirmed persistence (a level shift is a run of excursions, exhaustion a growth
    // trend); more right after a change, where a new level may be the expected result.
    const change = this.recentChange(a, entity);
    const persistent = a.kind === 'level-shift' || a.kind === 'exhaustion';
    if (change || (a.score < cfg.confirm.immediateScore && !persistent)) {
      const needed = cfg.confirm.count + (change ? 2 : 0);
      state.hits = state.hits.filter((t) => a.timestamp - t <= cfg.confirm.within);
      state.hits.push(a.timestamp);
      if (state.hits.length < needed) {
        this.countSuppressed(undefined, change ? 'expected-change' : 'confirmation', `${a.metric} on ${entity}: ${state.hits.length}/${needed}${change ? ` (${change.title})` : ''}`);
        return;
      }
    }
    state.hits = [];
    const group = this.groupFor(a, entity);
    if (group) {
      state.incident = group.id;
      const isNew = !group.entities.has(entity);
      const impactBefore = group.impact;
      this.attach(group, a, entity);
      if (isNew) this.publish(group, 'updated', `new anomaly on ${entity}: ${a.message}`);
      else if (group.impact !== impactBefore) this.publish(group, 'updated', `${group.impact} impact: ${a.message}`);
      return;
    }
    const reopened = this.recentlyResolved.find((r) => r.entities.has(entity) && a.timestamp - (r.resolvedAt ?? 0) <= cfg.reopenWindow);
    const inc = reopened ? this.reopen(reopened, a.timestamp) : this.create(a.timestamp);
    state.incident = inc.id;
    if (window) {
      inc.held = true;
      this.countSuppressed(inc, window.kind, window.comment);
    }
    this.attach(inc, a, entity);
    if (reopened) {
      const flapping = inc.flaps.length > cfg.flap.max;
      if (flapping) this.countSuppressed(inc, 'flapping', `reopened ${inc.flaps.length} times within ${Math.round(cfg.flap.window / 60_000)} min`);
      this.publish(inc, 'updated', `reopened: ${a.message}`, flapping ? false : undefined);
    } else {
      this.stats.incidentsOpened++;
      this.ctx.metrics.counter('incidents_opened_total', 'Incidents opened').add(1);
      this.publish(inc, 'opened', a.message);
    }
  }

  /** A deploy / config run / scale of the anomaly's service or entity shortly before it. */
  private recentChange(a: Anomaly, entity: string): SextantEvent | undefined {
    const win = this.ctx.config.expectedChange;
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if (a.timestamp - e.timestamp > win) break;
      if (e.timestamp > a.timestamp || !['deploy', 'config.run', 'scale', 'rollout'].includes(e.type)) continue;
      const svc = e.resource['service.name'];
      if ((svc !== undefined && a.resource['service.name'] === svc) || this.ctx.topology.entityOf(e.resource) === entity) return e;
    }
    return undefined;
  }

  private inhibitorFor(a: Anomaly, entity: string): { inc: IncidentState; why: string } | undefined {
    const host = a.resource['host.name'] !== undefined ? `host:${String(a.resource['host.name'])}` : undefined;
    const runsOn = this.ctx.topology.edges({ from: entity, type: 'runs-on' }).map((e) => e.to);
    const hosts = new Set([...(host && entity !== host ? [host] : []), ...runsOn]);
    for (const inc of this.open.values()) {
      if (inc.hostDown && hosts.has(inc.hostDown)) return { inc, why: `${inc.hostDown} is down; alerts of what runs on it are inhibited` };
    }
    for (const h of hosts) {
      if (this.downHosts.has(h)) {
        const inc = [...this.open.values()].find((i) => i.entities.has(h));
        if (inc) return { inc, why: `${h} is down (${this.downHosts.get(h)})` };
      }
    }
    const deps = this.ctx.topology.edges({ from: entity }).filter((e) => e.type === 'calls' || e.type === 'depends-on').map((e) => e.to);
    for (const dep of deps) {
      for (const inc of this.open.values()) {
        if (inc.entities.has(dep) && !inc.entities.has(entity) && inc.openedAt <= a.timestamp) return { inc, why: `${entity} depends on ${dep}, which is failing; its symptoms are inhibited` };
      }
    }
    return undefined;
  }

  private groupFor(a: Anomaly, entity: string): IncidentState | undefined {
    const cfg = this.ctx.config;
    const host = a.resource['host.name'] !== undefined ? String(a.resource['host.name']) : undefined;
    const service = a.resource['service.name'] !== undefined ? String(a.resource['service.name']) : undefined;
    const neighbours = new Set([...this.ctx.topology.edges({ from: entity }).map((e) => e.to), ...this.ctx.topology.edges({ to: entity }).map((e) => e.from)]);
    let best: IncidentState | undefined;
    for (const inc of this.open.values()) {
      if (a.timestamp - inc.lastAnomalyAt > cfg.groupWindow) continue;
      const connected =
        inc.entities.has(entity) ||
        (host !== undefined && inc.hosts.has(host)) ||
        (service !== undefined && inc.services.has(service)) ||
        (a.peerGroup !== undefined && inc.peerGroups.has(a.peerGroup)) ||
        [...neighbours].some((n) => inc.entities.has(n));
      if (connected && (!best || inc.lastAnomalyAt > best.lastAnomalyAt)) best = inc;
    }
    return best;
  }

  private create(at: number): IncidentState {
    const inc: IncidentState = {
      id: `inc-${at.toString(36)}-${(incidentCounter++).toString(36)}`,
      status: 'open',
      openedAt: at,
      updatedAt: at,
      lastAnomalyAt: at,
      lastNotifiedAt: at,
      sequence: 0,
      impact: 'infrastructure',
      severity: 'info',
      entities: new Set(),
      hosts: new Set(),
      services: new Set(),
      peerGroups: new Set(),
      anomalies: [],
      anomalyIds: [],
      eventIds: new Set(),
      suppressed: new Map(),
      timeline: [],
      causes: [],
      title: '',
      flaps: [],
      held: false,
    };
    this.open.set(inc.id, inc);
    return inc;
  }

  private reopen(inc: IncidentState, at: number): IncidentState {
    this.recentlyResolved.splice(this.recentlyResolved.indexOf(inc), 1);
    inc.status = 'open';
    inc.resolvedAt = undefined;
    inc.flaps = [...inc.flaps.filter((t) => at - t <= this.ctx.config.flap.window), at];
    this.addTimeline(inc, { timestamp: at, kind: 'status', message: `reopened (${inc.flaps.length} time${inc.flaps.length === 1 ? '' : 's'} within the flap window)` });
    this.open.set(inc.id, inc);
    return inc;
  }

  private addTimeline(inc: IncidentState, entry: TimelineEntry): void {
    inc.timeline.push(entry);
    if (inc.timeline.length > 200) inc.timeline.splice(1, inc.timeline.length - 200);
  }

  private attach(inc: IncidentState, a: Anomaly, entity: string): void {
    const isNewEntity = !inc.entities.has(entity);
    inc.entities.add(entity);
    if (a.resource['host.name'] !== undefined) inc.hosts.add(String(a.resource['host.name']));
    if (a.resource['service.name'] !== undefined) inc.services.add(String(a.resource['service.name']));
    if (a.peerGroup) inc.peerGroups.add(a.peerGroup);
    if (entity.startsWith('host:') && AVAILABILITY.test(a.metric) && a.value <= 0) inc.hostDown = entity;
    if (entity.startsWith('host:') && this.downHosts.has(entity)) inc.hostDown = entity;
    inc.lastAnomalyAt = Math.max(inc.lastAnomalyAt, a.timestamp);
    inc.updatedAt = Math.max(inc.updatedAt, a.timestamp);
    inc.impact = combineImpact(inc.impact, impactOf(a));
    if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[inc.severity]) inc.severity = a.severity;
    if (inc.anomalies.length < this.ctx.config.maxAnomaliesPerIncident) {
      inc.anomalies.push(a);
      inc.anomalyIds.push(a.id);
    }
    if (isNewEntity || inc.timeline.length === 0) this.addTimeline(inc, { timestamp: a.timestamp, kind: 'anomaly', message: a.message, ref: a.id });
  }

  private refresh(inc: IncidentState): void {
    const lookback = this.ctx.config.changeLookback;
    const events = this.events.filter((e) => e.timestamp >= inc.openedAt - lookback && e.timestamp <= inc.lastAnomalyAt);
    inc.causes = rankLikelyCauses({ anomalies: inc.anomalies, events, topology: this.ctx.topology, entityOf: (a) => this.entityOf(a), changeLookbackMs: lookback });
    // A change a likely cause cites joins the incident, and its timeline, in time order: a deploy
    // that came before the incident opened is the first thing a reader should see.
    for (const e of events) {
      if (!e.id || inc.eventIds.has(e.id) || !inc.causes.some((c) => c.summary.includes(e.title) || c.evidence.some((x) => x.endsWith(`: ${e.title}`)))) continue;
      inc.eventIds.add(e.id);
      const at = inc.timeline.findIndex((t) => t.timestamp > e.timestamp);
      inc.timeline.splice(at < 0 ? inc.timeline.length : at, 0, { timestamp: e.timestamp, kind: 'event', message: e.title, ref: e.id });
      if (inc.timeline.length > 200) inc.timeline.splice(1, inc.timeline.length - 200);
    }
    const first = inc.anomalies[0];
    const others = inc.entities.size - 1;
    const where = others > 0 ? ` and ${others} more entit${others === 1 ? 'y' : 'ies'}` : '';
    const cause = inc.causes[0] && inc.causes[0].entity !== this.entityOf(first) ? `; likely cause: ${inc.causes[0].entity}` : '';
    // when the cost shows on another series than the first (a latency incident that also drops conversion), say so
    const costly = first && inc.impact !== 'infrastructure' && impactOf(first) !== inc.impact ? inc.anomalies.find((x) => impactOf(x) === inc.impact) : undefined;
    const impactNote = costly ? `; ${inc.impact} impact: ${costly.message}` : '';
    inc.title = `${first ? first.message : 'anomaly'}${where}${cause}${impactNote}`.slice(0, 300);
  }

  private view(inc: IncidentState): Incident {
    return {
      id: inc.id,
      title: inc.title,
      status: inc.status,
      impact: inc.impact,
      severity: inc.severity,
      openedAt: inc.openedAt,
      updatedAt: inc.updatedAt,
      ...(inc.resolvedAt !== undefined ? { resolvedAt: inc.resolvedAt } : {}),
      entities: [...inc.entities],
      anomalyIds: [...inc.anomalyIds],
      eventIds: [...inc.eventIds],
      causes: inc.causes,
      timeline: [...inc.timeline],
      suppressed: [...inc.suppressed.values()].map((s) => ({ ...s })),
    };
  }

  /** Shows the incident as it now is (API, UI) without notifying anyone: an event joined it. */
  private publishQuietly(inc: IncidentState, reason: string): void {
    this.refresh(inc);
    inc.sequence++;
    this.ctx.publish({ change: 'updated', sequence: inc.sequence, incident: this.view(inc), reason, notify: false });
  }

  private publish(inc: IncidentState, change: 'opened' | 'updated' | 'resolved', reason: string, notify?: boolean): void {
    this.refresh(inc);
    inc.sequence++;
    const deliver = notify ?? !inc.held;
    if (!deliver && change !== 'opened') this.countSuppressed(inc, inc.held ? 'silenced' : 'flapping', `update held back: ${reason}`);
    if (deliver) {
      inc.lastNotifiedAt = inc.updatedAt;
      this.stats.updatesPublished++;
    }
    this.ctx.publish({ change, sequence: inc.sequence, incident: this.view(inc), reason, ...(deliver ? {} : { notify: false }) });
  }

  tick(now: number): void {
    const cfg = this.ctx.config;
    for (const inc of [...this.open.values()]) {
      const hold = cfg.resolveAfter * 2 ** Math.min(4, inc.flaps.length);
      if (now - inc.lastAnomalyAt >= hold) {
        inc.status = 'resolved';
        inc.resolvedAt = now;
        inc.updatedAt = now;
        this.open.delete(inc.id);
        this.recentlyResolved.push(inc);
        if (this.recentlyResolved.length > 1000) this.recentlyResolved.shift();
        for (const [id, s] of this.series) if (s.incident === inc.id) this.series.delete(id);
        this.addTimeline(inc, { timestamp: now, kind: 'status', message: `resolved: no anomaly for ${Math.round(hold / 60_000)} min` });
        const flapping = inc.flaps.length > cfg.flap.max;
        this.publish(inc, 'resolved', 'quiet', flapping ? false : undefined);
      } else if (now - inc.lastNotifiedAt >= cfg.renotifyEvery) {
        inc.updatedAt = now;
        this.publish(inc, 'updated', 'reminder: still open');
      }
    }
    const cutoff = now - cfg.reopenWindow;
    while (this.recentlyResolved.length && (this.recentlyResolved[0].resolvedAt ?? 0) < cutoff) this.recentlyResolved.shift();
    // Silences and maintenance windows that have ended are forgotten (one is added per API call).
    if (this.windows.some((w) => w.until <= now)) this.windows = this.windows.filter((w) => w.until > now);
  }

  /**
   * Open and recently resolved incidents, run-time silences and maintenance windows, the series
   * they hold and recent change events (within `changeLookback`), as JSON bytes.
   */
  snapshot(): Uint8Array {
    const now = this.ctx.clock.now();
    const lookback = this.ctx.config.changeLookback;
    const state: SerialisedState = {
      tag: SNAPSHOT_TAG,
      open: [...this.open.values()].map(serialiseIncident),
      recentlyResolved: this.recentlyResolved.map(serialiseIncident),
      series: [...this.series.entries()],
      windows: this.windows.filter((w) => w.origin !== 'config'),
      events: this.events.filter((e) => e.timestamp >= now - lookback),
      downHosts: [...this.downHosts.entries()],
    };
    return new TextEncoder().encode(JSON.stringify(state));
  }

  restore(bytes: Uint8Array): void {
    try {
      const state = JSON.parse(new TextDecoder().decode(bytes)) as SerialisedState;
      if (state?.tag !== SNAPSHOT_TAG) throw new RangeError(`snapshot tag "${String(state?.tag)}" is not ${SNAPSHOT_TAG}`);
      const open = state.open.map(reviveIncident);
      const resolved = state.recentlyResolved.map(reviveIncident);
      this.open.clear();
      for (const inc of open) this.open.set(inc.id, inc);
      this.recentlyResolved = resolved;
      this.series.clear();
      for (const [id, s] of state.series) if (Number.isInteger(id) && Array.isArray(s?.hits)) this.series.set(id, s);
      this.windows = [...this.windows.filter((w) => w.origin === 'config'), ...state.windows.map(reviveWindow)];
      this.events.splice(0, this.events.length, ...state.events.slice(-5000));
      this.downHosts.clear();
      for (const [k, v] of state.downHosts) this.downHosts.set(k, v);
    } catch (error) {
      this.open.clear();
      this.recentlyResolved = [];
      this.series.clear();
      this.ctx.status.set('degraded', `incident state could not be restored (${error instanceof Error ? error.message : String(error)}); open incidents from before the restart are forgotten`, ErrorCode.VALUE_REJECTED);
    }
  }

  /** Open incidents, for tests and the demo. */
  openIncidents(): Incident[] {
    return [...this.open.values()].map((i) => this.view(i));
  }

  shutdown(): void {}
}

export const incidentCorrelatorFactory = createCorrelatorFactory<IncidentConfig>({
  type: 'incidents',
  stability: 'alpha',
  description: 'Folds anomalies and change events into incidents with ranked likely causes and an impact class, with one layer of noise control.',
  configSchema: incidentConfigSchema as never,
  defaults: INCIDENT_DEFAULTS as never,
  create: (ctx) => new IncidentCorrelator(ctx),
});
