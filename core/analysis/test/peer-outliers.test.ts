/**
 * A synthetic fleet: 3 services x 10 replicas with daily load; one replica develops a memory
 * leak, one a CPU hog, one a higher error ratio; a whole service goes through a rolling update to
 * a version that uses 30% more memory. The three bad replicas must be found within 5 intervals and
 * the rolling update must produce no outlier.
 */
import { describe, expect, it } from 'vitest';
import { startDetector } from '@sextant/testkit';
import { peerOutlierDetectorFactory } from '../src/outliers/peer-outlier-detector.js';

const INTERVAL = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

/** Deterministic noise in [-1, 1]. */
function noise(seed: number): number {
  const x = Math.sin(seed * 12.9898) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

interface Replica {
  service: string;
  index: number;
  containerId: string;
  version: string;
  bornAt: number;
  ids: { cpu: number; mem: number; err: number };
}

async function fleet() {
  const h = await startDetector(peerOutlierDetectorFactory, { config: { interval: INTERVAL } });
  const replicas: Replica[] = [];
  const add = (service: string, index: number, version: string, bornAt: number) => {
    const containerId = `${service}-${index}-${version}`;
    const resource = { 'host.name': `node-${index % 4}`, 'container.id': containerId, 'container.name': `${service}-${index}`, 'service.name': service, 'service.version': version };
    const series = (metric: string, unit: string) => h.catalog.series({ metric, unit, type: 'gauge', resource, attributes: {} });
    const r: Replica = { service, index, containerId, version, bornAt, ids: { cpu: series('container.cpu.utilization', '1'), mem: series('container.memory.usage', 'By'), err: series('http.server.error_ratio', '1') } };
    replicas.push(r);
    return r;
  };
  for (const service of ['api', 'web', 'worker']) for (let i = 0; i < 10; i++) add(service, i, 'v1', T0);
  return { h, replicas, add };
}

describe('peer-outlier detector on a synthetic fleet', () => {
  it('finds the leaking, hogging and erroring replicas within 5 intervals and ignores a rolling update', async () => {
    const { h, replicas, add } = await fleet();
    const steps = 1440; // one day at 1-minute intervals
    const inject = 600;
    const rollStart = 900;
    const bad = { leak: 'api-3-v1', hog: 'web-7-v1', err: 'worker-2-v1' };
    const alive = new Set(replicas.map((r) => r.containerId));
    for (let step = 0; step < steps; step++) {
      const t = T0 + step * INTERVAL;
      // Rolling update of "worker": every 2 steps one v1 replica is replaced by a v2 replica.
      if (step >= rollStart && step < rollStart + 20 && (step - rollStart) % 2 === 0) {
        const i = (step - rollStart) / 2;
        alive.delete(`worker-${i}-v1`);
        const r = add('worker', i, 'v2', t);
        alive.add(r.containerId);
      }
      const load = 1 + 0.6 * Math.sin((2 * Math.PI * (t - T0)) / DAY);
      for (const r of replicas) {
        if (!alive.has(r.containerId)) continue;
        const n = (k: number) => noise(step * 131 + r.index * 17 + k + r.service.length * 7);
        let cpu = 0.3 * load * (1 + 0.05 * n(1));
        let mem = 200e6 * (1 + 0.1 * load) * (1 + 0.02 * n(2)) * (r.version === 'v2' ? 1.3 : 1);
        let err = 0.01 * (1 + 0.3 * n(3));
        if (step >= inject && r.containerId === bad.leak) mem *= 1 + 0.1 * (step - inject + 1);
        if (step >= inject && r.containerId === bad.hog) cpu = Math.min(1, cpu * 3);
        if (step >= inject && r.containerId === bad.err) err = 0.08;
        h.feed(r.ids.cpu, t, cpu);
        h.feed(r.ids.mem, t, mem);
        h.feed(r.ids.err, t, err);
      }
    }
    const flaggedMembers = new Map<string, number>();
    for (const a of h.anomalies) {
      const container = String(h.catalog.describe(a.seriesId)!.resource['container.id']);
      if (!flaggedMembers.has(container)) flaggedMembers.set(container, a.timestamp);
      expect(a.kind).toBe('outlier');
      expect(a.score).toBeGreaterThan(0);
      expect(a.score).toBeLessThanOrEqual(1);
    }
    const truth = new Set(Object.values(bad));
    const tp = [...flaggedMembers.keys()].filter((c) => truth.has(c)).length;
    const precision = flaggedMembers.size ? tp / flaggedMembers.size : 0;
    const recall = tp / truth.size;
    const delays = Object.fromEntries(Object.entries(bad).map(([k, c]) => [k, ((flaggedMembers.get(c) ?? Number.POSITIVE_INFINITY) - (T0 + inject * INTERVAL)) / INTERVAL]));
    console.log(`peer outliers: precision ${precision.toFixed(2)}, recall ${recall.toFixed(2)}, detection delay (intervals after injection) ${JSON.stringify(delays)}`);
    expect([...flaggedMembers.keys()].sort()).toEqual([...truth].sort());
    for (const d of Object.values(delays)) expect(d).toBeLessThanOrEqual(5);
    expect(h.anomalies.some((a) => a.peerGroup === 'service:worker' && String(h.catalog.describe(a.seriesId)!.resource['service.version']) === 'v2')).toBe(false);
    const leak = h.anomalies.find((a) => String(h.catalog.describe(a.seriesId)!.resource['container.id']) === bad.leak)!;
    expect(leak.message).toMatch(/container\.memory\.usage of api-3 is [\d.]+x the median of its 9 peers in service:api/);
    await h.shutdown();
  });

  it('does not judge groups that are too small, or replicas that just joined', async () => {
    const h = await startDetector(peerOutlierDetectorFactory, { config: { interval: INTERVAL, warmupRounds: 5 } });
    const mk = (svc: string, i: number) => h.catalog.series({ metric: 'm', unit: '1', type: 'gauge', resource: { 'container.id': `${svc}${i}`, 'service.name': svc }, attributes: {} });
    const small = [0, 1, 2].map((i) => mk('small', i));
    const big = [0, 1, 2, 3, 4, 5].map((i) => mk('big', i));
    let late: number | undefined;
    for (let step = 0; step < 50; step++) {
      const t = T0 + step * INTERVAL;
      small.forEach((id, i) => h.feed(id, t, i === 2 ? 100 : 10));
      big.forEach((id) => h.feed(id, t, 10 + (step % 3) * 0.1));
      if (step === 40) late = mk('big', 99);
      if (late !== undefined && step < 44) h.feed(late, t, 30); // a new replica, warming up
    }
    expect(h.anomalies).toEqual([]);
    await h.shutdown();
  });

  it('stays quiet for a group right after a deploy event of its service, and judges again afterwards', async () => {
    const h = await startDetector(peerOutlierDetectorFactory, { config: { interval: INTERVAL } });
    const ids = Array.from({ length: 6 }, (_, i) => h.catalog.series({ metric: 'm', unit: '1', type: 'gauge', resource: { 'container.id': `c${i}`, 'service.name': 'svc' }, attributes: {} }));
    for (let step = 0; step < 30; step++) {
      const t = T0 + step * INTERVAL;
      if (step === 10) h.detector.onEvent?.({ type: 'deploy', timestamp: t, title: 'deploy svc 2.0', resource: { 'service.name': 'svc' } });
      const deviating = (step >= 11 && step < 15) || step >= 22;
      ids.forEach((id, i) => h.feed(id, t, i === 0 && deviating ? 50 : 10 + (step % 2)));
    }
    const quietEnds = T0 + 15 * INTERVAL;
    expect(h.anomalies.length).toBeGreaterThan(0);
    expect(h.anomalies.every((a) => a.timestamp >= T0 + 22 * INTERVAL && a.timestamp > quietEnds)).toBe(true);
    await h.shutdown();
  });
});
