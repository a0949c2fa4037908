/**
 * `isolation: process` must not change what a detector or correlator does (issue 14: 5). The same
 * baseline detector and incident correlator run in-process and in a plugin child process over the
 * same input; everything a user can observe is compared: anomalies (every field), expectations,
 * feedback thresholds and log, paused learning, snapshot bytes, the state a fresh instance restores
 * from them, statuses on bad state, and incident updates that depend on the topology view.
 *
 * The child runs compiled code (core/analysis/dist/plugin.js through @sextant/protocol's
 * dist/child.js): beforeAll builds both and refuses to run if the build fails.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Anomaly,
  Clock,
  CorrelatorFactory,
  Detector,
  DetectorFactory,
  SeriesDescriptor,
  SextantEvent,
} from '@sextant/plugin-api';
import { LocalFactoryRegistry, launchPluginProcess, type RemotePlugin } from '@sextant/protocol';
import { TopologyGraph } from '@sextant/runtime';
import { RecordingLogger, startCorrelator, startDetector } from '@sextant/testkit';
import analysisPlugin from '../src/plugin.js';
import { STEP, dailySeries } from './synthetic.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

/**
 * The host's view is the runtime's own TopologyGraph; the child's is @sextant/protocol's mirror, so
 * equal incident updates (grouping uses entityOf and edges) also show that the two agree.
 */
const ObservableTopology = TopologyGraph;

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Waits until a remote component has applied everything sent so far (a no-op in-process). */
async function settled(component: { prepareSnapshot?(): Promise<void> }): Promise<void> {
  await component.prepareSnapshot?.();
}

/** Polls until `condition` holds (child statuses travel on their own stream). */
async function eventually(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const web: SeriesDescriptor = { metric: 'http.server.requests', unit: '{request}/s', type: 'gauge', resource: { 'service.name': 'web', 'container.id': 'c1' }, attributes: {} };
const db: SeriesDescriptor = { metric: 'db.connections', unit: '{connection}', type: 'gauge', resource: { 'service.name': 'db', 'host.name': 'h2' }, attributes: {} };
const queue: SeriesDescriptor = { metric: 'queue.depth', unit: '{message}', type: 'gauge', resource: { 'service.name': 'queue' }, attributes: {} };

const STEPS = 2300;
/** Ends 20 minutes ago, so the correlator's "recent events" filter (real clock) sees the same window in both runs. */
const START = Math.floor((Date.now() - STEPS * STEP - 20 * 60_000) / STEP) * STEP;

/**
 * One scripted run of a baseline detector: three series in batches of three samples, spikes on
 * `web`, an outage of `db` while its learning is paused, a level shift on `queue`, feedback of both
 * verdicts, an unknown verdict, expectations read along the way; then snapshot, restore into a
 * fresh instance, and more data on that instance.
 */
async function baselineRun(factory: DetectorFactory<unknown>) {
  const topology = new ObservableTopology();
  const h = await startDetector(factory, { instanceId: 'baseline/parity', topology });
  const detector = h.detector as Detector;
  const ids = [web, db, queue].map((d) => h.catalog.series(d));
  const [w, d, q] = ids;
  const series = new Uint32Array(ids);
  const timestamps = new Float64Array(3);
  const values = new Float64Array(3);
  const shape = [dailySeries(3), dailySeries(4), dailySeries(5)];
  const spikes = new Map([[800, 150], [1400, 80], [2000, 400]]);
  const expectations: unknown[] = [];
  const thresholds: unknown[] = [];
  const feed = (from: number, to: number, det: Detector) => {
    for (let i = from; i < to; i++) {
      const t = START + i * STEP;
      timestamps.fill(t);
      values[0] = shape[0](t) + (spikes.get(i) ?? 0);
      values[1] = i >= 1500 && i < 1600 ? 3 : shape[1](t);
      values[2] = shape[2](t) + (i >= 1800 ? 60 : 0) + (i === 2250 ? 200 : 0);
      det.process({ length: 3, series, timestamps, values });
    }
  };
  const readExpectations = async (det: Detector) => {
    await settled(det);
    expectations.push(ids.map((id) => det.expectation?.(id)));
  };

  feed(0, 850, detector);
  await readExpectations(detector);
  const first = h.anomalies.find((a) => a.seriesId === w && a.timestamp === START + 800 * STEP);
  thresholds.push(await detector.feedback!(w, 'not-a-problem', START + 800 * STEP, first?.score));
  feed(850, 1500, detector);
  await readExpectations(detector);
  detector.pauseLearning!({ 'service.name': 'db' }, true);
  feed(1500, 1600, detector);
  detector.pauseLearning!({ 'service.name': 'db' }, false);
  feed(1600, 1900, detector);
  thresholds.push(await detector.feedback!(q, 'missed-here', START + 1850 * STEP));
  thresholds.push(await detector.feedback!(999, 'missed-here', START));
  const unknownVerdict = await Promise.resolve()
    .then(() => detector.feedback!(w, 'wrong' as never, START))
    .then(
      () => 'accepted',
      (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
    );
  feed(1900, 2100, detector);
  await readExpectations(detector);
  await settled(detector);
  const snapshot = detector.snapshot!();
  const feedbackLog = detector.feedbackLog!();

  // A fresh instance restores the bytes: same state (same bytes again), same answers, same future.
  const fresh = await startDetector(factory, { instanceId: 'baseline/parity-restored', topology });
  for (const desc of [web, db, queue]) fresh.catalog.series(desc);
  const restored = fresh.detector as Detector;
  restored.restore!(snapshot);
  await settled(restored);
  const snapshotAfterRestore = restored.snapshot!();
  await readExpectations(restored);
  const restoredLog = restored.feedbackLog!();
  feed(2100, STEPS, restored);
  await readExpectations(restored);

  // Bad bytes: a degraded status with the same coded message, and learning from scratch.
  const broken = await startDetector(factory, { instanceId: 'baseline/parity-broken', topology });
  broken.detector.restore!(new Uint8Array([1, 2, 3]));
  await eventually(() => broken.statuses.some((s) => s.state === 'degraded'), 'a degraded status after bad bytes');

  await settled(restored);
  const result = {
    anomalies: h.anomalies,
    restoredAnomalies: fresh.anomalies,
    expectations,
    thresholds,
    unknownVerdict,
    feedbackLog,
    restoredLog,
    snapshot: Buffer.from(snapshot).toString('base64'),
    snapshotAfterRestore: Buffer.from(snapshotAfterRestore).toString('base64'),
    brokenStatus: broken.statuses.filter((s) => s.state === 'degraded'),
  };
  await h.shutdown();
  await fresh.shutdown();
  await broken.shutdown();
  return result;
}

const anomaly = (over: Partial<Anomaly> & Pick<Anomaly, 'id' | 'seriesId' | 'timestamp'>): Anomaly => ({
  metric: 'http.server.errors',
  resource: {},
  attributes: {},
  detector: 'baseline',
  kind: 'spike',
  value: 50,
  expected: Number.NaN,
  lower: Number.NaN,
  upper: Number.NaN,
  score: 0.95,
  severity: 'critical',
  message: 'errors spiked',
  ...over,
});

/**
 * One scripted run of the incident correlator: containers on hosts and services calling each
 * other (the topology changes while it runs), a deploy event, anomalies that group through the
 * topology and ticks that resolve incidents; then its snapshot and a fresh instance restored from it.
 */
async function correlatorRun(factory: CorrelatorFactory<unknown>) {
  const topology = new ObservableTopology();
  topology.apply({
    upsertEntities: [
      { id: 'host:h1', type: 'host', name: 'h1', attributes: {} },
      { id: 'container:c1', type: 'container', name: 'web-1', attributes: { 'container.id': 'c1' } },
      { id: 'service:web', type: 'service', name: 'web', attributes: {} },
      { id: 'service:db', type: 'service', name: 'db', attributes: {} },
    ],
    upsertEdges: [
      { from: 'container:c1', to: 'host:h1', type: 'runs-on' },
      { from: 'container:c1', to: 'service:web', type: 'member-of' },
    ],
  });
  const h = await startCorrelator(factory, { instanceId: 'incidents/parity', topology, clock: realClock });
  const c = h.correlator;
  const t0 = START + 2000 * STEP;
  const deploy: SextantEvent = { id: 'ev-1', type: 'deploy', timestamp: t0 - 20 * 60_000, title: 'db deployed 2.1', resource: { 'service.name': 'db' }, severity: 'info', source: 'api' };
  c.onEvent?.(deploy);
  c.onAnomaly(anomaly({ id: 'a1', seriesId: 0, timestamp: t0, resource: { 'container.id': 'c1', 'service.name': 'web' } }));
  // web-1 starts calling db only now: the db anomaly joins web-1's incident through this edge.
  topology.apply({ upsertEdges: [{ from: 'container:c1', to: 'service:db', type: 'calls' }] });
  c.onAnomaly(anomaly({ id: 'a2', seriesId: 1, timestamp: t0 + 30_000, metric: 'db.latency', resource: { 'service.name': 'db' }, kind: 'level-shift', score: 0.97 }));
  c.onAnomaly(anomaly({ id: 'a3', seriesId: 2, timestamp: t0 + 60_000, metric: 'disk.used', resource: { 'host.name': 'h9' }, kind: 'exhaustion', score: 0.99 }));
  c.tick?.(t0 + 5 * 60_000);
  await settled(c);
  const snapshot = c.snapshot!();
  c.tick?.(t0 + 60 * 60_000);
  await settled(c);

  const fresh = await startCorrelator(factory, { instanceId: 'incidents/parity-restored', topology, clock: realClock });
  fresh.correlator.restore!(snapshot);
  fresh.correlator.onAnomaly(anomaly({ id: 'a4', seriesId: 1, timestamp: t0 + 120_000, metric: 'db.latency', resource: { 'service.name': 'db' }, kind: 'level-shift', score: 0.97 }));
  fresh.correlator.tick?.(t0 + 90 * 60_000);
  await settled(fresh.correlator);
  const result = {
    updates: h.updates,
    restoredUpdates: fresh.updates,
    snapshot: Buffer.from(snapshot).toString('base64'),
    snapshotAfterRestore: Buffer.from(fresh.correlator.snapshot!()).toString('base64'),
  };
  await h.shutdown();
  await fresh.shutdown();
  return result;
}

describe('a detector and a correlator in a plugin child process behave as in-process', () => {
  let remote: RemotePlugin;
  let local: LocalFactoryRegistry;
  let child: LocalFactoryRegistry;

  beforeAll(async () => {
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'core/protocol/tsconfig.lib.json', 'core/analysis/tsconfig.lib.json'], { cwd: root, stdio: 'inherit' });
    } catch {
      throw new Error('@sextant/protocol or @sextant/analysis did not compile (errors above); the child would run stale output');
    }
    local = new LocalFactoryRegistry();
    await local.register(analysisPlugin, new RecordingLogger());
    remote = await launchPluginProcess({ pluginModule: join(here, '../dist/plugin.js'), displayName: 'analysis (parity)', logger: new RecordingLogger() });
    child = new LocalFactoryRegistry();
    await child.register(remote.plugin, new RecordingLogger());
  }, 240_000);

  afterAll(async () => {
    await remote?.shutdown();
  });

  it('baseline: the same anomalies, expectations, feedback, paused learning and learned state', async () => {
    const inProcess = await baselineRun(local.detectors.get('baseline')!);
    const isolated = await baselineRun(child.detectors.get('baseline')!);
    // The scenario is not empty: spikes alert, feedback moved thresholds, restore kept the model.
    expect(inProcess.anomalies.length).toBeGreaterThan(3);
    expect(inProcess.restoredAnomalies.length).toBeGreaterThan(0);
    expect(inProcess.thresholds[0]).toBeGreaterThan(0.35);
    expect(inProcess.thresholds[2]).toBeUndefined();
    expect(inProcess.unknownVerdict).toMatchObject({ code: 'SEXTANT_ERR_CONFIG_INVALID' });
    expect(inProcess.feedbackLog).toHaveLength(2);
    expect(inProcess.snapshotAfterRestore).toBe(inProcess.snapshot);
    expect((inProcess.expectations[0] as unknown[]).every((e) => e !== undefined)).toBe(true);

    expect(isolated.anomalies).toEqual(inProcess.anomalies);
    expect(isolated.expectations).toEqual(inProcess.expectations);
    expect(isolated.thresholds).toEqual(inProcess.thresholds);
    expect(isolated.unknownVerdict).toEqual(inProcess.unknownVerdict);
    expect(isolated.feedbackLog).toEqual(inProcess.feedbackLog);
    expect(isolated.restoredLog).toEqual(inProcess.restoredLog);
    expect(isolated.snapshot).toBe(inProcess.snapshot);
    expect(isolated.snapshotAfterRestore).toBe(inProcess.snapshotAfterRestore);
    expect(isolated.restoredAnomalies).toEqual(inProcess.restoredAnomalies);
    expect(isolated.brokenStatus).toEqual(inProcess.brokenStatus);
  }, 240_000);

  it('paused learning is carried: without the pause the outage is learned and the model differs', async () => {
    // Guards the test above against a pause that silently does nothing in both runs.
    const factory = local.detectors.get('baseline')!;
    const run = async (pause: boolean) => {
      const h = await startDetector(factory, {});
      const id = h.catalog.series(db);
      const shape = dailySeries(4);
      for (let i = 0; i < 1700; i++) {
        if (i === 1500 && pause) h.detector.pauseLearning!({ 'service.name': 'db' }, true);
        if (i === 1600 && pause) h.detector.pauseLearning!({ 'service.name': 'db' }, false);
        const t = START + i * STEP;
        h.feed(id, t, i >= 1500 && i < 1600 ? 3 : shape(t));
      }
      const e = h.detector.expectation!(id);
      await h.shutdown();
      return e;
    };
    expect(await run(true)).not.toEqual(await run(false));
  }, 120_000);

  it('a child that crashes gets the learned state back that the host fetched last, and keeps running', async () => {
    const h = await startDetector(child.detectors.get('baseline')!, { instanceId: 'baseline/crash', topology: new ObservableTopology() });
    const id = h.catalog.series(web);
    const shape = dailySeries(7);
    for (let i = 0; i < 900; i++) h.feed(id, START + i * STEP, shape(START + i * STEP));
    await h.detector.prepareSnapshot!();
    const before = Buffer.from(h.detector.snapshot!());
    const pid = remote.status().pid!;
    process.kill(pid, 'SIGKILL');
    await eventually(() => h.statuses.some((s) => s.state === 'ok' && s.message === 'plugin process restarted') && remote.status().pid !== pid, 'the instance re-created in a new child');
    await h.detector.prepareSnapshot!();
    expect(Buffer.from(h.detector.snapshot!()).equals(before)).toBe(true);
    // and it still learns: one more batch changes the state
    h.feed(id, START + 900 * STEP, shape(START + 900 * STEP));
    await h.detector.prepareSnapshot!();
    expect(Buffer.from(h.detector.snapshot!()).equals(before)).toBe(false);
    await h.shutdown();
  }, 120_000);

  it('incident correlator: the same incident updates with a topology that changes while it runs, and the same restored state', async () => {
    const inProcess = await correlatorRun(local.correlators.get('incidents')!);
    const isolated = await correlatorRun(child.correlators.get('incidents')!);
    expect(inProcess.updates.length).toBeGreaterThan(1);
    // The db anomaly joined web-1's incident only through the edge added while the correlator ran.
    expect(inProcess.updates.find((u) => u.incident.anomalyIds.includes('a2'))?.incident.anomalyIds).toContain('a1');
    expect(inProcess.restoredUpdates.length).toBeGreaterThan(0);
    expect(isolated.updates).toEqual(inProcess.updates);
    // The correlator's snapshot is JSON of the anomalies it holds; an anomaly that crossed the
    // process boundary is rebuilt with its keys in the pipeline's order, which may differ from the
    // order a detector wrote them in, so the state is compared as values, not as bytes.
    const state = (base64: string) => JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown;
    expect(state(isolated.snapshot)).toEqual(state(inProcess.snapshot));
    expect(isolated.restoredUpdates).toEqual(inProcess.restoredUpdates);
    expect(state(isolated.snapshotAfterRestore)).toEqual(state(inProcess.snapshotAfterRestore));
  }, 240_000);

});
