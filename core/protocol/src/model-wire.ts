/**
 * The @sextant/plugin-api data model <-> sextant.common.v1 messages (events, anomalies, incident
 * updates, notifications). Optional fields the contract leaves out are left out again when read,
 * so a value compares equal after a round trip. Doubles keep NaN and Infinity as they are.
 */
import type {
  Anomaly,
  AnomalyInput,
  AnomalyKind,
  Incident,
  IncidentUpdate,
  LikelyCause,
  Notification,
  Severity,
  SextantEvent,
  Suppression,
  TimelineEntry,
} from '@sextant/plugin-api';
import type {
  Anomaly as WireAnomaly,
  Event as WireEvent,
  Incident as WireIncident,
  IncidentUpdate as WireIncidentUpdate,
  Notification as WireNotification,
} from './gen/sextant/common/v1/common.js';
import { attributesFromWire, attributesToWire } from './series-wire.js';

export function eventToWire(e: SextantEvent): WireEvent {
  return {
    id: e.id ?? '',
    type: e.type,
    timestamp: e.timestamp,
    title: e.title,
    resource: attributesToWire(e.resource),
    attributes: attributesToWire(e.attributes),
    hasAttributes: e.attributes !== undefined,
    severity: e.severity ?? '',
    source: e.source ?? '',
  };
}

export function eventFromWire(w: WireEvent): SextantEvent {
  return {
    ...(w.id ? { id: w.id } : {}),
    type: w.type,
    timestamp: w.timestamp,
    title: w.title,
    resource: attributesFromWire(w.resource),
    ...(w.hasAttributes ? { attributes: attributesFromWire(w.attributes) } : {}),
    ...(w.severity ? { severity: w.severity as Severity } : {}),
    ...(w.source ? { source: w.source } : {}),
  };
}

/** An anomaly as a detector raises it (AnomalyInput) or as the host hands it on (Anomaly). */
export function anomalyToWire(a: AnomalyInput | Anomaly): WireAnomaly {
  const full = a as Partial<Anomaly>;
  return {
    id: full.id ?? '',
    seriesId: a.seriesId,
    metric: full.metric ?? '',
    resource: attributesToWire(full.resource),
    attributes: attributesToWire(full.attributes),
    detector: a.detector,
    kind: a.kind,
    timestamp: a.timestamp,
    value: a.value,
    expected: a.expected,
    lower: a.lower,
    upper: a.upper,
    score: a.score,
    severity: a.severity,
    peerGroup: a.peerGroup ?? '',
    message: a.message,
  };
}

export function anomalyInputFromWire(w: WireAnomaly): AnomalyInput {
  return {
    seriesId: w.seriesId,
    detector: w.detector,
    kind: w.kind as AnomalyKind,
    timestamp: w.timestamp,
    value: w.value,
    expected: w.expected,
    lower: w.lower,
    upper: w.upper,
    score: w.score,
    severity: w.severity as Severity,
    ...(w.peerGroup ? { peerGroup: w.peerGroup } : {}),
    message: w.message,
  };
}

/** Keys in the order the runtime's pipeline builds an Anomaly (input, then what it fills in). */
export function anomalyFromWire(w: WireAnomaly): Anomaly {
  const input = anomalyInputFromWire(w);
  return { ...input, id: w.id, metric: w.metric, resource: attributesFromWire(w.resource), attributes: attributesFromWire(w.attributes) };
}

function incidentToWire(i: Incident): WireIncident {
  return {
    id: i.id,
    title: i.title,
    status: i.status,
    impact: i.impact,
    severity: i.severity,
    openedAt: i.openedAt,
    updatedAt: i.updatedAt,
    resolvedAt: i.resolvedAt,
    entities: [...i.entities],
    anomalyIds: [...i.anomalyIds],
    eventIds: [...i.eventIds],
    causes: i.causes.map((c) => ({ entity: c.entity, score: c.score, summary: c.summary, evidence: [...c.evidence] })),
    timeline: i.timeline.map((t) => ({ timestamp: t.timestamp, kind: t.kind, message: t.message, ref: t.ref ?? '' })),
    suppressed: i.suppressed.map((s) => ({ reason: s.reason, detail: s.detail, count: s.count })),
  };
}

function incidentFromWire(w: WireIncident): Incident {
  return {
    id: w.id,
    title: w.title,
    status: w.status as Incident['status'],
    impact: w.impact as Incident['impact'],
    severity: w.severity as Severity,
    openedAt: w.openedAt,
    updatedAt: w.updatedAt,
    ...(w.resolvedAt !== undefined ? { resolvedAt: w.resolvedAt } : {}),
    entities: w.entities,
    anomalyIds: w.anomalyIds,
    eventIds: w.eventIds,
    causes: w.causes.map((c): LikelyCause => ({ entity: c.entity, score: c.score, summary: c.summary, evidence: c.evidence })),
    timeline: w.timeline.map((t): TimelineEntry => ({ timestamp: t.timestamp, kind: t.kind as TimelineEntry['kind'], message: t.message, ...(t.ref ? { ref: t.ref } : {}) })),
    suppressed: w.suppressed.map((s): Suppression => ({ reason: s.reason, detail: s.detail, count: s.count })),
  };
}

export function incidentUpdateToWire(u: IncidentUpdate): WireIncidentUpdate {
  return { change: u.change, sequence: u.sequence, incident: incidentToWire(u.incident), notify: u.notify, reason: u.reason ?? '' };
}

/** Undefined when the message carries no incident (the caller counts a protocol error). */
export function incidentUpdateFromWire(w: WireIncidentUpdate): IncidentUpdate | undefined {
  if (!w.incident) return undefined;
  return {
    change: w.change as IncidentUpdate['change'],
    sequence: w.sequence,
    incident: incidentFromWire(w.incident),
    ...(w.notify !== undefined ? { notify: w.notify } : {}),
    ...(w.reason ? { reason: w.reason } : {}),
  };
}

export function notificationToWire(n: Notification): WireNotification {
  return { idempotencyKey: n.idempotencyKey, update: incidentUpdateToWire(n.update), attempt: n.attempt, url: n.url ?? '' };
}

export function notificationFromWire(w: WireNotification): Notification | undefined {
  const update = w.update ? incidentUpdateFromWire(w.update) : undefined;
  if (!update) return undefined;
  return { idempotencyKey: w.idempotencyKey, update, attempt: w.attempt, ...(w.url ? { url: w.url } : {}) };
}
