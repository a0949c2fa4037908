/**
 * The server half of the end-to-end benchmark (end-to-end.ts), forked: what `sextant server` runs
 * — a runtime with the default analysis (baseline, peer-outlier, incidents) and an IngestServer
 * wired to its registry and pipeline exactly like the CLI's server command — without the HTTP API.
 * Talks over IPC: sends `{ port }` when listening; answers 'cpu' with its CPU time and the samples
 * the pipeline has accepted; exits on 'stop'.
 */
import 'reflect-metadata';
import analysisPlugin from '@sextant/analysis/plugin';
import { IngestServer } from '@sextant/protocol';
import { Runtime, validateRuntimeConfig } from '@sextant/runtime';

const token = process.env.SEXTANT_BENCH_TOKEN ?? 'bench-e2e-token-0123456789';
const loaded = validateRuntimeConfig({
  plugins: { discover: false },
  server: { enabled: false },
  collectors: {},
  detectors: { baseline: {}, 'peer-outlier': {} },
  correlators: { incidents: {} },
  ingest: { maxSamplesPerSecondPerSource: 0 },
});
if (!loaded.config) throw new Error(`end-to-end bench config: ${JSON.stringify(loaded.issues)}`);
const runtime = await Runtime.load({ config: loaded.config, builtins: [{ plugin: analysisPlugin, packageName: '@sextant/analysis', version: '0.0.0' }], log: { level: 'silent' }, collectImmediately: false, hostResource: { 'host.name': 'bench-server' } });
await runtime.start();
let accepted = 0;
runtime.pipeline.observe((batch) => void (accepted += batch.length));
const ingest = await IngestServer.start({
  address: '127.0.0.1:0',
  insecureLoopback: true,
  tokens: token,
  maxSeriesPerSource: runtime.config.ingest.maxSeriesPerSource,
  handler: {
    onSeries: (sourceId, _localId, descriptor) => {
      try {
        return runtime.registry.intern(descriptor, sourceId);
      } catch {
        return null;
      }
    },
    onBatch: (sourceId, batch) => runtime.pipeline.ingest(batch, sourceId),
    onEvents: () => {},
    onTopology: () => {},
  },
});
process.on('message', (msg) => {
  if (msg === 'cpu') {
    const cpu = process.cpuUsage();
    process.send!({ cpuMicros: cpu.user + cpu.system, accepted, rssMiB: process.memoryUsage().rss / 1048576 });
  } else if (msg === 'stop') {
    void ingest.shutdown(1000).then(() => runtime.stop()).then(() => process.exit(0));
  }
});
process.send!({ port: Number(ingest.address.split(':').pop()) });
