import { afterEach, describe, expect, it } from 'vitest';
import { startOnFixtures, type FixtureHarness } from './fixture-tree.js';

/** One diskstats line for sda with the given sectors read and busy milliseconds. */
function sda(sectorsRead: string, msBusy: string, reads = '1000'): string {
  return `   8       0 sda ${reads} 10 ${sectorsRead} 500 2000 20 40000 800 2 ${msBusy} 1300 0 0 0 0 0 0\n`;
}

function eth0(rxBytes: string): string {
  return `Inter-|\n face |\n  eth0: ${rxBytes} 1000 1 2 0 0 0 0 500000 800 0 3 0 0 0 0\n`;
}

const read = { 'system.device': 'sda', 'disk.io.direction': 'read' };
const receive = { 'network.interface.name': 'eth0', 'network.io.direction': 'receive' };

describe('counters across wrap and reset', () => {
  let h: FixtureHarness;
  afterEach(async () => {
    await h?.shutdown();
  });

  it('reads a 32-bit unsigned long counter that wrapped as a wrap (counterBits: 32)', async () => {
    h = await startOnFixtures({ counterBits: 32 });
    h.tree.writeProc('diskstats', sda('4294967000', '0'));
    await h.round();
    h.tree.writeProc('diskstats', sda('704', '0'));
    await h.round(10);
    // 2^32 - 4294967000 + 704 = 1000 sectors in 10 s.
    expect(h.latest('system.disk.io', read)).toEqual([(1000 * 512) / 10]);
  });

  it('reads the %u busy-time column as 32-bit on every kernel', async () => {
    h = await startOnFixtures({ counterBits: 64 });
    h.tree.writeProc('diskstats', sda('100', '4294966296'));
    await h.round();
    h.tree.writeProc('diskstats', sda('100', '4000'));
    await h.round(10);
    // (2^32 - 4294966296) + 4000 = 5000 ms busy in 10 s.
    expect(h.latest('system.disk.io_time', { 'system.device': 'sda' })).toEqual([0.5]);
  });

  it('reads a 64-bit /proc/net/dev counter that wrapped as a wrap', async () => {
    h = await startOnFixtures();
    h.tree.writeProc('net/dev', eth0('18446744073709549568')); // 2^64 - 2048
    await h.round();
    h.tree.writeProc('net/dev', eth0('952'));
    await h.round(10);
    expect(h.latest('system.network.io', receive)).toEqual([300]);
  });

  it('treats a drop of a 64-bit counter as a reset: one round without a rate, never negative', async () => {
    h = await startOnFixtures({ counterBits: 64 });
    h.tree.writeProc('diskstats', sda('3000000000', '100'));
    h.tree.writeProc('net/dev', eth0('5000000'));
    await h.round();
    // The disk was re-attached and the interface re-created: counters start again near 0.
    h.tree.writeProc('diskstats', sda('10', '200'));
    h.tree.writeProc('net/dev', eth0('100'));
    await h.round(10);
    expect(h.latest('system.disk.io', read)).toEqual([]);
    expect(h.latest('system.network.io', receive)).toEqual([]);
    expect(h.latest('system.disk.io_time', { 'system.device': 'sda' })).toEqual([0.01]); // unaffected column
    h.tree.writeProc('diskstats', sda('1010', '300'));
    h.tree.writeProc('net/dev', eth0('1100'));
    await h.round(10);
    expect(h.latest('system.disk.io', read)).toEqual([(1000 * 512) / 10]);
    expect(h.latest('system.network.io', receive)).toEqual([100]);
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('never writes a negative rate or utilisation when /proc/stat counters go backwards', async () => {
    h = await startOnFixtures();
    await h.round();
    // Ticks and forks lower than before (a snapshot from another boot, or hot-unplug/replug).
    h.tree.writeProc('stat', 'cpu  10 1 5 80 2 0 1 1 0 0\ncpu0 5 0 2 40 1 0 0 0 0 0\ncpu1 5 1 3 40 1 0 1 1 0 0\nprocesses 10\nprocs_running 1\nprocs_blocked 0\n');
    await h.round(10);
    expect(h.latest('system.cpu.utilization')).toEqual([]);
    expect(h.latest('system.process.created')).toEqual([]);
    h.tree.writeProc('stat', 'cpu  20 1 15 160 2 0 1 1 0 0\ncpu0 10 0 7 80 1 0 0 0 0 0\ncpu1 10 1 8 80 1 0 1 1 0 0\nprocesses 30\nprocs_running 1\nprocs_blocked 0\n');
    await h.round(10);
    expect(h.latest('system.cpu.utilization', { 'cpu.mode': 'idle' })[0]).toBeCloseTo(80 / 100, 12);
    expect(h.latest('system.process.created')).toEqual([2]);
    for (const s of h.sink.samples) expect(s.value, s.metric).toBeGreaterThanOrEqual(0);
  });

  it('counts a mode whose ticks step back slightly (iowait) as 0, keeping the others', async () => {
    h = await startOnFixtures({ perCpu: false });
    await h.round();
    // iowait 200 -> 190 while the rest advance by 100 ticks.
    h.tree.writeProc('stat', 'cpu  1050 100 525 8025 190 0 100 100 0 0\ncpu0 500 50 250 4000 100 0 50 50 0 0\nprocesses 14035\nprocs_running 4\nprocs_blocked 1\n');
    await h.round(10);
    expect(h.latest('system.cpu.utilization', { 'cpu.mode': 'iowait' })).toEqual([0]);
    expect(h.latest('system.cpu.utilization', { 'cpu.mode': 'user' })[0]).toBeCloseTo(0.5, 12);
  });
});
