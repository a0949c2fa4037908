/**
 * Faults and bad input, against the recorded-shape stand-in manager (a unix-socket server that
 * answers like Docker 20.10): engines that are not managers or not in a swarm, a swarm left while
 * running, garbage, oversized and malformed answers, a dead socket, an engine that refuses the
 * event stream, and change events from polling. The real engine is in swarm-real.test.ts.
 */
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { ErrorCode } from '@sextant/plugin-api';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { startCollector, type CollectorHarness } from '@sextant/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecordedSwarmEngine, SWARM_METRICS, swarmCollectorFactory, type RecordedSwarmShape, type SwarmCollector } from '../src/index.js';
import { replayTopology } from './fixtures/topology-replay.js';

const small = { nodes: 3, services: 4, tasksPerService: 3 };
const conformanceEngine = new RecordedSwarmEngine(small);
beforeAll(() => conformanceEngine.start());
afterAll(() => conformanceEngine.stop());

describeCollectorConformance(swarmCollectorFactory, {
  config: { socket: conformanceEngine.socketPath },
  invalid: { config: { host: 'localhost:2375' }, path: 'host' },
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function engine(shape: RecordedSwarmShape = small): Promise<RecordedSwarmEngine> {
  const e = new RecordedSwarmEngine(shape);
  await e.start();
  cleanups.push(() => e.stop());
  return e;
}

async function collector(config: Record<string, unknown>): Promise<CollectorHarness> {
  const h = await startCollector(swarmCollectorFactory, { config: { maxBackoff: '100ms', ...config } });
  cleanups.push(() => h.shutdown());
  return h;
}

describe('swarm plugin faults', () => {
  it('reports the cluster from the leader: every service, node and task', async () => {
    const e = await engine();
    const h = await collector({ socket: e.socketPath });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'ok', message: expect.stringContaining('swarm leader: 3 nodes, 4 services, 12 tasks') });
    expect(h.sink.of(SWARM_METRICS.serviceRunning.metric).map((s) => s.value)).toEqual([3, 3, 3, 3]);
    expect(h.sink.of(SWARM_METRICS.updateActive.metric).map((s) => s.value)).toEqual([1, 0, 0, 0]);
    expect(h.sink.last(SWARM_METRICS.clusterNodes.metric, { 'docker.swarm.node.state': 'ready' })).toBe(3);
    const t = replayTopology(h.sink.topologyUpdates);
    expect(t.ofType('service')).toHaveLength(4);
    expect(t.ofType('task')).toHaveLength(12);
    expect(t.find({ type: 'member-of' }).filter((e) => e.from.startsWith('container:'))).toHaveLength(12);
    expect(JSON.parse(String(t.entities.get('service:stack0_app-0')?.attributes['docker.swarm.service.ports']))).toEqual([{ targetPort: 8080, publishedPort: 30000, protocol: 'tcp', publishMode: 'ingress' }]);
    expect(t.entities.get('service:stack1_app-1')?.attributes).toMatchObject({ 'docker.swarm.service.ports': '[]', 'docker.swarm.service.image': 'registry.example/team-1/app-1:1.1.0', 'docker.swarm.stack.namespace': 'stack1' });
    // Never upserts the containers collector's entities.
    expect([...t.entities.keys()].filter((id) => id.startsWith('container:'))).toEqual([]);
  });

  it('says so, and writes nothing, on a worker', async () => {
    const e = await engine();
    e.mode = 'worker';
    const h = await collector({ socket: e.socketPath });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'ok', message: expect.stringContaining('swarm worker') });
    expect((h.collector as SwarmCollector).swarmRole).toBe('worker');
    expect(h.sink.samples).toEqual([]);
    expect(h.sink.topologyUpdates).toEqual([]);
    expect(e.requests.get('/tasks')).toBeUndefined();
  });

  it('leaves the cluster to the leader on a follower manager', async () => {
    const e = await engine();
    e.mode = 'follower';
    const h = await collector({ socket: e.socketPath });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'ok', message: expect.stringContaining('not the leader: the agent on the leader (node-0)') });
    expect(h.sink.samples).toEqual([]);
    expect(e.requests.get('/services')).toBeUndefined();
  });

  it('reports every manager with report: always', async () => {
    const e = await engine();
    e.mode = 'follower';
    const h = await collector({ socket: e.socketPath, report: 'always' });
    await h.collect();
    expect(h.sink.of(SWARM_METRICS.serviceDesired.metric)).toHaveLength(4);
  });

  it('says the engine is not in a swarm, with a coded status', async () => {
    const e = await engine();
    e.mode = 'outside';
    const h = await collector({ socket: e.socketPath });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'degraded', code: ErrorCode.CONFIG_INVALID, message: expect.stringContaining('is not part of a swarm') });
    expect(h.sink.samples).toEqual([]);
  });

  it('withdraws its topology when the swarm is left while running, and comes back when rejoined', async () => {
    const e = await engine();
    const h = await collector({ socket: e.socketPath });
    await h.collect();
    expect(replayTopology(h.sink.topologyUpdates).entities.size).toBeGreaterThan(0);
    e.mode = 'outside';
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'degraded', message: expect.stringContaining('any more (the swarm was left)') });
    const t = replayTopology(h.sink.topologyUpdates);
    expect(t.entities.size).toBe(0);
    expect(t.edges).toEqual([]);
    e.mode = 'leader';
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(replayTopology(h.sink.topologyUpdates).ofType('task')).toHaveLength(12);
  });

  it('reports a dead socket as a coded error with a fix', async () => {
    const h = await collector({ socket: join(tmpdir(), `sextant-no-engine-${process.pid}.sock`) });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.CONNECTION_FAILED, message: expect.stringContaining('does not exist') });
    expect(h.metrics.counters.engine_errors_total).toBeGreaterThanOrEqual(1);
    expect(h.sink.samples).toEqual([]);
  });

  it('reports permission denied on the socket as AUTH_FAILED with the fix', async () => {
    const e = await engine();
    // The socket's folder is private to its owner. As root (which ignores permissions) the check
    // runs with the effective uid of nobody for its duration; the real uid stays root to switch back.
    chmodSync(dirname(e.socketPath), 0o700);
    const asRoot = process.geteuid?.() === 0;
    if (asRoot) process.seteuid!(65534);
    let h: CollectorHarness;
    try {
      h = await collector({ socket: e.socketPath });
      await h.collect();
    } finally {
      if (asRoot) process.seteuid!(0);
    }
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.AUTH_FAILED, message: expect.stringContaining('permission denied') });
    expect(h.sink.samples).toEqual([]);
  });

  it('turns a non-JSON answer into PARSE_FAILED and goes on at the next poll', async () => {
    const e = await engine();
    const h = await collector({ socket: e.socketPath });
    e.mode = 'garbage';
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.PARSE_FAILED });
    e.mode = 'leader';
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('refuses an answer above maxResponseBytes instead of buffering it', async () => {
    const e = await engine({ nodes: 3, services: 300, tasksPerService: 3 });
    expect(e.bodyBytes).toBeGreaterThan(1_000_000);
    const h = await collector({ socket: e.socketPath, maxResponseBytes: 1_000_000 });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.LIMIT_EXCEEDED });
  });

  it('skips and counts entries without ids, and never writes a non-finite value', async () => {
    const e = await engine();
    e.bodies.set('/tasks', JSON.stringify([{ Status: { State: 'running' } }, null, 7, { ID: 't1', ServiceID: 'nope', Status: { State: 'bogus', ContainerStatus: { ExitCode: 'x' } }, Slot: -1 }]));
    e.bodies.set('/nodes', JSON.stringify([{ ID: 'n1', ManagerStatus: { Leader: true }, Description: { Resources: { NanoCPUs: 'lots', MemoryBytes: -1 } } }, {}]));
    const h = await collector({ socket: e.socketPath });
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.metrics.counters.malformed_entries_total).toBe(4);
    expect(h.sink.rejected).toBe(0);
    expect(h.sink.last(SWARM_METRICS.nodeCpus.metric, { 'docker.swarm.node.id': 'n1' })).toBe(0);
    expect(h.sink.last(SWARM_METRICS.nodeMemory.metric, { 'docker.swarm.node.id': 'n1' })).toBe(0);
    expect(h.sink.of(SWARM_METRICS.serviceRunning.metric).map((s) => s.value)).toEqual([0, 0, 0, 0]);
  });

  it('derives change events from polls, once each, when the engine refuses the event stream', async () => {
    const e = await engine();
    e.eventsStatus = 403;
    const h = await collector({ socket: e.socketPath });
    await h.collect();
    expect(h.lastStatus()?.message).toContain('change events from polling');
    e.setShape({ nodes: 3, services: 5, tasksPerService: 4 });
    await h.collect();
    await h.collect();
    const types = h.sink.events.map((ev) => `${ev.type}:${String(ev.resource['service.name'] ?? ev.resource['host.name'])}`);
    expect(types.filter((t) => t.startsWith('deploy:'))).toEqual(['deploy:stack4_app-4']);
    expect(types.filter((t) => t.startsWith('scale:'))).toHaveLength(4);
    expect(h.sink.events.every((ev) => ev.attributes?.['docker.swarm.event.origin'] === 'poll')).toBe(true);
    expect(new Set(h.sink.events.map((ev) => ev.id)).size).toBe(h.sink.events.length);
  });

  it('counts restarts from the retained failed tasks and reports a crash loop once', async () => {
    const e = await engine({ nodes: 1, services: 2, tasksPerService: 1, failedPerService: 0 });
    const h = await collector({ socket: e.socketPath, failureThreshold: 3, failureWindow: '1000d' });
    await h.collect();
    expect(h.sink.events.filter((ev) => ev.type.startsWith('swarm.task'))).toEqual([]);
    e.setShape({ nodes: 1, services: 2, tasksPerService: 1, failedPerService: 2 });
    await h.collect();
    expect(h.sink.events.filter((ev) => ev.type === 'swarm.task.failed')).toHaveLength(4);
    expect(h.sink.last(SWARM_METRICS.serviceRestarts.metric, { 'service.name': 'stack0_app-0' })).toBe(2);
    e.setShape({ nodes: 1, services: 2, tasksPerService: 1, failedPerService: 4 });
    await h.collect();
    await h.collect();
    expect(h.sink.events.filter((ev) => ev.type === 'swarm.task.failing').map((ev) => ev.resource['service.name'])).toEqual(['stack0_app-0', 'stack1_app-1']);
    // The poll that crosses the threshold still reports its own failures; later ones only count.
    expect(h.sink.events.filter((ev) => ev.type === 'swarm.task.failed')).toHaveLength(4 + 4);
    e.setShape({ nodes: 1, services: 2, tasksPerService: 1, failedPerService: 5 });
    await h.collect();
    expect(h.sink.events.filter((ev) => ev.type === 'swarm.task.failed')).toHaveLength(8);
    expect(h.sink.last(SWARM_METRICS.serviceRestarts.metric, { 'service.name': 'stack0_app-0' })).toBe(5);
  });
});
