/**
 * Child process of the store benchmark (store-ingest.ts `storeRss`): registers `argv[2]` series,
 * fills each with 24 h at 10 s (8640 points: a quarter each noisy gauges with one decimal,
 * counters, constants, and gauges with three significant digits), and sends back the RSS and heap
 * it ends with, measured after a GC. Nothing else lives in this process, so RSS minus the
 * `baseline` taken before the store existed is the store's and the registry's.
 *
 * With `argv[3]` = `parts` or `parts-ingest-only`: where a server's memory goes at `argv[2]` series
 * in the peer benchmark's setting (75 s of 1 s samples, full-precision values, one resource per
 * series): a Runtime with the default analysis (or none), measured after each stage — runtime
 * started, series registered, samples ingested and analysed — as RSS, V8 heap and array buffers.
 */
import 'reflect-metadata';
import analysisPlugin from '@sextant/analysis/plugin';
import { MutableBatch, Runtime, SampleStore, SeriesRegistry, validateRuntimeConfig } from '@sextant/runtime';

const DAY_POINTS = 8640;
const T0 = 1_700_000_000_000;

function rssMiB(): number {
  return Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const series = Number(process.argv[2] ?? 10_000);
if (process.argv[3]?.startsWith('parts')) await parts(process.argv[3] === 'parts');
else if (process.argv[3] === 'registry') registryOnly();
else fill();

/**
 * Heap bytes per series of the registry alone, as a server fills it from an agent: the end-to-end
 * benchmark's series (one container each: host, service and container id, no point attributes),
 * every string fresh (decoded from bytes, as the wire decoder makes them), measured after a GC.
 */
function registryOnly(): void {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const fresh = (s: string): string => decoder.decode(encoder.encode(s));
  gc();
  const before = process.memoryUsage().heapUsed;
  const registry = new SeriesRegistry(series);
  for (let i = 0; i < series; i++) {
    registry.intern(
      {
        metric: fresh('container.cpu.utilization'),
        unit: fresh('1'),
        type: fresh('gauge') as 'gauge',
        kind: fresh('utilization') as 'utilization',
        resource: { [fresh('host.name')]: fresh(`node-${i % 50}`), [fresh('service.name')]: fresh(`svc-${Math.floor(i / 10)}`), [fresh('container.id')]: fresh(`c${i.toString(16).padStart(12, '0')}`) },
        attributes: {},
      },
      fresh('bench:e2e'),
    );
  }
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  process.send!({ [`registryHeapBytesPerSeries_${series}`]: Math.round(bytes / series), registrySeriesKept: registry.size });
  process.disconnect();
}

async function parts(analysis: boolean): Promise<void> {
  const figures: Record<string, number> = {};
  const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;
  const stage = (name: string): void => {
    gc();
    const m = process.memoryUsage();
    figures[`${name}RssMiB`] = mib(m.rss);
    figures[`${name}HeapUsedMiB`] = mib(m.heapUsed);
    figures[`${name}HeapTotalMiB`] = mib(m.heapTotal);
    figures[`${name}ArrayBuffersMiB`] = mib(m.arrayBuffers);
  };
  stage('imported');
  const config = validateRuntimeConfig({ plugins: { discover: false }, server: { enabled: false }, ...(analysis ? { detectors: { baseline: {}, 'peer-outlier': {} }, correlators: { incidents: {} } } : {}) }).config!;
  const rt = await Runtime.load({ config, builtins: [{ packageName: '@sextant/analysis', version: '0.0.0', plugin: analysisPlugin }], log: { level: 'silent' } });
  await rt.start();
  stage('started');
  const ids = new Uint32Array(series);
  for (let i = 0; i < series; i++) {
    const group = `g${Math.floor(i / 10)}`;
    ids[i] = rt.registry.intern({ metric: 'bench.value', unit: '1', type: 'gauge', description: 'Synthetic gauge of the peer benchmark.', resource: { 'service.name': group, 'container.id': `${group}-m${i % 10}` }, attributes: {} }, 'bench:peers');
  }
  stage('registered');
  const batch = new MutableBatch(series);
  const t0 = Date.now() - 80_000;
  for (let second = 0; second < 75; second++) {
    batch.clear();
    for (let i = 0; i < series; i++) batch.push(ids[i], t0 + second * 1000, 100 + (i % 10) + 10 * Math.sin(second / 60 + i) + (((i * 2654435761 + second * 40503) >>> 0) % 1000) / 1000);
    rt.pipeline.ingest(batch, 'bench:peers');
  }
  stage('ingested');
  figures.storeBytesMiB = mib(rt.store.bytes);
  process.send!(figures);
  await rt.stop();
  process.disconnect();
}

function fill(): void {
  gc();
  const baseline = rssMiB();
  const registry = new SeriesRegistry(series);
  const store = new SampleStore(DAY_POINTS, 0);
  for (let i = 0; i < series; i++) {
    const id = registry.intern({ metric: `bench.metric_${i % 50}`, unit: '1', type: 'gauge', resource: { 'host.name': `host-${i % 100}` }, attributes: { n: String(i) } }, 'bench');
    store.ensureSeries(id + 1);
  }
  gc();
  const afterRegistry = rssMiB();
  const batch = new MutableBatch(series);
  const drops = new Uint32Array(4);
  const started = performance.now();
  for (let p = 0; p < DAY_POINTS; p++) {
    batch.clear();
    const t = T0 + p * 10_000;
    for (let i = 0; i < series; i++) {
      let v: number;
      switch (i & 3) {
        case 0:
          v = Math.round((40 + 15 * Math.sin(p / 300 + i) + ((p * 7919 + i) % 37) / 4) * 10) / 10;
          break;
        case 1:
          v = 1e6 * i + p * 300 + ((p * 31 + i) % 97);
          break;
        case 2:
          v = i;
          break;
        default:
          v = Math.round(1000 + 200 * Math.sin(p / 500) + ((p * 104729 + i) % 101)) / 100;
      }
      batch.push(i, t, v);
    }
    store.append(batch, drops);
  }
  const fillSecs = (performance.now() - started) / 1000;
  gc();
  const end = rssMiB();
  const mem = process.memoryUsage();
  const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;
  process.send!({
    [`storeRssHeapUsedMiB_${series}`]: mib(mem.heapUsed),
    [`storeRssArrayBuffersMiB_${series}`]: mib(mem.arrayBuffers),
    [`storeRssMiB_${series}`]: end,
    [`storeRssBaselineMiB_${series}`]: baseline,
    [`storeRssRegistryMiB_${series}`]: Math.round((afterRegistry - baseline) * 10) / 10,
    [`storeBytesMiB_${series}`]: Math.round((store.bytes / 1048576) * 10) / 10,
    [`storeBytesPerSampleAll_${series}`]: Math.round((store.bytes / (series * DAY_POINTS)) * 1000) / 1000,
    [`storeFillSamplesPerSec_${series}`]: Math.round((series * DAY_POINTS) / fillSecs),
  });
  process.disconnect();
}
