/**
 * Benchmark of the baseline detector's hot path, for tools/bench:
 * - detectorSamplesPerSec: samples/s through BaselineDetector.process for 10k series (one batch
 *   per round of 10k samples, 5-minute spacing, a daily curve plus noise), on one core, wall time;
 * - detectorSamplesPerCpuSec: the same per CPU-second of this process (user + system, GC threads
 *   included): what one core does when the machine is shared and the process is not always running;
 * - detectorSamplesPerCpuSecWarm: the same for a second detector in the same process, whose code
 *   V8 has already optimised: what a long-running server gets once it has started (the first
 *   figure also pays the one-off compilation of the model's code);
 * - bytesPerSeries: model state per series (snapshot bytes / series);
 * - allocatedBytesPerSeries: model state the detector holds in memory per series (allocated slots,
 *   used or not);
 * - restoreMs10k: time to restore the snapshot of 10k series into a new detector.
 */
import { BaselineDetector } from '../src/baseline/detector.js';
import { offlineDetectorContext } from '../src/baseline/offline.js';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import type { BaselineParams } from '../src/baseline/params.js';

export async function run(): Promise<Record<string, number>> {
  const cold = await measureDetector();
  const warm = await measureDetector();
  return { ...cold, detectorSamplesPerCpuSecWarm: warm.detectorSamplesPerCpuSec };
}

/**
 * The benchmark with model parameters overridden (the ablation table's throughput column:
 * `measureDetector({ contextScore: 0 })`); `run()` is `measureDetector()`.
 */
export async function measureDetector(params: Partial<BaselineParams> = {}, N = 10_000, rounds = 400): Promise<Record<string, number>> {
  const descriptor: SeriesDescriptor = { metric: 'bench.value', unit: '1', type: 'gauge', kind: 'generic', resource: {}, attributes: {} };
  const ctx = offlineDetectorContext({ instanceId: 'baseline/bench', describe: () => descriptor, size: N });
  const detector = new BaselineDetector(ctx, params);
  const series = new Uint32Array(N);
  const timestamps = new Float64Array(N);
  const values = new Float64Array(N);
  for (let i = 0; i < N; i++) series[i] = i;
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const start = Date.UTC(2026, 0, 1);
  let elapsed = 0;
  let cpuMicros = 0;
  for (let r = 0; r < rounds; r++) {
    const t = start + r * 300_000;
    for (let i = 0; i < N; i++) {
      timestamps[i] = t;
      values[i] = 100 + (i % 50) + 30 * Math.sin((2 * Math.PI * r) / 288 + i) + 5 * rand();
    }
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    detector.process({ length: N, series, timestamps, values });
    elapsed += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuMicros += c.user + c.system;
  }
  const snapshot = detector.snapshot();
  const other = new BaselineDetector(ctx, params);
  const t1 = performance.now();
  other.restore(snapshot);
  const restoreMs10k = performance.now() - t1;
  return {
    detectorSamplesPerSec: Math.round((N * rounds) / (elapsed / 1000)),
    detectorSamplesPerCpuSec: Math.round((N * rounds) / (cpuMicros / 1e6)),
    bytesPerSeries: Math.round(snapshot.byteLength / N),
    allocatedBytesPerSeries: Math.round(detector.model.allocatedBytes / N),
    restoreMs10k: Math.round(restoreMs10k * 10) / 10,
  };
}
