/**
 * Store ingest rate: samples/s on one core into the ring buffers, for 10k series, measured two
 * ways — the store alone (SampleStore.append) and the whole pipeline (validation, counters,
 * store; no detectors attached).
 */
import 'reflect-metadata';
import { MutableBatch, Runtime, SampleStore, validateRuntimeConfig } from '@sextant/runtime';

export async function storeIngest(series = 10_000, rounds = 600): Promise<Record<string, number>> {
  const batch = new MutableBatch(series);
  for (let i = 0; i < series; i++) batch.push(i, 0, 0);
  const drops = new Uint32Array(3);
  const store = new SampleStore(360, series);
  const fill = (r: number) => {
    const t = 1_700_000_000_000 + r * 10_000;
    for (let i = 0; i < series; i++) {
      batch.timestamps[i] = t;
      batch.values[i] = (i * 31 + r) % 1000;
    }
  };
  // warm-up
  for (let r = 0; r < 50; r++) {
    fill(r);
    store.append(batch, drops);
  }
  let total = 0;
  let t0 = performance.now();
  for (let r = 50; r < 50 + rounds; r++) {
    fill(r);
    store.append(batch, drops);
    total += series;
  }
  let fillMs = 0;
  const f0 = performance.now();
  for (let r = 0; r < rounds; r++) fill(r);
  fillMs = performance.now() - f0;
  const storeSecs = (performance.now() - t0 - fillMs) / 1000;

  const config = validateRuntimeConfig({ plugins: { discover: false }, store: { points: 360, maxSeries: series * 2 } }).config!;
  const rt = await Runtime.load({ config, log: { level: 'silent' } });
  for (let i = 0; i < series; i++) rt.registry.intern({ metric: 'bench.value', unit: '1', type: 'gauge', resource: { 'host.name': 'bench' }, attributes: { n: i } }, 'bench');
  for (let r = 0; r < 50; r++) {
    fill(r);
    rt.pipeline.ingest(batch, 'bench');
  }
  t0 = performance.now();
  for (let r = 50; r < 50 + rounds; r++) {
    fill(r);
    rt.pipeline.ingest(batch, 'bench');
  }
  const pipeSecs = (performance.now() - t0 - fillMs) / 1000;
  const accepted = rt.telemetry.sum('sextant_samples_accepted_total');
  await rt.stop();
  return {
    storeSeries: series,
    storeSamplesPerSec: Math.round(total / storeSecs),
    pipelineSamplesPerSec: Math.round((series * rounds) / pipeSecs),
    pipelineAcceptedAll: accepted === series * (rounds + 50) ? 1 : 0,
    storeBytesPerSeries: Math.round(store.bytes / series),
  };
}
