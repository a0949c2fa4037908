/**
 * The incident correlator and its noise control, replayed over a noisy day.
 */
import { describe, expect, it } from 'vitest';
import type { Anomaly, Attributes, Severity } from '@sextant/plugin-api';
import { startCorrelator } from '@sextant/testkit';
import { TopologyGraph } from '@sextant/runtime';
import { incidentCorrelatorFactory } from '../src/incidents/incident-correlator.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 0, 0);
let seq = 0;

function anomaly(o: { seriesId: number; metric: string; resource: Attributes; t: number; score?: number; value?: number; severity?: Severity; message?: string }): Anomaly {
  return {
    id: `a${seq++}`,
    seriesId: o.seriesId,
    metric: o.metric,
    resource: o.resource,
    attributes: {},
    detector: 'baseline',
    kind: 'spike',
    timestamp: o.t,
    value: o.value ?? 10,
    expected: 1,
    lower: 0,
    upper: 2,
    score: o.score ?? 0.95,
    severity: o.severity ?? 'warning',
    message: o.message ?? `${o.metric} unusual on ${String(o.resource['container.name'] ?? o.resource['service.name'] ?? o.resource['host.name'])}`,
  };
}

function topology() {
  const g = new TopologyGraph();
  g.apply({
    upsertEntities: [
      { id: 'host:h1', type: 'host', name: 'h1', attributes: {} },
      { id: 'host:h2', type: 'host', name: 'h2', attributes: {} },
      { id: 'service:api', type: 'service', name: 'api', attributes: {} },
      { id: 'service:db', type: 'service', name: 'db', attributes: {} },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `container:c${i}`, type: 'container', name: `c${i}`, attributes: {} })),
    ],
    upsertEdges: [{ from: 'service:api', to: 'service:db', type: 'calls' }, ...Array.from({ length: 20 }, (_, i) => ({ from: `container:c${i}`, to: 'host:h2', type: 'runs-on' }))],
  });
  return g;
}

describe('incident correlator', () => {
  it('turns a noisy day into one incident per real problem', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory, { topology: topology() });
    const c = h.correlator;
    const all: Anomaly[] = [];
    const feed = (a: Anomaly) => {
      all.push(a);
      c.onAnomaly(a);
    };
    let now = T0;
    const advance = (to: number) => {
      for (; now <= to; now += 30_000) c.tick?.(now);
    };
    // (1) A flapping CPU metric on h1: two anomalies, then 25 minutes of quiet, eight times.
    for (let cycle = 0; cycle < 8; cycle++) {
      const t = T0 + cycle * 27 * MIN;
      advance(t);
      feed(anomaly({ seriesId: 1, metric: 'system.cpu.utilization', resource: { 'host.name': 'h1' }, t }));
      feed(anomaly({ seriesId: 1, metric: 'system.cpu.utilization', resource: { 'host.name': 'h1' }, t: t + MIN }));
    }
    // (2) Host h2 goes down at 06:00 and its 20 containers all alarm over the next two minutes.
    const outage = T0 + 6 * 60 * MIN;
    advance(outage);
    feed(anomaly({ seriesId: 2, metric: 'sextant.host.up', resource: { 'host.name': 'h2' }, t: outage, value: 0, score: 1, severity: 'critical', message: 'host h2 stopped answering' }));
    for (let i = 0; i < 20; i++) {
      for (let k = 0; k < 3; k++) {
        feed(anomaly({ seriesId: 100 + i, metric: 'container.cpu.utilization', resource: { 'container.id': `c${i}`, 'container.name': `c${i}`, 'host.name': 'h2' }, t: outage + (i * 5 + k * 40) * 1000, score: 0.97 }));
      }
    }
    // (3) A deploy of api at 09:00 with a short latency blip: expected, not a problem.
    const deploy = T0 + 9 * 60 * MIN;
    advance(deploy);
    c.onEvent?.({ id: 'evt-deploy', type: 'deploy', timestamp: deploy, title: 'api deployed 1.4.2', resource: { 'service.name': 'api' } });
    feed(anomaly({ seriesId: 3, metric: 'http.server.request.duration', resource: { 'service.name': 'api' }, t: deploy + 30_000, score: 0.7 }));
    feed(anomaly({ seriesId: 3, metric: 'http.server.request.duration', resource: { 'service.name': 'api' }, t: deploy + 60_000, score: 0.7 }));
    // (4) A real problem at 12:00: db latency rises, then api (which calls db) slows down.
    const real = T0 + 12 * 60 * MIN;
    advance(real);
    for (let k = 0; k < 15; k++) {
      feed(anomaly({ seriesId: 4, metric: 'db.query.duration', resource: { 'service.name': 'db' }, t: real + k * MIN, score: 0.96, message: 'db query latency 6x above normal' }));
      if (k >= 2) feed(anomaly({ seriesId: 5, metric: 'http.server.request.duration', resource: { 'service.name': 'api' }, t: real + k * MIN, score: 0.95, message: 'api latency 3x above normal' }));
    }
    advance(real + 60 * MIN);

    const incidents = new Map(h.updates.map((u) => [u.incident.id, u.incident]));
    const delivered = h.updates.filter((u) => u.notify !== false);
    console.log(`noise control: ${all.length} anomalies (alerts before) -> ${incidents.size} incidents, ${delivered.length} notifications delivered (after)`);
    expect(incidents.size).toBe(3);
    const byEntity = (e: string) => [...incidents.values()].find((i) => i.entities.includes(e))!;
    const flapping = byEntity('host:h1');
    // Hysteresis: each reopen doubles the quiet time needed to resolve, so the flapping metric ends
    // up as one incident that stays open instead of sixteen alerts.
    expect(flapping.timeline.filter((e) => e.message.startsWith('reopened'))).toHaveLength(2);
    expect(delivered.filter((u) => u.incident.id === flapping.id).length).toBeLessThanOrEqual(6);
    expect(flapping.suppressed.find((s) => s.reason === 'duplicate')!.count).toBeGreaterThanOrEqual(10);
    const host = byEntity('host:h2');
    expect(host.entities).toHaveLength(21);
    expect(host.suppressed.find((s) => s.reason === 'inhibited')!.count).toBeGreaterThanOrEqual(20);
    expect(host.severity).toBe('critical');
    const db = byEntity('service:db');
    expect(db.entities).toEqual(['service:db', 'service:api']);
    expect(db.causes[0].entity).toBe('service:db');
    expect(db.causes[0].evidence.join(' ')).toContain('anomalous entity depends on it');
    expect(db.impact).toBe('user');
    expect(db.status).toBe('resolved');
    expect(delivered.length).toBeLessThan(all.length / 5);
    await h.shutdown();
  });

  it('holds back the updates of an incident that keeps flapping, and says so', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory, { config: { resolveAfter: '1m', reopenWindow: '30m', flap: { max: 2, window: '2h' } } });
    for (let cycle = 0; cycle < 5; cycle++) {
      const t = T0 + cycle * 20 * MIN;
      h.correlator.onAnomaly(anomaly({ seriesId: 1, metric: 'system.cpu.utilization', resource: { 'host.name': 'h1' }, t }));
      for (let k = 1; k <= 19; k++) h.correlator.tick?.(t + k * MIN);
    }
    const ids = new Set(h.updates.map((u) => u.incident.id));
    expect(ids.size).toBe(1);
    const last = h.updates.at(-1)!.incident;
    expect(last.suppressed.find((s) => s.reason === 'flapping')?.detail).toMatch(/^reopened 3 times within 120 min/);
    expect(h.updates.filter((u) => u.notify === false).length).toBeGreaterThan(0);
    await h.shutdown();
  });

  it('names a deploy just before the first anomaly as the likely cause', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory, { topology: topology() });
    const t = T0 + 60 * MIN;
    h.correlator.onEvent?.({ id: 'evt-1', type: 'deploy', timestamp: t - 20 * MIN, title: 'db migrated to schema 42', resource: { 'service.name': 'db' } });
    for (let k = 0; k < 3; k++) h.correlator.onAnomaly(anomaly({ seriesId: 4, metric: 'db.query.duration', resource: { 'service.name': 'db' }, t: t + k * MIN }));
    const inc = h.updates.at(-1)!.incident;
    expect(inc.causes[0].entity).toBe('service:db');
    expect(inc.causes[0].summary).toContain('db migrated to schema 42');
    expect(inc.causes[0].evidence[0]).toMatch(/^deploy 20 min before the first anomaly/);
    expect(inc.eventIds).toContain('evt-1');
    // the deploy came before the incident opened, yet it is on the timeline, first and once
    expect(inc.timeline[0]).toEqual({ timestamp: t - 20 * MIN, kind: 'event', message: 'db migrated to schema 42', ref: 'evt-1' });
    expect(inc.timeline.filter((e) => e.ref === 'evt-1')).toHaveLength(1);
    expect(inc.timeline[1]).toMatchObject({ kind: 'anomaly', timestamp: t });
    await h.shutdown();
  });

  it('puts every change a likely cause cites on the timeline in time order, once, and leaves unrelated ones out', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory, { topology: topology() });
    const t = T0 + 60 * MIN;
    h.correlator.onEvent?.({ id: 'evt-img', type: 'deploy', timestamp: t - 3 * MIN, title: 'db image 15 -> 16', resource: { 'service.name': 'db' } });
    h.correlator.onEvent?.({ id: 'evt-other', type: 'deploy', timestamp: t - 2 * MIN, title: 'cache image 7 -> 8', resource: { 'service.name': 'cache' } });
    h.correlator.onEvent?.({ id: 'evt-roll', type: 'rollout', timestamp: t - 2 * MIN, title: 'rolling update of db started', resource: { 'service.name': 'db' } });
    for (let k = 0; k < 5; k++) h.correlator.onAnomaly(anomaly({ seriesId: 7, metric: 'db.query.duration', resource: { 'service.name': 'db' }, t: t + k * MIN }));
    const inc = h.updates.at(-1)!.incident;
    expect(inc.causes[0].entity).toBe('service:db');
    expect(inc.timeline.filter((e) => e.kind === 'event').map((e) => e.ref)).toEqual(['evt-img', 'evt-roll']);
    expect(inc.timeline.findIndex((e) => e.kind === 'anomaly')).toBe(2);
    expect(inc.eventIds).toEqual(expect.arrayContaining(['evt-img', 'evt-roll']));
    expect(inc.eventIds).not.toContain('evt-other');
    await h.shutdown();
  });

  it('shows an event that joins an open incident at once, without notifying anyone', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory, { topology: topology() });
    const t = T0 + 60 * MIN;
    for (let k = 0; k < 2; k++) h.correlator.onAnomaly(anomaly({ seriesId: 8, metric: 'db.query.duration', resource: { 'service.name': 'db' }, t: t + k * MIN }));
    const before = h.updates.length;
    expect(before).toBeGreaterThan(0);
    h.correlator.onEvent?.({ id: 'evt-pause', type: 'rollout', timestamp: t + 2 * MIN, title: 'rolling update of db paused after task failures', resource: { 'service.name': 'db' } });
    h.correlator.onEvent?.({ id: 'evt-elsewhere', type: 'deploy', timestamp: t + 2 * MIN, title: 'cache image 8 -> 9', resource: { 'service.name': 'cache' } });
    expect(h.updates).toHaveLength(before + 1);
    const update = h.updates.at(-1)!;
    expect(update).toMatchObject({ change: 'updated', notify: false });
    expect(update.incident.timeline.at(-1)).toEqual({ timestamp: t + 2 * MIN, kind: 'event', message: 'rolling update of db paused after task failures', ref: 'evt-pause' });
    expect(update.incident.eventIds).toContain('evt-pause');
    expect(update.incident.suppressed.map((s) => s.reason)).toEqual(['duplicate']); // the second anomaly; the event is not counted as held back
    await h.shutdown();
  });

  it('classifies business impact and escalates severity', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory);
    h.correlator.onAnomaly(anomaly({ seriesId: 9, metric: 'shop.orders.rate', resource: { 'service.name': 'shop' }, t: T0, severity: 'critical', message: 'orders per minute fell to a third of normal' }));
    const u = h.updates[0];
    expect(u.change).toBe('opened');
    expect(u.incident.impact).toBe('business');
    expect(u.incident.severity).toBe('critical');
    expect(u.incident.title).toContain('orders per minute fell');
    await h.shutdown();
  });

  it('a conversion drop on a site that calls a slow backend joins the backend incident, raises it to business impact and says so', async () => {
    const g = topology();
    g.apply({ upsertEntities: [{ id: 'service:web', type: 'service', name: 'web', attributes: {} }], upsertEdges: [{ from: 'service:web', to: 'service:api', type: 'calls' }] });
    const h = await startCorrelator(incidentCorrelatorFactory, { topology: g });
    h.correlator.onAnomaly(anomaly({ seriesId: 1, metric: 'http.server.request.duration', resource: { 'service.name': 'api' }, t: T0, message: 'api p95 latency 2.4 s, normally 180 ms' }));
    expect(h.updates.at(-1)!.incident.impact).toBe('user');
    h.correlator.onAnomaly(anomaly({ seriesId: 2, metric: 'rum.conversion_rate', resource: { 'service.name': 'web', 'sextant.impact': 'business' }, t: T0 + 2 * MIN, score: 0.6, message: 'conversion rate 0.4%, normally 2.1%' }));
    const u = h.updates.at(-1)!;
    expect(h.updates).toHaveLength(2);
    expect(u.change).toBe('updated');
    expect(u.reason).toBe('business impact: conversion rate 0.4%, normally 2.1%');
    expect(u.incident.impact).toBe('business');
    expect(u.incident.entities).toEqual(['service:api', 'service:web']);
    expect(u.incident.title).toBe('api p95 latency 2.4 s, normally 180 ms and 1 more entity; business impact: conversion rate 0.4%, normally 2.1%');
    // a second business symptom changes nothing more: no new update
    h.correlator.onAnomaly(anomaly({ seriesId: 3, metric: 'rum.orders', resource: { 'service.name': 'web', 'sextant.impact': 'business' }, t: T0 + 3 * MIN }));
    expect(h.updates).toHaveLength(2);
    await h.shutdown();
  });

  it('holds back updates under a silence (API event) and a maintenance window (config), and explains why', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory, {
      config: { maintenance: [{ match: { 'host.name': 'h1' }, from: T0, until: T0 + 60 * MIN, comment: 'kernel upgrade' }] },
    });
    h.correlator.onEvent?.({ type: 'silence', timestamp: T0, title: 'silenced by alice: known issue', resource: { 'service.name': 'db' }, attributes: { duration: 30 * MIN } });
    h.correlator.onAnomaly(anomaly({ seriesId: 1, metric: 'system.cpu.utilization', resource: { 'host.name': 'h1' }, t: T0 + MIN }));
    h.correlator.onAnomaly(anomaly({ seriesId: 4, metric: 'db.query.duration', resource: { 'service.name': 'db' }, t: T0 + MIN }));
    expect(h.updates).toHaveLength(2);
    for (const u of h.updates) expect(u.notify).toBe(false);
    const reasons = h.updates.map((u) => u.incident.suppressed.map((s) => `${s.reason}: ${s.detail}`));
    expect(reasons).toEqual([['maintenance: kernel upgrade'], ['silenced: silenced by alice: known issue']]);
    // After the silence ends a new problem on db (past the reopen window) notifies again.
    h.correlator.tick?.(T0 + 45 * MIN);
    h.correlator.onAnomaly(anomaly({ seriesId: 4, metric: 'db.query.duration', resource: { 'service.name': 'db' }, t: T0 + 150 * MIN }));
    expect(h.updates.at(-1)!.notify).toBeUndefined();
    // Ended windows are forgotten, so a long-running server does not keep every silence ever made.
    expect((h.correlator as unknown as { windows: unknown[] }).windows).toHaveLength(1);
    h.correlator.tick?.(T0 + 151 * MIN);
    expect((h.correlator as unknown as { windows: unknown[] }).windows).toHaveLength(0);
    await h.shutdown();
  });

  it('opens an incident on a single level shift: the detector already confirmed it persists', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory);
    const weakSpike = anomaly({ seriesId: 8, metric: 'http.server.request.duration', resource: { 'service.name': 'api' }, t: T0, score: 0.64 });
    h.correlator.onAnomaly(weakSpike);
    expect(h.updates).toHaveLength(0); // a lone weak spike still waits for confirmation
    h.correlator.onAnomaly({ ...weakSpike, id: 'shift', kind: 'level-shift', timestamp: T0 + 12 * MIN, score: 0.7 });
    expect(h.updates.map((u) => u.change)).toEqual(['opened']);
    await h.shutdown();
  });

  it('needs confirmation for weak anomalies, resolves after quiet and re-notifies while open', async () => {
    const h = await startCorrelator(incidentCorrelatorFactory, { config: { renotifyEvery: '1h', resolveAfter: '10m' } });
    const weak = (t: number) => anomaly({ seriesId: 7, metric: 'queue.depth', resource: { 'service.name': 'q' }, t, score: 0.6 });
    h.correlator.onAnomaly(weak(T0));
    expect(h.updates).toHaveLength(0);
    h.correlator.onAnomaly(weak(T0 + MIN));
    expect(h.updates.map((u) => u.change)).toEqual(['opened']);
    for (let k = 2; k < 130; k++) {
      h.correlator.onAnomaly(weak(T0 + k * MIN));
      h.correlator.tick?.(T0 + k * MIN);
    }
    expect(h.updates.filter((u) => u.reason === 'reminder: still open')).toHaveLength(2);
    h.correlator.tick?.(T0 + 140 * MIN);
    expect(h.updates.at(-1)!.change).toBe('resolved');
    expect(h.updates.map((u) => u.sequence)).toEqual(h.updates.map((_, i) => i + 1));
    await h.shutdown();
  });
});
