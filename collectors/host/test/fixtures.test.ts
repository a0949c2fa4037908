import { afterEach, describe, expect, it } from 'vitest';
import { startOnFixtures, type FixtureHarness } from './fixture-tree.js';

const KB = 1024;

describe('host collector on fixture trees', () => {
  let h: FixtureHarness;
  afterEach(async () => {
    await h?.shutdown();
  });

  it('writes gauges in the first round and no rates or utilisation yet', async () => {
    h = await startOnFixtures();
    await h.round();
    expect(h.latest('system.cpu.utilization')).toEqual([]);
    expect(h.latest('system.disk.io')).toEqual([]);
    expect(h.latest('system.network.io')).toEqual([]);
    expect(h.latest('system.cpu.logical.count')).toEqual([2]);
    // used = total - free - buffers - (cached + SReclaimable)
    expect(h.latest('system.memory.usage', { 'system.memory.state': 'used' })).toEqual([(8_000_000 - 2_000_000 - 100_000 - 2_900_000) * KB]);
    expect(h.latest('system.memory.usage', { 'system.memory.state': 'cached' })).toEqual([2_900_000 * KB]);
    expect(h.latest('system.memory.utilization', { 'system.memory.state': 'free' })).toEqual([0.25]);
    expect(h.latest('system.memory.limit')).toEqual([8_000_000 * KB]);
    expect(h.latest('system.linux.memory.available')).toEqual([5_000_000 * KB]);
    expect(h.latest('system.paging.usage', { 'system.paging.state': 'used' })).toEqual([250_000 * KB]);
    expect(h.latest('system.paging.utilization', { 'system.paging.state': 'used' })).toEqual([0.25]);
    expect(h.latest('system.cpu.load_average.1m')).toEqual([0.5]);
    expect(h.latest('system.cpu.load_average.15m')).toEqual([2]);
    expect(h.latest('system.thread.count')).toEqual([412]);
    expect(h.latest('system.uptime')).toEqual([6713.88]);
    expect(h.latest('system.process.count', { 'process.status': 'running' })).toEqual([4]);
    expect(h.latest('system.process.count', { 'process.status': 'blocked' })).toEqual([1]);
    expect(h.latest('system.linux.pressure.avg10', { 'system.linux.pressure.resource': 'cpu', 'system.linux.pressure.scope': 'some' })).toEqual([0.125]);
    expect(h.latest('system.disk.pending_operations', { 'system.device': 'sda' })).toEqual([2]);
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('computes utilisation and rates from the change between rounds', async () => {
    h = await startOnFixtures();
    await h.round();
    // 10 s later: +100 user, +0 nice, +100 system, +700 idle, +100 iowait ticks on the all-CPU line.
    h.tree.writeProc(
      'stat',
      'cpu  1100 100 600 8700 300 0 100 100 0 0\ncpu0 600 50 250 4350 150 0 50 50 0 0\ncpu1 500 50 350 4350 150 0 50 50 0 0\nprocesses 14135\nprocs_running 2\nprocs_blocked 0\n',
    );
    h.tree.writeProc(
      'diskstats',
      '   8       0 sda 1100 10 22000 600 2500 20 50000 900 0 6000 1300 0 0 0 0 0 0\n 254       0 vda 107978 14876 3290290 30748 35089 35604 3492520 14963 0 17108 49417 10178 47 789848 1799 6421 1906\n',
    );
    h.tree.writeProc(
      'net/dev',
      'Inter-|\n face |\n    lo:  161217 2667 0 0 0 0 0 0 161217 2667 0 0 0 0 0 0\n  eth0:1100000 1100 1 2 0 0 0 0 600000 900 0 5 0 0 0 0\n',
    );
    h.tree.writeProc('pressure/io', 'some avg10=3.00 avg60=2.00 avg300=1.00 total=3000000\nfull avg10=1.00 avg60=0.50 avg300=0.25 total=1500000\n');
    await h.round(10);
    const util = (mode: string, cpu?: number) =>
      h.latest('system.cpu.utilization', cpu === undefined ? { 'cpu.mode': mode } : { 'cpu.mode': mode, 'cpu.logical_number': cpu }).at(cpu === undefined ? 0 : -1);
    expect(util('user')).toBeCloseTo(0.1, 12);
    expect(util('system')).toBeCloseTo(0.1, 12);
    expect(util('idle')).toBeCloseTo(0.7, 12);
    expect(util('iowait')).toBeCloseTo(0.1, 12);
    expect(util('steal')).toBe(0);
    expect(util('system', 1)).toBeCloseTo(100 / 500, 12);
    expect(util('user', 0)).toBeCloseTo(100 / 500, 12);
    expect(h.latest('system.process.created')).toEqual([10]);
    // sda: +2000 sectors read, +10000 written, +100/+500 ops, +5000 ms busy in 10 s.
    expect(h.latest('system.disk.io', { 'system.device': 'sda', 'disk.io.direction': 'read' })).toEqual([2000 * 512 / 10]);
    expect(h.latest('system.disk.io', { 'system.device': 'sda', 'disk.io.direction': 'write' })).toEqual([10000 * 512 / 10]);
    expect(h.latest('system.disk.operations', { 'system.device': 'sda', 'disk.io.direction': 'write' })).toEqual([50]);
    expect(h.latest('system.disk.io_time', { 'system.device': 'sda' })).toEqual([0.5]);
    expect(h.latest('system.disk.operation_time', { 'system.device': 'sda', 'disk.io.direction': 'read' })).toEqual([0.01]);
    expect(h.latest('system.disk.io', { 'system.device': 'vda', 'disk.io.direction': 'read' })).toEqual([0]);
    expect(h.latest('system.network.io', { 'network.interface.name': 'eth0', 'network.io.direction': 'receive' })).toEqual([10_000]);
    expect(h.latest('system.network.io', { 'network.interface.name': 'eth0', 'network.io.direction': 'transmit' })).toEqual([10_000]);
    expect(h.latest('system.network.dropped', { 'network.interface.name': 'eth0', 'network.io.direction': 'transmit' })).toEqual([0.2]);
    expect(h.latest('system.network.io', { 'network.interface.name': 'lo', 'network.io.direction': 'receive' })).toEqual([0]);
    expect(h.latest('system.linux.pressure.stall', { 'system.linux.pressure.resource': 'io', 'system.linux.pressure.scope': 'some' })).toEqual([0.1]);
    expect(h.latest('system.linux.pressure.stall', { 'system.linux.pressure.resource': 'io', 'system.linux.pressure.scope': 'full' })).toEqual([0.05]);
  });

  it('reports whole disks only, skips loop devices, and honours filters', async () => {
    h = await startOnFixtures({ networks: { exclude: ['lo'] } });
    await h.round();
    await h.round();
    const devices = new Set(h.sink.of('system.disk.io').map((s) => s.attributes['system.device']));
    expect([...devices].sort()).toEqual(['sda', 'vda']);
    const interfaces = new Set(h.sink.of('system.network.io').map((s) => s.attributes['network.interface.name']));
    expect([...interfaces]).toEqual(['eth0']);
    await h.shutdown();

    h = await startOnFixtures({ disks: { partitions: true, exclude: [] }, perCpu: false });
    await h.round();
    await h.round();
    const all = new Set(h.sink.of('system.disk.io').map((s) => s.attributes['system.device']));
    expect([...all].sort()).toEqual(['loop0', 'sda', 'sda1', 'vda']);
    expect(h.sink.of('system.cpu.utilization').every((s) => s.attributes['cpu.logical_number'] === undefined)).toBe(true);
  });

  it('measures real filesystems, skips virtual ones, and counts a mountpoint statfs cannot reach', async () => {
    h = await startOnFixtures();
    await h.round();
    const mountpoints = new Set(h.sink.of('system.filesystem.usage').map((s) => s.attributes['system.filesystem.mountpoint']));
    expect([...mountpoints].sort()).toEqual(['/', '/data', '/with space']);
    const root = { 'system.filesystem.mountpoint': '/' };
    const used = h.latest('system.filesystem.usage', { ...root, 'system.filesystem.state': 'used' })[0];
    const free = h.latest('system.filesystem.usage', { ...root, 'system.filesystem.state': 'free' })[0];
    expect(used + free).toBeGreaterThan(0);
    const utilization = h.latest('system.filesystem.utilization', root)[0];
    expect(utilization).toBeCloseTo(used / (used + free), 12);
    const sample = h.sink.of('system.filesystem.usage', root)[0];
    expect(sample.attributes).toMatchObject({ 'system.device': '/dev/sda1', 'system.filesystem.type': 'ext4' });
    expect(h.metrics.counters['statfs_errors_total']).toBe(1); // /gone
    expect(h.logger.lines.some((l) => l.level === 'warn' && l.message.includes('/gone'))).toBe(true);
    expect(h.lastStatus()?.state).toBe('ok');
    await h.round();
    expect(h.metrics.counters['statfs_errors_total']).toBe(2);
    expect(h.logger.lines.filter((l) => l.message.includes('/gone')).length).toBe(1);
  });

  it('lets sections be switched off', async () => {
    h = await startOnFixtures({ disks: { enabled: false }, filesystems: { enabled: false }, pressure: { enabled: false } });
    await h.round();
    await h.round();
    const metrics = h.sink.metrics();
    expect(metrics.some((m) => m.startsWith('system.disk.'))).toBe(false);
    expect(metrics.some((m) => m.startsWith('system.filesystem.'))).toBe(false);
    expect(metrics.some((m) => m.startsWith('system.linux.pressure.'))).toBe(false);
    expect(metrics).toContain('system.memory.usage');
    expect(metrics).toContain('system.network.io');
  });

  it('stops writing after shutdown, and shutdown is safe twice', async () => {
    h = await startOnFixtures();
    await h.round();
    const before = h.sink.samples.length;
    await h.collector.shutdown();
    await h.collector.shutdown();
    await h.round();
    expect(h.sink.samples.length).toBe(before);
  });
});
