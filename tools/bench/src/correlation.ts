/**
 * Issue "peer-group outliers, incidents": peer comparison for 1,000 groups x 10 members x 50
 * metrics within one 10 s interval on one core (ms per interval), and correlator throughput in
 * anomalies per minute of CPU.
 */
import { IncidentCorrelator, PeerOutlierDetector, INCIDENT_DEFAULTS, PEER_OUTLIER_DEFAULTS, incidentConfigSchema } from '@sextant/analysis';
import { MutableBatch, SeriesRegistry, TopologyGraph } from '@sextant/runtime';
import type { Anomaly } from '@sextant/plugin-api';

const noop = () => {};
const logger = { debug: noop, info: noop, warn: noop, error: noop };
const metrics = { counter: () => ({ add: noop }), gauge: () => ({ set: noop }) };
const clock = { now: () => Date.now(), setTimeout: () => noop };

export async function peerComparison(groups = 1000, members = 10, metricsPerMember = 50): Promise<Record<string, number>> {
  const registry = new SeriesRegistry(groups * members * metricsPerMember + 1);
  const topology = new TopologyGraph();
  let emitted = 0;
  const detector = new PeerOutlierDetector({
    config: { ...PEER_OUTLIER_DEFAULTS, warmupRounds: 0 },
    instanceId: 'bench',
    logger,
    clock,
    status: { set: noop },
    metrics,
    signal: new AbortController().signal,
    dataDir: undefined,
    catalog: registry,
    topology,
    emit: () => void emitted++,
  });
  const n = groups * members * metricsPerMember;
  const batch = new MutableBatch(n);
  for (let g = 0; g < groups; g++)
    for (let m = 0; m < members; m++)
      for (let k = 0; k < metricsPerMember; k++) {
        const id = registry.intern({ metric: `bench.metric_${k}`, unit: '1', type: 'gauge', resource: { 'container.id': `g${g}-m${m}`, 'service.name': `svc-${g}` }, attributes: {} }, 'bench');
        batch.push(id, 0, 0);
      }
  const t0 = Date.UTC(2026, 0, 1);
  const rounds = 6;
  let evalMs = 0;
  let ingestMs = 0;
  for (let r = 0; r < rounds; r++) {
    const t = t0 + r * 10_000;
    for (let i = 0; i < n; i++) {
      batch.timestamps[i] = t;
      batch.values[i] = 100 + ((i * 7919 + r * 31) % 17);
    }
    const a = performance.now();
    // process() evaluates when data time passes the next evaluation point; split the cost.
    (detector as unknown as { nextEval: number }).nextEval = Number.POSITIVE_INFINITY;
    detector.process(batch);
    const b = performance.now();
    detector.evaluate(t);
    const c = performance.now();
    if (r > 0) {
      ingestMs += b - a;
      evalMs += c - b;
    }
  }
  return {
    peerSeries: n,
    peerIngestMsPerInterval: Math.round((ingestMs / (rounds - 1)) * 10) / 10,
    peerEvaluateMsPerInterval: Math.round((evalMs / (rounds - 1)) * 10) / 10,
    peerTotalMsPerInterval: Math.round(((ingestMs + evalMs) / (rounds - 1)) * 10) / 10,
    peerAnomaliesEmitted: emitted,
  };
}

export async function correlatorThroughput(anomalies = 50_000): Promise<Record<string, number>> {
  const topology = new TopologyGraph();
  for (let s = 0; s < 200; s++) topology.apply({ upsertEdges: [{ from: `service:svc-${s}`, to: `service:svc-${(s * 7) % 200}`, type: 'calls' }] });
  let published = 0;
  const correlator = new IncidentCorrelator({
    config: incidentConfigSchema.parse(INCIDENT_DEFAULTS),
    instanceId: 'bench',
    logger,
    clock,
    status: { set: noop },
    metrics,
    signal: new AbortController().signal,
    dataDir: undefined,
    catalog: new SeriesRegistry(10),
    topology,
    publish: () => void published++,
  });
  const t0 = Date.UTC(2026, 0, 1);
  const list: Anomaly[] = [];
  for (let i = 0; i < anomalies; i++) {
    const svc = (i * 13) % 200;
    list.push({
      id: `a${i}`,
      seriesId: i % 5000,
      metric: `m.${i % 50}`,
      resource: { 'service.name': `svc-${svc}`, 'container.id': `c-${svc}-${i % 10}`, 'host.name': `h${svc % 40}` },
      attributes: {},
      detector: 'baseline',
      kind: 'spike',
      timestamp: t0 + Math.floor((i / anomalies) * 3_600_000),
      value: 10,
      expected: 1,
      lower: 0,
      upper: 2,
      score: 0.5 + (i % 50) / 100,
      severity: 'warning',
      message: `m unusual on svc-${svc}`,
    });
  }
  const start = process.cpuUsage();
  const wall = performance.now();
  let lastTick = t0;
  for (const a of list) {
    correlator.onAnomaly(a);
    if (a.timestamp - lastTick >= 1000) {
      correlator.tick(a.timestamp);
      lastTick = a.timestamp;
    }
  }
  const cpu = process.cpuUsage(start);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  return {
    correlatorAnomalies: anomalies,
    correlatorAnomaliesPerCpuMinute: Math.round((anomalies / cpuSec) * 60),
    correlatorWallMs: Math.round(performance.now() - wall),
    correlatorUpdatesPublished: published,
  };
}
