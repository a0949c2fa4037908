/**
 * The collector against a synthetic engine (unix-socket HTTP server with in-memory containers)
 * and synthetic cgroup/proc trees: both cgroup versions and drivers, faults, and scale.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, type SextantEvent } from '@sextant/plugin-api';
import { FakeClock, startCollector, type CollectorHarness } from '@sextant/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONTAINER_ENTITY_KEYS,
  SYNTHETIC_MEMORY,
  SYNTHETIC_RATES,
  SyntheticEngine,
  SyntheticHost,
  containersCollectorFactory,
  engineSocketError,
  resolveSocketPath,
} from '../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const hexId = (n: number) => n.toString(16).padStart(8, '0').repeat(8);

interface Setup {
  dir: string;
  engine: SyntheticEngine;
  host: SyntheticHost;
  clock: FakeClock;
  h: CollectorHarness;
}

async function setup(opts: { version: 1 | 2; driver: 'cgroupfs' | 'systemd'; count?: number; config?: Record<string, unknown>; startEngine?: boolean; platform?: string }): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'sx-ctr-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const count = opts.count ?? 2;
  const containers = Array.from({ length: count }, (_, i) => ({ id: hexId(i + 1), pid: 1000 + i, cpuLimitCores: 0.5, memoryLimitBytes: 256 * 2 ** 20 }));
  const host = new SyntheticHost({ dir, version: opts.version, driver: opts.driver, containers });
  const engine = new SyntheticEngine(join(dir, 'engine.sock'));
  if (opts.platform) engine.platform = opts.platform;
  containers.forEach((c, i) =>
    engine.add({ id: c.id, name: `app-${i}`, image: i === 0 ? 'docker.io/library/nginx:1.25' : 'redis:7', pid: c.pid, ip: `10.0.0.${i + 2}`, exposed: [80], labels: { 'com.docker.compose.service': `svc-${i}`, secret: 'not-copied' }, nanoCpus: 5e8, memory: 256 * 2 ** 20 }),
  );
  if (opts.startEngine !== false) await engine.start();
  cleanups.push(() => engine.stop());
  const clock = new FakeClock();
  const h = await startCollector(containersCollectorFactory, {
    clock,
    config: { socket: engine.socketPath, cgroupRoot: host.cgroupRoot, procRoot: host.procRoot, ...opts.config },
  });
  cleanups.push(() => h.shutdown());
  return { dir, engine, host, clock, h };
}

async function twoRounds(s: Setup): Promise<void> {
  await s.h.collect();
  s.host.advance(10);
  s.clock.advance(10_000);
  await s.h.collect();
}

describe.each([
  { version: 2 as const, driver: 'systemd' as const },
  { version: 2 as const, driver: 'cgroupfs' as const },
  { version: 1 as const, driver: 'cgroupfs' as const },
  { version: 1 as const, driver: 'systemd' as const },
])('cgroup v$version with the $driver driver', ({ version, driver }) => {
  it('reports CPU, throttling, memory, OOM kills, block I/O, PIDs and network per container', async () => {
    const s = await setup({ version, driver });
    await until(() => s.h.lastStatus()?.state === 'ok', 'engine sync');
    await twoRounds(s);
    const id = hexId(1);
    const at = { 'container.id': id };
    const r = SYNTHETIC_RATES;
    expect(s.h.sink.last('container.cpu.usage', at)).toBeCloseTo(r.cpuCores, 6);
    expect(s.h.sink.last('container.cpu.utilization', at)).toBeCloseTo(r.cpuCores / 0.5, 6);
    expect(s.h.sink.last('container.cpu.throttled.periods', at)).toBeCloseTo(r.throttledPeriodsPerS, 6);
    expect(s.h.sink.last('container.cpu.throttled.time', at)).toBeCloseTo(r.throttledSecondsPerS, 6);
    const used = SYNTHETIC_MEMORY.usage - SYNTHETIC_MEMORY.inactiveFile;
    expect(s.h.sink.last('container.memory.usage', at)).toBe(used);
    expect(s.h.sink.last('container.memory.utilization', at)).toBeCloseTo(used / (256 * 2 ** 20), 9);
    expect(s.h.sink.last('container.memory.oom_kills', at)).toBe(0);
    expect(s.h.sink.last('container.disk.io', { ...at, 'disk.io.direction': 'read' })).toBeCloseTo(r.diskReadBytesPerS, 6);
    expect(s.h.sink.last('container.disk.io', { ...at, 'disk.io.direction': 'write' })).toBeCloseTo(r.diskWriteBytesPerS, 6);
    expect(s.h.sink.last('container.pids.count', at)).toBe(SYNTHETIC_MEMORY.pids);
    expect(s.h.sink.last('container.network.io', { ...at, 'network.io.direction': 'receive' })).toBeCloseTo(r.netRxBytesPerS, 6);
    expect(s.h.sink.last('container.network.packets', { ...at, 'network.io.direction': 'transmit' })).toBeCloseTo(r.netTxPacketsPerS, 6);
    expect(s.h.sink.last('container.network.errors', { ...at, 'network.io.direction': 'receive' })).toBe(0);
    expect(s.h.metrics.counters.cgroup_parse_errors_total ?? 0).toBe(0);
  });
});

describe('containers collector against a synthetic engine', () => {
  it('describes each container with semantic-convention resource attributes and a topology entity', async () => {
    const s = await setup({ version: 2, driver: 'systemd' });
    await until(() => s.h.lastStatus()?.state === 'ok', 'engine sync');
    await twoRounds(s);
    const sample = s.h.sink.of('container.cpu.usage', { 'container.id': hexId(1) })[0];
    expect(sample.resource).toEqual({
      'host.name': 'test-host',
      'container.id': hexId(1),
      'container.name': 'app-0',
      'container.image.name': 'docker.io/library/nginx',
      'container.image.tags': '1.25',
      'container.runtime': 'docker',
      'container.label.com.docker.compose.service': 'svc-0',
    });
    const upsert = s.h.sink.topologyUpdates.flatMap((u) => u.upsertEntities ?? []).find((e) => e.id === `container:${hexId(1)}`);
    expect(upsert?.attributes[CONTAINER_ENTITY_KEYS.ipAddresses]).toBe('["10.0.0.2"]');
    expect(upsert?.attributes[CONTAINER_ENTITY_KEYS.ports]).toBe('[{"port":80,"protocol":"tcp"}]');
    expect(upsert?.attributes[CONTAINER_ENTITY_KEYS.pid]).toBe(1000);
    expect(JSON.parse(String(upsert?.attributes[CONTAINER_ENTITY_KEYS.labels]))).toMatchObject({ secret: 'not-copied' });
    expect(s.h.sink.topologyUpdates.flatMap((u) => u.upsertEdges ?? [])).toContainEqual({ from: `container:${hexId(1)}`, to: 'host:test-host', type: 'runs-on' });
  });

  it('names the runtime podman when the engine is Podman', async () => {
    const s = await setup({ version: 2, driver: 'systemd', platform: 'Podman Engine' });
    await until(() => s.h.lastStatus()?.state === 'ok', 'engine sync');
    await twoRounds(s);
    expect(s.h.sink.of('container.cpu.usage')[0].resource['container.runtime']).toBe('podman');
  });

  it('turns engine events into start, die (exit code), oom, health and restart events and follows removal', async () => {
    const s = await setup({ version: 2, driver: 'systemd' });
    await until(() => s.h.lastStatus()?.state === 'ok' && s.engine.eventStreams === 1, 'engine sync');
    const id = hexId(1);
    const actor = (extra: Record<string, string> = {}) => ({ ID: id, Attributes: { name: 'app-0', image: 'nginx:1.25', ...extra } });
    s.engine.emit({ Action: 'start', Actor: actor() });
    s.engine.emit({ Action: 'oom', Actor: actor() });
    s.engine.update(id, { state: 'exited' });
    s.engine.emit({ Action: 'die', Actor: actor({ exitCode: '137' }) });
    s.engine.emit({ Action: 'health_status: unhealthy', Actor: actor() });
    s.engine.emit({ Action: 'restart', Actor: actor() });
    s.engine.emit('this is not json');
    await until(() => s.h.sink.events.length >= 5, 'events');
    const byType = (t: string) => s.h.sink.events.find((e: SextantEvent) => e.type === t);
    expect(byType('container.start')?.title).toBe('container app-0 started');
    expect(byType('container.oom')).toMatchObject({ severity: 'critical', resource: expect.objectContaining({ 'container.id': id }) });
    expect(byType('container.die')).toMatchObject({ title: 'container app-0 exited with code 137', severity: 'warning', attributes: { 'container.exit_code': 137 } });
    expect(byType('container.health')).toMatchObject({ title: 'container app-0 is unhealthy', attributes: { 'container.health': 'unhealthy' } });
    expect(byType('container.restart')).toBeDefined();
    await until(() => (s.h.metrics.counters.event_parse_errors_total ?? 0) === 1, 'parse error counter');
    const states = s.h.sink.topologyUpdates.flatMap((u) => u.upsertEntities ?? []).filter((e) => e.id === `container:${id}`).map((e) => e.attributes[CONTAINER_ENTITY_KEYS.state]);
    expect(states).toContain('exited');
    s.engine.remove(id);
    s.engine.emit({ Action: 'destroy', Actor: actor() });
    await until(() => s.h.sink.topologyUpdates.some((u) => u.removeEntities?.includes(`container:${id}`)), 'removal');
  });

  it('reports a missing socket as a coded error, keeps running, and connects once the engine appears', async () => {
    const s = await setup({ version: 2, driver: 'systemd', startEngine: false });
    await until(() => s.h.lastStatus()?.state === 'error', 'error status');
    const status = s.h.lastStatus()!;
    expect(status.code).toBe(ErrorCode.CONNECTION_FAILED);
    expect(status.message).toContain(`container engine socket ${s.engine.socketPath} does not exist`);
    expect(status.message).toContain('DOCKER_HOST');
    await s.h.collect();
    expect(s.h.sink.samples).toEqual([]);
    await s.engine.start();
    for (let i = 0; i < 20 && s.h.lastStatus()?.state !== 'ok'; i++) {
      await s.clock.advanceAsync(1_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => s.h.lastStatus()?.state === 'ok', 'recovery');
    expect(s.h.metrics.counters.engine_errors_total).toBeGreaterThanOrEqual(1);
  });

  it('maps permission denied and refused connections to coded errors with a fix', () => {
    const eacces = engineSocketError('/run/docker.sock', Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    expect(eacces.code).toBe(ErrorCode.AUTH_FAILED);
    expect(eacces.hint).toMatch(/docker/);
    expect(engineSocketError('/x', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).message).toContain('nothing accepts connections');
  });

  it('reconnects and resyncs when the engine restarts mid-stream', async () => {
    const s = await setup({ version: 2, driver: 'systemd' });
    await until(() => s.h.lastStatus()?.state === 'ok' && s.engine.eventStreams === 1, 'engine sync');
    await s.engine.stop();
    await until(() => s.h.statuses.some((st) => st.state === 'degraded'), 'degraded status');
    s.engine.remove(hexId(2));
    await s.engine.start();
    for (let i = 0; i < 50 && !(s.h.lastStatus()?.state === 'ok' && s.engine.eventStreams === 1); i++) {
      await s.clock.advanceAsync(1_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(s.h.lastStatus()?.state).toBe('ok');
    expect(s.h.metrics.counters.engine_reconnects_total).toBe(1);
    expect(s.h.sink.topologyUpdates.some((u) => u.removeEntities?.includes(`container:${hexId(2)}`))).toBe(true);
  });

  it('skips a container that vanishes between list and inspect and counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sx-ctr-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const engine = new SyntheticEngine(join(dir, 'e.sock'));
    engine.add({ id: hexId(9), name: 'ghost', image: 'busybox', pid: 1 });
    engine.vanishOnInspect.add(hexId(9));
    await engine.start();
    cleanups.push(() => engine.stop());
    const h = await startCollector(containersCollectorFactory, { config: { socket: engine.socketPath, cgroupRoot: dir, procRoot: dir } });
    cleanups.push(() => h.shutdown());
    await until(() => h.lastStatus()?.state === 'ok', 'sync');
    expect(h.metrics.counters.containers_vanished_total).toBe(1);
    expect(h.sink.topologyUpdates.flatMap((u) => u.upsertEntities ?? [])).toEqual([]);
  });

  it('counts missing and malformed cgroup files per file and keeps the other metrics', async () => {
    const s = await setup({ version: 2, driver: 'systemd', count: 1 });
    await until(() => s.h.lastStatus()?.state === 'ok', 'sync');
    const dir = s.host.dirOf(hexId(1), 'memory');
    await s.h.collect();
    s.host.advance(10);
    s.clock.advance(10_000);
    const memoryBefore = s.h.sink.of('container.memory.usage').length;
    writeFileSync(join(dir, 'memory.current'), 'NaN\n');
    writeFileSync(join(dir, 'io.stat'), '8:0 rbytes=-5\n');
    unlinkSync(join(dir, 'pids.current'));
    writeFileSync(join(s.host.procRoot, '1000', 'net', 'dev'), 'garbage');
    await s.h.collect();
    expect(s.h.metrics.counters.cgroup_parse_errors_total).toBe(2);
    expect(s.h.metrics.counters.cgroup_files_missing_total).toBe(1);
    expect(s.h.metrics.counters.netdev_parse_errors_total).toBe(1);
    expect(s.h.sink.last('container.cpu.usage')).toBeCloseTo(SYNTHETIC_RATES.cpuCores, 6);
    expect(s.h.sink.of('container.memory.usage')).toHaveLength(memoryBefore);
    expect(s.h.sink.rejected).toBe(0);
    rmSync(s.host.cgroupRoot, { recursive: true });
    await expect(s.h.collect()).resolves.toBeUndefined();
  });

  it('applies include/exclude filters by name, image and label', async () => {
    const s = await setup({ version: 2, driver: 'systemd', config: { include: ['image:**/nginx*', 'label:com.docker.compose.service=svc-1'], exclude: ['app-1'] } });
    await until(() => s.h.lastStatus()?.state === 'ok', 'sync');
    await twoRounds(s);
    expect(new Set(s.h.sink.of('container.cpu.usage').map((x) => x.resource['container.name']))).toEqual(new Set(['app-0']));
  });

  it('handles 500 containers in one round', async () => {
    const s = await setup({ version: 1, driver: 'cgroupfs', count: 500 });
    await until(() => s.h.lastStatus()?.state === 'ok', 'sync of 500 containers', 60_000);
    await twoRounds(s);
    expect(new Set(s.h.sink.of('container.memory.usage').map((x) => x.resource['container.id'])).size).toBe(500);
    expect(new Set(s.h.sink.of('container.cpu.usage').map((x) => x.resource['container.id'])).size).toBe(500);
    expect(s.h.sink.topologyUpdates.flatMap((u) => u.upsertEntities ?? []).length).toBe(500);
  }, 120_000);
});

describe('configuration', () => {
  it('honours DOCKER_HOST for unix sockets and rejects bad durations with the value', async () => {
    expect(resolveSocketPath(undefined, { DOCKER_HOST: 'unix:///run/user/1000/podman/podman.sock' })).toBe('/run/user/1000/podman/podman.sock');
    expect(resolveSocketPath(undefined, { DOCKER_HOST: 'tcp://1.2.3.4:2375' })).toBe('/var/run/docker.sock');
    expect(resolveSocketPath('unix:///x.sock', {})).toBe('/x.sock');
    await expect(startCollector(containersCollectorFactory, { config: { stateRefresh: 'soon' } })).rejects.toThrow(/containers\.stateRefresh: must be a duration such as "5s" or "500ms" \(got "soon"\)/);
  });
});
