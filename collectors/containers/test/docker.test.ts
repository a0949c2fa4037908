/**
 * The collector against the real Docker engine on this machine (cgroup v1 here; v2 is covered by
 * the synthetic trees). Needs dockerd: apt-get install docker.io; dockerd --bridge=none --iptables=false.
 */
import { needCondition, startCollector, type CollectorHarness } from '@sextant/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTAINER_ENTITY_KEYS, containersCollectorFactory } from '../src/index.js';
import { DockerFixture, docker, dockerAvailable, until } from './fixtures/docker-fixture.js';

const available = dockerAvailable();
const reason = 'dockerd is not running (apt-get install docker.io; dockerd --bridge=none --iptables=false)';
const fixture = new DockerFixture();
let image = '';
let h: CollectorHarness;

beforeAll(async () => {
  if (!available) return;
  [image] = fixture.buildImages('sextant-test/busybox');
  h = await startCollector(containersCollectorFactory, { config: { include: [`label:${fixture.label}`] } });
  await until(() => h.lastStatus()?.state === 'ok', 'engine sync');
});

afterAll(async () => {
  await h?.shutdown();
  if (available) fixture.cleanup();
});

const stateOf = (id: string) =>
  h.sink.topologyUpdates
    .flatMap((u) => [...(u.upsertEntities ?? []).filter((e) => e.id === `container:${id}`).map((e) => String(e.attributes[CONTAINER_ENTITY_KEYS.state])), ...(u.removeEntities?.includes(`container:${id}`) ? ['removed'] : [])])
    .at(-1);
const eventsOf = (id: string, type: string) => h.sink.events.filter((e) => e.resource['container.id'] === id && e.type === type);

describe('containers collector with Docker', () => {
  it('measures a CPU-limited container: usage close to the limit and throttling counted', async (ctx) => {
    needCondition(ctx, available, reason);
    const id = fixture.run(['--network', 'none', '--cpus', '0.1', '--memory', '64m'], image, ['sh', '-c', 'yes > /dev/null']);
    await until(() => stateOf(id) === 'running', 'container seen running');
    await h.collect();
    await new Promise((r) => setTimeout(r, 3_000));
    await h.collect();
    const at = { 'container.id': id };
    // A small quota (0.1 core) is reached even on a busy shared machine, so the busy loop is
    // throttled in most 100 ms periods and its usage sits just under the limit.
    const cores = h.sink.last('container.cpu.usage', at)!;
    expect(cores).toBeGreaterThan(0.05);
    expect(cores).toBeLessThan(0.12);
    expect(h.sink.last('container.cpu.utilization', at)).toBeCloseTo(cores / 0.1, 9);
    expect(h.sink.last('container.cpu.throttled.periods', at)).toBeGreaterThan(1);
    expect(h.sink.last('container.cpu.throttled.time', at)).toBeGreaterThan(0);
    expect(h.sink.last('container.memory.usage', at)).toBeGreaterThan(0);
    expect(h.sink.last('container.memory.utilization', at)).toBeLessThan(0.5);
    expect(h.sink.last('container.pids.count', at)).toBeGreaterThanOrEqual(1);
    expect(h.sink.last('container.network.io', { ...at, 'network.io.direction': 'receive' })).toBe(0);
    const resource = h.sink.of('container.cpu.usage', at)[0].resource;
    expect(resource).toMatchObject({ 'container.id': id, 'container.image.name': 'sextant-test/busybox', 'container.image.tags': fixture.runId, 'container.runtime': 'docker' });
    expect(h.metrics.counters.cgroup_parse_errors_total ?? 0).toBe(0);
    docker('rm', '-f', id);
  });

  it('reports an OOM kill of a memory-limited container as an event', async (ctx) => {
    needCondition(ctx, available, reason);
    const id = fixture.run(['--network', 'none', '--memory', '16m', '--memory-swap', '16m'], image, ['sh', '-c', 'a=$(head -c 67108864 /dev/zero | tr "\\0" x); sleep 60']);
    await until(() => eventsOf(id, 'container.oom').length > 0, 'container.oom event', 20_000);
    await until(() => eventsOf(id, 'container.die').length > 0, 'container.die event');
    expect(eventsOf(id, 'container.oom')[0]).toMatchObject({ severity: 'critical', title: expect.stringContaining('ran out of memory') });
    expect(eventsOf(id, 'container.die')[0].attributes).toMatchObject({ 'container.exit_code': 137 });
    docker('rm', '-f', id);
  });

  it('picks up start, restart, stop and removal within one interval', async (ctx) => {
    needCondition(ctx, available, reason);
    const id = fixture.run(['--network', 'none', '--name', `sx-life-${fixture.runId}`], image, ['sleep', '300']);
    await until(() => eventsOf(id, 'container.start').length === 1 && stateOf(id) === 'running', 'start');
    docker('restart', '-t', '0', id);
    await until(() => eventsOf(id, 'container.restart').length === 1, 'restart');
    // A restart is kill, die, stop, start, restart: count stops from here.
    await until(() => stateOf(id) === 'running', 'running again');
    const stopsBefore = eventsOf(id, 'container.stop').length;
    docker('stop', '-t', '0', id);
    await until(() => eventsOf(id, 'container.stop').length === stopsBefore + 1 && stateOf(id) === 'exited', 'stop');
    expect(eventsOf(id, 'container.die').length).toBeGreaterThanOrEqual(2);
    docker('rm', id);
    await until(() => stateOf(id) === 'removed', 'removal');
    expect(eventsOf(id, 'container.start')[0].resource['container.name']).toBe(`sx-life-${fixture.runId}`);
  });
});
