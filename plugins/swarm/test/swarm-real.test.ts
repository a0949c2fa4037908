/**
 * The swarm plugin against the real dockerd on this machine, joined to a single-node swarm by the
 * fixture (`docker swarm init --advertise-addr 127.0.0.1`, left again at the end only if the
 * fixture joined it). Every swarm scenario lives in this one file so no two files init or leave
 * the swarm at the same time. The plugin talks to the engine through a unix-socket proxy so one
 * scenario can break its connection mid-stream.
 *
 * Needs dockerd (apt-get install docker.io busybox-static; dockerd --bridge=none --iptables=false).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SextantEvent } from '@sextant/plugin-api';
import { needCondition, startCollector, type CollectorHarness } from '@sextant/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersCollectorFactory } from '@sextant/collector-containers';
import { ErrorCode } from '@sextant/plugin-api';
import { SWARM_METRICS, swarmCollectorFactory, type SwarmCollector } from '../src/index.js';
import { EngineProxy, SwarmFixture, docker, dockerAvailable } from './fixtures/swarm-fixture.js';
import { replayTopology } from './fixtures/topology-replay.js';

const available = dockerAvailable();
const reason = 'dockerd is not running (apt-get install docker.io busybox-static; dockerd --bridge=none --iptables=false)';
const fixture = new SwarmFixture();
const proxy = new EngineProxy();
let h: CollectorHarness;

/** The containers collector beside the swarm plugin, as an agent runs them: its metrics must not care about the swarm. */
let containers: CollectorHarness | undefined;
let startedOutside = false;

beforeAll(async () => {
  if (!available) return;
  startedOutside = docker('info', '--format', '{{.Swarm.LocalNodeState}}') !== 'active';
  fixture.buildImage('v2');
  await proxy.start();
  h = await startCollector(swarmCollectorFactory, { config: { socket: proxy.socketPath, failureThreshold: 3, failureWindow: '2m', maxBackoff: '1s' } });
  containers = await startCollector(containersCollectorFactory, { config: { include: [`label:${fixture.label}`] } });
}, 120_000);

afterAll(async () => {
  await h?.shutdown();
  await containers?.shutdown();
  if (available) {
    await proxy.stop();
    fixture.cleanup();
  }
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls like the scheduler does until `condition` holds. */
async function pollUntil(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await h.collect();
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last status: ${JSON.stringify(h.lastStatus())}`);
    await sleep(250);
  }
}

const M = SWARM_METRICS;
const of = (service: string) => ({ 'service.name': service });
const last = (metric: string, service: string, attrs: Record<string, string> = {}) => h.sink.last(metric, { ...of(service), ...attrs });
const eventsOf = (service: string, type?: string): SextantEvent[] => h.sink.events.filter((e) => e.resource['service.name'] === service && (!type || e.type === type));
const topology = () => replayTopology(h.sink.topologyUpdates);
/** Containers the topology puts in the service's peer group (`member-of` edges from containers). */
const peerContainers = (service: string) =>
  topology()
    .find({ to: `service:${service}`, type: 'member-of' })
    .filter((e) => e.from.startsWith('container:'))
    .map((e) => e.from.slice('container:'.length))
    .sort();

/** Memory of a plain container as the containers collector reports it (appears within a few polls). */
async function containerMetricsFlow(): Promise<void> {
  const id = docker('run', '-d', '--label', fixture.label, '--network', 'none', fixture.image, 'sleep', '120');
  const deadline = Date.now() + 30_000;
  while (containers!.sink.last('container.memory.usage', { 'container.id': id }) === undefined) {
    if (Date.now() > deadline) throw new Error('the containers collector reported no memory for a plain container');
    await containers!.collect();
    await sleep(250);
  }
  docker('rm', '-f', id);
}

describe('swarm plugin on a real single-node swarm', () => {
  it('says plainly when the engine is not in a swarm, while container metrics go on', async (ctx) => {
    needCondition(ctx, available, reason);
    if (!startedOutside) return ctx.skip('the engine was already in a swarm before this run; "not in a swarm" cannot be shown without leaving it');
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'degraded', code: ErrorCode.CONFIG_INVALID, message: expect.stringContaining('is not part of a swarm') });
    expect(h.sink.samples).toEqual([]);
    await containerMetricsFlow();
  }, 60_000);

  it('is the leader of the swarm it was pointed at', async (ctx) => {
    needCondition(ctx, available, reason);
    fixture.initSwarm();
    await pollUntil(() => h.lastStatus()?.state === 'ok', 'status ok');
    expect((h.collector as SwarmCollector).swarmRole).toBe('leader');
    expect(h.lastStatus()?.message).toMatch(/swarm leader: 1 nodes/);
    const node = topology().entities.get(`swarm-node:${fixture.nodeId}`);
    expect(node?.attributes).toMatchObject({ 'docker.swarm.node.role': 'manager', 'docker.swarm.node.leader': true, 'docker.swarm.node.state': 'ready' });
    expect(h.sink.last(M.nodeLeader.metric, { 'docker.swarm.node.id': fixture.nodeId })).toBe(1);
    expect(h.sink.last(M.nodeCpus.metric, { 'docker.swarm.node.id': fixture.nodeId })).toBeGreaterThan(0);
  });

  it('follows a replicated service of 3 scaled to 5 and back, with its replicas as one peer group', async (ctx) => {
    needCondition(ctx, available, reason);
    const name = fixture.createService('web', ['--replicas', '3']);
    await pollUntil(() => last(M.serviceRunning.metric, name) === 3, '3 running replicas');
    expect(last(M.serviceDesired.metric, name)).toBe(3);
    expect(last(M.serviceTasks.metric, name, { 'docker.swarm.task.state': 'running' })).toBe(3);
    const created = eventsOf(name, 'deploy');
    expect(created.map((e) => e.title)).toContain(`service ${name} created`);
    // The containers of the replicas, with the same ids the containers collector reports.
    await pollUntil(() => peerContainers(name).length === 3 && fixture.runningContainers(name).length === 3, 'peer group of 3');
    expect(peerContainers(name)).toEqual(fixture.runningContainers(name));
    // One entity per container: the containers collector reports these very ids as container:<id>
    // (with the attributes autodiscovery reads), the swarm plugin only links them.
    const reported = () =>
      replayTopology(containers!.sink.topologyUpdates)
        .ofType('container')
        .filter((e) => peerContainers(name).includes(String(e.attributes['container.id'])))
        .map((e) => e.id);
    for (let i = 0; i < 100 && reported().length < 3; i++) {
      await containers!.collect();
      await sleep(100);
    }
    expect(reported().sort()).toEqual(peerContainers(name).map((id) => `container:${id}`));
    expect(replayTopology(h.sink.topologyUpdates).entities.has(reported()[0])).toBe(false);
    const resource = h.sink.of(M.serviceRunning.metric, of(name))[0].resource;
    expect(resource).toMatchObject({ 'service.name': name, 'docker.swarm.service.name': name, 'docker.swarm.service.mode': 'replicated' });

    docker('service', 'scale', '-d', `${name}=5`);
    await pollUntil(() => last(M.serviceRunning.metric, name) === 5 && peerContainers(name).length === 5, '5 replicas');
    expect(last(M.serviceDesired.metric, name)).toBe(5);
    docker('service', 'scale', '-d', `${name}=3`);
    await pollUntil(() => last(M.serviceRunning.metric, name) === 3 && peerContainers(name).length === 3 && fixture.runningContainers(name).length === 3, 'back to 3');
    expect(peerContainers(name)).toEqual(fixture.runningContainers(name));
    const scales = eventsOf(name, 'scale');
    expect(scales.map((e) => [e.attributes?.['docker.swarm.replicas.old'], e.attributes?.['docker.swarm.replicas.new']])).toEqual([
      [3, 5],
      [5, 3],
    ]);
    // Each replica's container is in exactly one peer group, and its task is live in the graph.
    const t = topology();
    for (const id of fixture.runningContainers(name)) {
      expect(t.find({ from: `container:${id}`, type: 'member-of' })).toHaveLength(1);
      const [realizes] = t.find({ from: `container:${id}`, type: 'realizes' });
      expect(t.entities.get(realizes.to)?.attributes['docker.swarm.task.state']).toBe('running');
      expect(t.find({ from: realizes.to, type: 'runs-on' })[0]?.to).toBe(`swarm-node:${fixture.nodeId}`);
    }
    expect(t.ofType('task').filter((e) => e.attributes['docker.swarm.service.name'] === name)).toHaveLength(3);
    docker('service', 'rm', name);
    await pollUntil(() => !topology().entities.has(`service:${name}`), 'service gone from the topology');
    expect(eventsOf(name, 'swarm.service.remove')).toHaveLength(1);
  }, 180_000);

  it('reports a rolling update: events in order, update status, no duplicate entities', async (ctx) => {
    needCondition(ctx, available, reason);
    const name = fixture.createService('roll', ['--replicas', '3', '--update-parallelism', '1', '--update-delay', '0s', '--update-monitor', '500ms']);
    await pollUntil(() => last(M.serviceRunning.metric, name) === 3, '3 running');
    const image2 = `sextant-test/swarm-busybox:v2-${fixture.runId}`;
    docker('service', 'update', '-d', '--no-resolve-image', '--image', image2, name);
    const sawActive: number[] = [];
    await pollUntil(() => {
      sawActive.push(last(M.updateActive.metric, name) ?? -1);
      return eventsOf(name, 'rollout').some((e) => e.attributes?.['docker.swarm.update.state'] === 'completed') && last(M.updateActive.metric, name) === 0;
    }, 'rollout completed', 90_000);
    const changes = eventsOf(name).filter((e) => e.type === 'deploy' || e.type === 'rollout');
    expect(changes.map((e) => [e.type, e.attributes?.['docker.swarm.update.state'] ?? e.attributes?.['docker.swarm.change']])).toEqual([
      ['deploy', 'create'],
      ['deploy', 'update'],
      ['rollout', 'updating'],
      ['rollout', 'completed'],
    ]);
    expect(changes[1].title).toContain(`-> ${image2}`);
    expect(changes.map((e) => e.timestamp)).toEqual([...changes.map((e) => e.timestamp)].sort((a, b) => a - b));
    expect(new Set(h.sink.events.map((e) => e.id)).size).toBe(h.sink.events.length);
    expect(sawActive).toContain(1);
    expect(last(M.updateProgress.metric, name)).toBe(1);
    const t = topology();
    expect(t.entities.get(`service:${name}`)?.attributes).toMatchObject({ 'docker.swarm.update.state': 'completed', 'docker.swarm.service.image': image2 });
    expect(t.ofType('service').filter((e) => e.name === name)).toHaveLength(1);
    await pollUntil(() => peerContainers(name).length === 3 && fixture.runningContainers(name).length === 3, 'three replicas on the new image');
    expect(peerContainers(name)).toEqual(fixture.runningContainers(name));
    expect(t.ofType('task').filter((e) => e.attributes['docker.swarm.service.name'] === name && e.attributes['docker.swarm.task.desired_state'] === 'running')).toHaveLength(3);
    docker('service', 'rm', name);
  }, 180_000);

  it('reports an update that pauses on failure, and one that rolls back', async (ctx) => {
    needCondition(ctx, available, reason);
    const failing = ['--args', 'sh -c "exit 1"', '--update-monitor', '2s', '--update-max-failure-ratio', '0'];
    const paused = fixture.createService('pause', ['--replicas', '2', '--restart-delay', '1s']);
    const rolled = fixture.createService('rollback', ['--replicas', '2', '--restart-delay', '1s']);
    await pollUntil(() => last(M.serviceRunning.metric, paused) === 2 && last(M.serviceRunning.metric, rolled) === 2, 'both running');
    docker('service', 'update', '-d', '--no-resolve-image', ...failing, '--update-failure-action', 'pause', paused);
    docker('service', 'update', '-d', '--no-resolve-image', ...failing, '--update-failure-action', 'rollback', rolled);
    const states = (name: string) => eventsOf(name, 'rollout').map((e) => e.attributes?.['docker.swarm.update.state']);
    await pollUntil(() => states(paused).includes('paused') && states(rolled).includes('rollback_completed') && last(M.updateRolledBack.metric, rolled) === 1, 'paused and rolled back', 120_000);
    expect(states(paused)).toEqual(['updating', 'paused']);
    expect(eventsOf(paused, 'rollout')[1]).toMatchObject({ severity: 'warning', title: expect.stringContaining('paused after task failures') });
    expect(last(M.updatePaused.metric, paused)).toBe(1);
    expect(last(M.updateActive.metric, paused)).toBe(0);
    expect(states(rolled)).toEqual(['updating', 'rollback_started', 'rollback_completed']);
    expect(eventsOf(rolled, 'rollout').at(-1)).toMatchObject({ severity: 'warning', title: `service ${rolled} rolled back to its previous spec` });
    expect(topology().entities.get(`service:${rolled}`)?.attributes['docker.swarm.update.state']).toBe('rollback_completed');
    docker('service', 'rm', paused, rolled);
  }, 180_000);

  it('reports tasks that exit non-zero: failed tasks, restarts, one event per failure, then "failing"', async (ctx) => {
    needCondition(ctx, available, reason);
    const name = fixture.createService('crash', ['--replicas', '1', '--restart-condition', 'on-failure', '--restart-delay', '200ms'], ['sh', '-c', 'sleep 0.2; exit 3']);
    await pollUntil(() => eventsOf(name, 'swarm.task.failing').length === 1, 'service declared failing', 90_000);
    const failed = eventsOf(name, 'swarm.task.failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0].attributes).toMatchObject({ 'docker.swarm.task.exit_code': 3, 'docker.swarm.task.state': 'failed' });
    expect(failed[0].title).toContain('exit code 3');
    expect(eventsOf(name, 'swarm.task.failing')[0]).toMatchObject({ severity: 'critical' });
    expect(last(M.serviceRestarts.metric, name)).toBeGreaterThanOrEqual(3);
    expect(last(M.serviceTasks.metric, name, { 'docker.swarm.task.state': 'failed' })).toBeGreaterThanOrEqual(1);
    // Once failing, further failures raise no more per-task events.
    const before = eventsOf(name, 'swarm.task.failed').length;
    const restartsBefore = last(M.serviceRestarts.metric, name)!;
    await pollUntil(() => last(M.serviceRestarts.metric, name)! > restartsBefore, 'another restart');
    expect(eventsOf(name, 'swarm.task.failed')).toHaveLength(before);
    docker('service', 'rm', name);
  }, 180_000);

  it('reports a global service: one task per node, mode global', async (ctx) => {
    needCondition(ctx, available, reason);
    const name = fixture.createService('global', ['--mode', 'global']);
    await pollUntil(() => last(M.serviceRunning.metric, name) === 1, 'the global task running');
    expect(last(M.serviceDesired.metric, name)).toBe(1);
    expect(h.sink.of(M.serviceDesired.metric, of(name))[0].resource['docker.swarm.service.mode']).toBe('global');
    expect(peerContainers(name)).toEqual(fixture.runningContainers(name));
    docker('service', 'rm', name);
  });

  it('reports a drained node and its return to active', async (ctx) => {
    needCondition(ctx, available, reason);
    const name = fixture.createService('drain', ['--replicas', '2']);
    await pollUntil(() => last(M.serviceRunning.metric, name) === 2, '2 running');
    const node = { 'docker.swarm.node.id': fixture.nodeId };
    const availability = (a: string) => h.sink.last(M.nodeAvailability.metric, { ...node, 'docker.swarm.node.availability': a });
    docker('node', 'update', '--availability', 'drain', fixture.nodeId);
    await pollUntil(() => availability('drain') === 1 && last(M.serviceRunning.metric, name) === 0, 'drained, tasks stopped');
    expect(availability('active')).toBe(0);
    expect(last(M.serviceDesired.metric, name)).toBe(2);
    docker('node', 'update', '--availability', 'active', fixture.nodeId);
    await pollUntil(() => availability('active') === 1 && last(M.serviceRunning.metric, name) === 2, 'active again, tasks back');
    const nodeEvents = h.sink.events.filter((e) => e.type === 'swarm.node.availability' && e.resource['docker.swarm.node.id'] === fixture.nodeId);
    expect(nodeEvents.map((e) => [e.attributes?.['docker.swarm.node.availability'], e.severity])).toEqual([
      ['drain', 'warning'],
      ['active', 'info'],
    ]);
    expect(nodeEvents[0].title).toContain('drained');
    docker('service', 'rm', name);
  }, 180_000);

  it('loses and duplicates no event when the engine connection breaks mid-stream', async (ctx) => {
    needCondition(ctx, available, reason);
    const collector = h.collector as SwarmCollector;
    const name = fixture.createService('gap', ['--replicas', '1']);
    await pollUntil(() => last(M.serviceRunning.metric, name) === 1 && eventsOf(name, 'deploy').length === 1, 'service up, create event seen');
    const reconnectsBefore = collector.eventStream!.reconnects;
    proxy.cut();
    // While the plugin cannot reach the engine: a scale, a spec change and a new service.
    docker('service', 'scale', '-d', `${name}=2`);
    docker('service', 'update', '-d', '--no-resolve-image', '--env-add', 'GAP=1', name);
    const other = fixture.createService('gap2', ['--replicas', '1']);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('error');
    proxy.restore();
    await pollUntil(() => eventsOf(other, 'deploy').length >= 1 && eventsOf(name, 'scale').length >= 1 && eventsOf(name).some((e) => e.attributes?.['docker.swarm.update.state'] === 'completed'), 'events caught up', 90_000);
    await pollUntil(() => h.lastStatus()?.state === 'ok', 'status ok again');
    expect(collector.eventStream!.reconnects).toBeGreaterThan(reconnectsBefore);
    expect(eventsOf(other, 'deploy')).toHaveLength(1);
    expect(eventsOf(name, 'scale')).toHaveLength(1);
    // The env change is a spec change without image news: it shows as the rollout it started.
    expect(eventsOf(name, 'deploy').map((e) => e.attributes?.['docker.swarm.change'])).toEqual(['create']);
    expect(eventsOf(name, 'rollout').map((e) => e.attributes?.['docker.swarm.update.state'])).toEqual(['updating', 'completed']);
    // Break it again with nothing happening: no event is replayed twice.
    const count = h.sink.events.length;
    collector.eventStream!.breakConnection();
    await sleep(1_500);
    await pollUntil(() => h.lastStatus()?.state === 'ok', 'ok');
    expect(h.sink.events.length).toBe(count);
    expect(new Set(h.sink.events.map((e) => e.id)).size).toBe(h.sink.events.length);
    docker('service', 'rm', name, other);
  }, 180_000);

  it('catches up on the events made while the agent was stopped (position kept in its data directory)', async (ctx) => {
    needCondition(ctx, available, reason);
    const dataDir = mkdtempSync(join(tmpdir(), 'sextant-swarm-data-'));
    try {
      const name = fixture.createService('restart', ['--replicas', '1']);
      let agent = await startCollector(swarmCollectorFactory, { dataDir, config: { socket: proxy.socketPath } });
      const until = async (condition: () => boolean, what: string) => {
        const deadline = Date.now() + 60_000;
        for (;;) {
          await agent.collect();
          if (condition()) return;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await sleep(250);
        }
      };
      await until(() => agent.sink.last(M.serviceRunning.metric, of(name)) === 1, 'first agent sees the service');
      await agent.shutdown();
      // While no agent runs: a scale and a new image.
      docker('service', 'scale', '-d', `${name}=2`);
      docker('service', 'update', '-d', '--no-resolve-image', '--image', `sextant-test/swarm-busybox:v2-${fixture.runId}`, name);
      await sleep(1_000);
      agent = await startCollector(swarmCollectorFactory, { dataDir, config: { socket: proxy.socketPath } });
      try {
        const mine = () => agent.sink.events.filter((e) => e.resource['service.name'] === name);
        await until(() => mine().some((e) => e.type === 'scale') && mine().some((e) => e.type === 'deploy'), 'the missed events');
        expect(mine().filter((e) => e.type === 'scale').map((e) => e.title)).toEqual([`service ${name} scaled 1 -> 2 replicas`]);
        expect(mine().filter((e) => e.type === 'deploy')).toHaveLength(1);
        // Nothing the first agent had already reported comes again.
        expect(mine().filter((e) => e.attributes?.['docker.swarm.change'] === 'create')).toEqual([]);
      } finally {
        await agent.shutdown();
      }
      docker('service', 'rm', name);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('withdraws the swarm from the topology when the swarm is left while running; container metrics go on', async (ctx) => {
    needCondition(ctx, available, reason);
    if (!fixture.initialisedSwarm) return ctx.skip('this run did not create the swarm, so it must not leave it');
    const name = fixture.createService('left', ['--replicas', '2']);
    await pollUntil(() => peerContainers(name).length === 2, 'two replicas in the topology');
    fixture.leaveSwarm();
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'degraded', code: ErrorCode.CONFIG_INVALID, message: expect.stringContaining('any more (the swarm was left)') });
    const t = topology();
    expect([...t.entities.keys()].filter((id) => /^(service|task|swarm-node):/.test(id))).toEqual([]);
    expect(t.find({ type: 'member-of' })).toEqual([]);
    expect((h.collector as SwarmCollector).swarmRole).toBe('outside');
    await containerMetricsFlow();
  }, 120_000);
});
