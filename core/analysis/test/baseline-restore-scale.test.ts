/**
 * Learned state of a large server survives a restart: 200,000 series (the runtime's default
 * series cap). Restoring used to spread one argument per series into Math.max, which overflows
 * node's stack above ~125k series; the state was thrown away and learning started again.
 */
import { describe, expect, it } from 'vitest';
import { BaselineDetector, offlineDetectorContext } from '../src/index.js';

describe('baseline detector state at the series cap', () => {
  it('restores 200,000 series with every expectation intact', () => {
    const N = 200_000;
    const descriptor = { metric: 'container.cpu.usage', unit: '1', type: 'gauge' as const, resource: {}, attributes: {} };
    const statuses: string[] = [];
    const ctx = { ...offlineDetectorContext({ instanceId: 'baseline', describe: () => descriptor, size: N }), status: { set: (s: string) => void statuses.push(s) } };
    const original = new BaselineDetector(ctx as never);
    const series = new Uint32Array(N);
    const timestamps = new Float64Array(N);
    const values = new Float64Array(N);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < N; i++) {
        series[i] = i;
        timestamps[i] = 1.7e12 + round * 10_000;
        values[i] = (i % 97) + round;
      }
      original.process({ length: N, series, timestamps, values });
    }
    const restored = new BaselineDetector(ctx as never);
    restored.restore(original.snapshot());
    expect(statuses).not.toContain('degraded');
    for (const id of [0, 1, 124_999, 125_000, 150_001, N - 1]) {
      expect(restored.expectation(id)).toEqual(original.expectation(id));
    }
    expect(restored.expectation(N - 1)).toBeDefined();
  }, 300_000);
});
