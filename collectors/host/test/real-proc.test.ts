import { startCollector, type CollectorHarness } from '@sextant/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { hostCollectorFactory } from '../src/index.js';

describe('host collector on this machine', () => {
  let harness: CollectorHarness | undefined;
  afterEach(async () => {
    await harness?.shutdown();
    harness = undefined;
  });

  it('a round produces cpu, memory, disk, network and filesystem series with sane values', async () => {
    harness = await startCollector(hostCollectorFactory, { hostResource: { 'host.name': 'this-host' } });
    await harness.collect();
    // Rates need two rounds; let the kernel counters move a little between them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await harness.collect();
    const sink = harness.sink;
    const metrics = sink.metrics();
    for (const metric of [
      'system.cpu.utilization',
      'system.cpu.logical.count',
      'system.memory.usage',
      'system.memory.utilization',
      'system.memory.limit',
      'system.cpu.load_average.1m',
      'system.disk.io',
      'system.disk.io_time',
      'system.network.io',
      'system.filesystem.usage',
      'system.filesystem.utilization',
      'system.process.count',
      'system.uptime',
    ]) {
      expect(metrics, metric).toContain(metric);
    }
    for (const s of sink.of('system.cpu.utilization')) {
      expect(s.value).toBeGreaterThanOrEqual(0);
      expect(s.value).toBeLessThanOrEqual(1);
    }
    for (const metric of ['system.memory.utilization', 'system.filesystem.utilization']) {
      for (const s of sink.of(metric)) {
        expect(s.value, metric).toBeGreaterThanOrEqual(0);
        expect(s.value, metric).toBeLessThanOrEqual(1);
      }
    }
    const total = sink.last('system.memory.limit')!;
    const used = sink.last('system.memory.usage', { 'system.memory.state': 'used' })!;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(total);
    const modesOfAll = sink.samples.filter((s) => s.metric === 'system.cpu.utilization' && s.attributes['cpu.logical_number'] === undefined);
    expect(modesOfAll.map((s) => s.attributes['cpu.mode']).sort()).toEqual(['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user']);
    expect(modesOfAll.reduce((sum, s) => sum + s.value, 0)).toBeCloseTo(1, 6);
    expect(sink.of('system.filesystem.usage', { 'system.filesystem.mountpoint': '/' }).length).toBeGreaterThan(0);
    for (const s of sink.samples) expect(s.resource).toEqual({ 'host.name': 'this-host' });
    expect(sink.samples.every((s) => Number.isFinite(s.value) && (s.type !== 'rate' || s.value >= 0))).toBe(true);
    expect(harness.lastStatus()).toEqual({ state: 'ok', message: undefined, code: undefined });
    expect(harness.metrics.counters['parse_errors_total'] ?? 0).toBe(0);
  });
});
