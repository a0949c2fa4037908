/**
 * The incident correlator across a restart: an open incident stays the same incident (no second
 * one for the same problem, and it resolves under its old id), and silences made at run time hold.
 */
import { describe, expect, it } from 'vitest';
import type { Anomaly } from '@sextant/plugin-api';
import { startCorrelator } from '@sextant/testkit';
import { incidentCorrelatorFactory } from '../src/incidents/incident-correlator.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 0, 0);
let seq = 0;
function spike(seriesId: number, service: string, t: number): Anomaly {
  return { id: `r${seq++}`, seriesId, metric: 'http.latency', resource: { 'service.name': service }, attributes: {}, detector: 'baseline', kind: 'spike', timestamp: t, value: 900, expected: 100, lower: 50, upper: 150, score: 0.95, severity: 'warning', message: `${service} latency 900 ms` };
}

describe('incident correlator across a restart', () => {
  it('continues the open incident, resolves it under its id, and keeps run-time silences', async () => {
    const a = await startCorrelator(incidentCorrelatorFactory);
    a.correlator.onEvent?.({ type: 'silence', title: 'quiet db during migration', timestamp: T0, resource: { 'service.name': 'db' }, attributes: { duration: 3_600_000 } });
    a.correlator.onAnomaly(spike(1, 'api', T0));
    const opened = a.updates.filter((u) => u.change === 'opened');
    expect(opened).toHaveLength(1);
    const id = opened[0].incident.id;
    const state = a.correlator.snapshot!();
    await a.shutdown();

    const b = await startCorrelator(incidentCorrelatorFactory);
    b.correlator.restore!(state);
    expect(b.statuses.filter((s) => s.state === 'degraded')).toHaveLength(0);
    b.correlator.onAnomaly(spike(1, 'api', T0 + 2 * MIN));
    expect(b.updates.filter((u) => u.change === 'opened')).toHaveLength(0);
    // the silence made through the API before the restart still holds
    b.correlator.onAnomaly(spike(2, 'db', T0 + 3 * MIN));
    const db = b.updates.find((u) => u.change === 'opened');
    expect(db?.notify).toBe(false);
    for (let t = T0 + 3 * MIN; t <= T0 + 30 * MIN; t += 30_000) b.correlator.tick?.(t);
    const resolved = b.updates.filter((u) => u.change === 'resolved').map((u) => u.incident.id);
    expect(resolved).toContain(id);
    const last = b.updates.filter((u) => u.incident.id === id).at(-1)!;
    expect(last.sequence).toBeGreaterThan(opened[0].sequence);
    await b.shutdown();
  });

  it('ends a run-time silence early, and the ending holds across a restart', async () => {
    const a = await startCorrelator(incidentCorrelatorFactory);
    a.correlator.onEvent?.({ id: 'evt-s1', type: 'silence', title: 'quiet db', timestamp: T0, resource: { 'service.name': 'db' }, attributes: { duration: 3_600_000 } });
    a.correlator.onEvent?.({ id: 'evt-s2', type: 'silence', title: 'quiet cache', timestamp: T0, resource: { 'service.name': 'cache' }, attributes: { duration: 3_600_000 } });
    a.correlator.onEvent?.({ id: 'evt-s3', type: 'silence', title: 'quiet queue', timestamp: T0, resource: { 'service.name': 'queue' }, attributes: { duration: 3_600_000 } });
    // ending an unknown window changes nothing; ending evt-s1 lets db notify again, cache stays silenced
    a.correlator.onEvent?.({ id: 'evt-e0', type: 'silence.end', title: 'ended', timestamp: T0 + 2 * MIN, resource: {}, attributes: { window: 'evt-nope' } });
    a.correlator.onEvent?.({ id: 'evt-e1', type: 'silence.end', title: 'ended', timestamp: T0 + 2 * MIN, resource: {}, attributes: { window: 'evt-s1' } });
    const state = a.correlator.snapshot!();
    await a.shutdown();

    const b = await startCorrelator(incidentCorrelatorFactory);
    b.correlator.restore!(state);
    b.correlator.onAnomaly(spike(3, 'db', T0 + 3 * MIN));
    b.correlator.onAnomaly(spike(4, 'cache', T0 + 3 * MIN));
    const opened = b.updates.filter((u) => u.change === 'opened');
    expect(opened).toHaveLength(2);
    expect(opened.find((u) => u.incident.title.includes('db latency'))?.notify).not.toBe(false);
    expect(opened.find((u) => u.incident.title.includes('cache latency'))?.notify).toBe(false);
    // a window restored from the snapshot keeps its id, so it can still be ended after the restart
    b.correlator.onEvent?.({ id: 'evt-e2', type: 'silence.end', title: 'ended', timestamp: T0 + 4 * MIN, resource: {}, attributes: { window: 'evt-s3' } });
    b.correlator.onAnomaly(spike(5, 'queue', T0 + 5 * MIN));
    expect(b.updates.find((u) => u.change === 'opened' && u.incident.title.includes('queue latency'))?.notify).not.toBe(false);
    await b.shutdown();
  });

  it('refuses damaged bytes with a status and starts empty', async () => {
    const c = await startCorrelator(incidentCorrelatorFactory);
    c.correlator.restore!(new TextEncoder().encode('{"tag":"something else"}'));
    expect(c.statuses.at(-1)).toMatchObject({ state: 'degraded', code: 'SEXTANT_ERR_VALUE_REJECTED' });
    c.correlator.onAnomaly(spike(1, 'api', T0));
    expect(c.updates.filter((u) => u.change === 'opened')).toHaveLength(1);
    await c.shutdown();
  });
});
