/**
 * The embedded store (core/runtime/src/store): ingest rate, compression per kind of series, range
 * queries, series registration, and RSS with 24 h of 10 s data.
 *
 * - `storeIngest`: samples/s on one core into the store for 10k series, measured two ways — the
 *   store alone (SampleStore.append) and the whole pipeline (validation, counters, store; no
 *   detectors attached).
 * - `storeCompression`: bytes per stored sample in sealed chunks, per kind of series (regular
 *   10 s / 1 s noisy gauges with a few significant digits, the same with a real clock's
 *   millisecond jitter, counters, constants, and the NAB corpus values when
 *   `$SEXTANT_DATA_DIR/nab` is there), each 24 h at 10 s (8640 points).
 * - `storeQueries`: µs to read the last hour and the whole 24 h of one series.
 * - `seriesRegistration`: µs per new series (SeriesRegistry.intern + SampleStore.ensureSeries) in a
 *   burst of 100k; `registryHeapBytesPerSeries_10000`: the registry's heap per series at 10k
 *   containers with strings fresh from the wire (store-rss.ts, after a GC).
 * - `storeRss`: RSS of a fresh process (store-rss.ts) holding 10k and 100k series with 24 h of 10 s
 *   data; and where a server's memory goes at 10k series in the peer benchmark's setting.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MutableBatch, Runtime, SampleStore, SeriesRegistry, validateRuntimeConfig } from '@sextant/runtime';

const T0 = 1_700_000_000_000;
const DAY_POINTS = 8640;
const here = dirname(fileURLToPath(import.meta.url));

export async function storeIngest(series = 10_000, rounds = 600): Promise<Record<string, number>> {
  const batch = new MutableBatch(series);
  for (let i = 0; i < series; i++) batch.push(i, 0, 0);
  const drops = new Uint32Array(4);
  const store = new SampleStore(DAY_POINTS, series);
  const fill = (r: number) => {
    const t = T0 + r * 10_000;
    for (let i = 0; i < series; i++) {
      batch.timestamps[i] = t;
      batch.values[i] = ((i * 31 + r) % 1000) / 10;
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

  const config = validateRuntimeConfig({ plugins: { discover: false }, store: { points: DAY_POINTS, maxSeries: series * 2 } }).config!;
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

/** A noisy gauge with one decimal (a CPU %, a temperature). */
const gauge = (i: number, k: number): number => Math.round((40 + 15 * Math.sin(i / 300 + k) + ((i * 7919 + k * 104729) % 37) / 4) * 10) / 10;

/** NAB values (the `value` column of every csv), if the corpus is there. */
function nabSeries(): number[][] {
  const dir = join(process.env.SEXTANT_DATA_DIR ?? '', 'nab', 'data');
  if (!process.env.SEXTANT_DATA_DIR || !existsSync(dir)) return [];
  const out: number[][] = [];
  for (const category of readdirSync(dir)) {
    for (const file of readdirSync(join(dir, category))) {
      if (!file.endsWith('.csv')) continue;
      const rows = readFileSync(join(dir, category, file), 'utf8').trim().split('\n').slice(1);
      out.push(rows.map((r) => Number(r.slice(r.lastIndexOf(',') + 1))).filter(Number.isFinite));
    }
  }
  return out;
}

export function storeCompression(seriesPerKind = 20): Record<string, number> {
  const kinds: Record<string, { interval: number; jitter: boolean; value: (i: number, k: number) => number }> = {
    gauge10s: { interval: 10_000, jitter: false, value: gauge },
    gauge1s: { interval: 1000, jitter: false, value: gauge },
    gauge10sClockJitter: { interval: 10_000, jitter: true, value: gauge },
    counter10s: { interval: 10_000, jitter: false, value: (i, k) => 1e6 * k + i * 300 + ((i * 31 + k) % 97) * (i % 2) },
    constant10s: { interval: 10_000, jitter: false, value: (_, k) => k },
  };
  const nab = nabSeries();
  const result: Record<string, number> = {};
  const measure = (name: string, count: number, interval: number, jitter: boolean, value: (i: number, k: number) => number): void => {
    const store = new SampleStore(DAY_POINTS, count);
    const batch = new MutableBatch(count);
    const drops = new Uint32Array(4);
    for (let i = 0; i < DAY_POINTS; i++) {
      batch.clear();
      for (let k = 0; k < count; k++) batch.push(k, T0 + i * interval + (jitter ? (i * 7 + k * 13) % 9 : 0), value(i, k));
      store.append(batch, drops);
    }
    let bytes = 0;
    let points = 0;
    for (let k = 0; k < count; k++) {
      bytes += store.sealedBytes(k);
      points += store.sealedPoints(k);
    }
    result[`storeBytesPerSample_${name}`] = Math.round((bytes / points) * 1000) / 1000;
  };
  for (const [name, k] of Object.entries(kinds)) measure(name, seriesPerKind, k.interval, k.jitter, k.value);
  if (nab.length > 0) {
    measure('nab', nab.length, 10_000, false, (i, k) => nab[k][i % nab[k].length]);
    result.storeNabSeries = nab.length;
  }
  return result;
}

export function storeQueries(): Record<string, number> {
  const store = new SampleStore(DAY_POINTS, 1);
  const batch = new MutableBatch(DAY_POINTS);
  for (let i = 0; i < DAY_POINTS; i++) batch.push(0, T0 + i * 10_000, gauge(i, 0));
  store.append(batch, new Uint32Array(4));
  for (let i = 0; i < DAY_POINTS; i += 8) store.setBand(0, 1, 0, 2); // only the newest point of the series gets one
  const end = T0 + (DAY_POINTS - 1) * 10_000;
  const time = (from: number, repeat: number): number => {
    for (let r = 0; r < 20; r++) store.read(0, from, end);
    const t0 = performance.now();
    let n = 0;
    for (let r = 0; r < repeat; r++) n += store.read(0, from, end).length;
    if (n === 0) throw new Error('the range query returned nothing');
    return Math.round(((performance.now() - t0) * 1000) / repeat);
  };
  return { storeQueryLastHourUs: time(end - 3_600_000, 2000), storeQuery24hUs: time(T0, 200) };
}

export function seriesRegistration(count = 100_000): Record<string, number> {
  const registry = new SeriesRegistry(count * 2);
  const store = new SampleStore(DAY_POINTS, 0);
  // descriptors as a collector or an agent makes them: 100 hosts x 1000 series, fresh objects
  const descriptors = Array.from({ length: count }, (_, i) => ({
    metric: `bench.metric_${i % 50}`,
    unit: '1',
    type: 'gauge' as const,
    resource: { 'host.name': `host-${i % 100}`, 'service.name': 'bench' },
    attributes: { n: String(i) },
  }));
  const heapBefore = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const id = registry.intern(descriptors[i], 'bench');
    store.ensureSeries(id + 1);
  }
  const us = ((performance.now() - t0) * 1000) / count;
  const cpu = process.cpuUsage(cpu0);
  descriptors.length = 0;
  return {
    registrationUsPerSeries: Math.round(us * 100) / 100,
    // CPU of all the process' threads (the GC's helpers included): the figure that holds on a busy machine
    registrationCpuUsPerSeries: Math.round(((cpu.user + cpu.system) / count) * 100) / 100,
    registrationSeries: count,
    registryHeapBytesPerSeries: Math.round((process.memoryUsage().heapUsed - heapBefore) / count),
  };
}

/**
 * RSS of a fresh process holding `series` x 24 h at 10 s (store-rss.ts); with `parts`, where the
 * memory of a server with (or without) the default analysis goes, stage by stage, in the peer
 * benchmark's setting.
 */
export function storeRss(series: number, parts?: 'parts' | 'parts-ingest-only' | 'registry'): Promise<Record<string, number>> {
  const prefix = parts === 'parts' ? 'serverAnalysis_' : parts === 'parts-ingest-only' ? 'serverIngestOnly_' : '';
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'store-rss.js'), [String(series), ...(parts ? [parts] : [])], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: ['--expose-gc'] });
    child.once('message', (m) => resolve(Object.fromEntries(Object.entries(m as Record<string, number>).map(([k, v]) => [prefix + k, v]))));
    child.once('error', reject);
    child.once('exit', (code) => (code ? reject(new Error(`store-rss exited with ${code}`)) : undefined));
  });
}

export async function storeBench(): Promise<Record<string, number>> {
  return {
    ...(await storeIngest()),
    ...storeCompression(),
    ...storeQueries(),
    ...seriesRegistration(),
    ...(await storeRss(10_000, 'registry')),
    ...(await storeRss(10_000)),
    ...(await storeRss(10_000, 'parts')),
    ...(await storeRss(10_000, 'parts-ingest-only')),
  };
}
