import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOnFixtures, type FixtureHarness } from './fixture-tree.js';

const GOOD_STAT =
  'cpu  1100 100 600 8700 300 0 100 100 0 0\ncpu0 600 50 250 4350 150 0 50 50 0 0\ncpu1 500 50 350 4350 150 0 50 50 0 0\nprocesses 14135\nprocs_running 2\nprocs_blocked 0\n';

interface Fault {
  readonly name: string;
  readonly source: string;
  readonly file: string;
  /** New content, or undefined to delete the file. */
  readonly content: string | undefined;
  /** A metric of that source that must be missing in the broken round. */
  readonly silenced: string;
  readonly silencedAttributes?: Record<string, string>;
  readonly reason: RegExp;
}

const FAULTS: readonly Fault[] = [
  { name: 'truncated /proc/stat', source: 'stat', file: 'stat', content: 'cpu  1100 100 600 8700 300 0 100 100 0 0\ncpu0 600 50 2', silenced: 'system.process.count', reason: /truncated/ },
  { name: 'truncated cpu line', source: 'stat', file: 'stat', content: 'cpu  1100 100', silenced: 'system.cpu.logical.count', reason: /2 columns, expected at least 4/ },
  { name: 'non-numeric /proc/stat value', source: 'stat', file: 'stat', content: GOOD_STAT.replace('8700', 'NaN'), silenced: 'system.cpu.logical.count', reason: /"NaN"/ },
  { name: 'negative /proc/stat value', source: 'stat', file: 'stat', content: GOOD_STAT.replace('procs_running 2', 'procs_running -2'), silenced: 'system.process.count', reason: /procs_running/ },
  { name: 'missing /proc/meminfo', source: 'meminfo', file: 'meminfo', content: undefined, silenced: 'system.memory.usage', reason: /cannot read .*meminfo \(ENOENT\)/ },
  { name: 'meminfo value above 2^64', source: 'meminfo', file: 'meminfo', content: 'MemTotal: 99999999999999999999999 kB\nMemFree: 1 kB\nBuffers: 1 kB\nCached: 1 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n', silenced: 'system.memory.usage', reason: /MemTotal/ },
  { name: 'meminfo free above total', source: 'meminfo', file: 'meminfo', content: 'MemTotal: 10 kB\nMemFree: 20 kB\nBuffers: 1 kB\nCached: 1 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n', silenced: 'system.memory.usage', reason: /exceeds MemTotal/ },
  { name: 'Infinity in loadavg', source: 'loadavg', file: 'loadavg', content: 'Infinity 1.25 2.00 3/412 14036\n', silenced: 'system.cpu.load_average.1m', reason: /expected/ },
  { name: 'empty uptime', source: 'uptime', file: 'uptime', content: '', silenced: 'system.uptime', reason: /seconds since boot/ },
  { name: 'diskstats extra non-numeric field', source: 'diskstats', file: 'diskstats', content: '   8       0 sda 1000 10 20000 500 2000 20 40000 800 2 1000 1300 0 0 0 0 0 0 garbage\n', silenced: 'system.disk.pending_operations', reason: /field 21 \("garbage"\)/ },
  { name: 'net/dev line cut short', source: 'net/dev', file: 'net/dev', content: 'Inter-|\n face |\n  eth0: 1100000 1100 1 2\n', silenced: 'system.network.io', reason: /4 counters, expected 16/ },
  { name: 'pressure value above 100%', source: 'pressure/io', file: 'pressure/io', content: 'some avg10=300.00 avg60=2.00 avg300=1.00 total=3000000\n', silenced: 'system.linux.pressure.avg10', silencedAttributes: { 'system.linux.pressure.resource': 'io' }, reason: /some avg10/ },
  { name: 'mounts with a relative mountpoint', source: 'mounts', file: 'mounts', content: '/dev/sda1 relative ext4 rw 0 0\n', silenced: 'system.filesystem.usage', reason: /not an absolute path/ },
];

describe('faulty kernel files', () => {
  let h: FixtureHarness;
  afterEach(async () => {
    await h?.shutdown();
  });

  for (const fault of FAULTS) {
    it(`${fault.name}: degrades ${fault.source} only, with a coded message and a counter, then recovers`, async () => {
      h = await startOnFixtures();
      await h.round();
      expect(h.lastStatus()?.state).toBe('ok');
      const good = readFileSync(join(h.tree.procRoot, fault.file), 'utf8');

      if (fault.content === undefined) h.tree.removeProc(fault.file);
      else h.tree.writeProc(fault.file, fault.content);
      await h.round();

      const status = h.lastStatus()!;
      expect(status.state).toBe('degraded');
      expect(status.code).toBe('SEXTANT_ERR_PARSE_FAILED');
      expect(status.message).toMatch(/^SEXTANT_ERR_PARSE_FAILED: cannot (read|parse) /);
      expect(status.message).toContain(`${h.tree.procRoot}/${fault.file}`);
      expect(status.message).toMatch(fault.reason);
      expect(h.metrics.counters['parse_errors_total']).toBe(1);
      expect(h.latest(fault.silenced, fault.silencedAttributes)).toEqual([]);
      // Every other source still flowed in the broken round.
      const others = ['system.memory.usage', 'system.cpu.load_average.1m', 'system.uptime', 'system.disk.pending_operations', 'system.filesystem.usage', 'system.network.io', 'system.process.count']
        .filter((m) => m !== fault.silenced && !(fault.source === 'stat' && m === 'system.process.count'));
      for (const metric of others) expect(h.latest(metric).length, metric).toBeGreaterThan(0);
      expect(h.sink.samples.every((s) => Number.isFinite(s.value) && s.value >= 0)).toBe(true);

      // Still broken: counted again, status not re-sent, logged once.
      await h.round();
      expect(h.metrics.counters['parse_errors_total']).toBe(2);
      expect(h.statuses.filter((s) => s.state === 'degraded')).toHaveLength(1);
      expect(h.logger.lines.filter((l) => l.level === 'warn' && l.message.startsWith(`host source ${fault.source} failed`))).toHaveLength(1);

      // Repaired: back to ok, metrics flow again.
      h.tree.writeProc(fault.file, good);
      await h.round();
      expect(h.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });
      expect(h.latest(fault.silenced, fault.silencedAttributes).length).toBeGreaterThan(0);
      expect(h.logger.lines.some((l) => l.message === `host source ${fault.source} recovered`)).toBe(true);
    });
  }

  it('tolerates extra numeric columns that newer kernels append', async () => {
    h = await startOnFixtures();
    await h.round();
    h.tree.writeProc('stat', GOOD_STAT.replace(/^(cpu.*)$/gm, '$1 7 7'));
    h.tree.writeProc('net/dev', 'Inter-|\n face |\n  eth0:1100000 1100 1 2 0 0 0 0 600000 900 0 5 0 0 0 0 42 42\n');
    await h.round();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.latest('system.cpu.utilization', { 'cpu.mode': 'idle' })[0]).toBeCloseTo(0.7, 12);
    expect(h.latest('system.network.io', { 'network.interface.name': 'eth0', 'network.io.direction': 'receive' })).toEqual([10_000]);
  });

  it('reports two broken sources at once and names both', async () => {
    h = await startOnFixtures();
    h.tree.writeProc('loadavg', 'x');
    h.tree.removeProc('diskstats');
    await h.round();
    const status = h.lastStatus()!;
    expect(status.state).toBe('degraded');
    expect(status.message).toMatch(/2 sources failed \(loadavg, diskstats\)/);
    expect(h.metrics.counters['parse_errors_total']).toBe(2);
    expect(h.latest('system.memory.usage').length).toBeGreaterThan(0);
  });

  it('treats missing pressure files as an older kernel: no error, one log line', async () => {
    h = await startOnFixtures();
    h.tree.removeProc('pressure');
    await h.round();
    await h.round();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.metrics.counters['parse_errors_total'] ?? 0).toBe(0);
    expect(h.sink.metrics().some((m) => m.startsWith('system.linux.pressure.'))).toBe(false);
    const notes = h.logger.lines.filter((l) => l.message.includes('pressure/cpu is not available'));
    expect(notes).toHaveLength(1);
  });

  it('fails every source with a clear hint when procRoot points nowhere', async () => {
    h = await startOnFixtures({ procRoot: '/nonexistent-sextant-proc' });
    await h.round();
    const status = h.lastStatus()!;
    expect(status.state).toBe('degraded');
    expect(status.message).toContain('/nonexistent-sextant-proc/stat');
    expect(status.message).toContain('check procRoot');
    expect(h.sink.samples).toEqual([]);
  });
});
