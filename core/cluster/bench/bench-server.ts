/**
 * A server process of the `cluster` benchmark (forked by bench.ts): a runtime without detectors and
 * an IngestServer, wired like `sextant server`:
 *   argv[2] = 'memory'  the single-server path (handler -> pipeline.ingest)
 *   argv[2] = 'member'  a cluster member (handler -> partition streams; owned partitions -> pipeline);
 *                       env BENCH_STORE, BENCH_GROUP, BENCH_MEMBER
 * IPC: sends `{ port }` once listening; answers 'stats' with its CPU time (µs), the samples its
 * pipeline accepted and the partitions it owns; exits on 'stop'.
 */
import 'reflect-metadata';
import { IngestServer, type IngestHandler } from '@sextant/protocol';
import { Runtime, validateRuntimeConfig } from '@sextant/runtime';
import { ClusterMember } from '../src/cluster-member.js';
import { BENCH_TOKEN } from './bench-token.js';

const mode = process.argv[2];
const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { enabled: false }, collectors: {}, detectors: {}, correlators: {}, notifiers: {}, ingest: { maxSamplesPerSecondPerSource: 0 } });
if (!loaded.config) throw new Error(`cluster bench config: ${JSON.stringify(loaded.issues)}`);
const runtime = await Runtime.load({ config: loaded.config, builtins: [], log: { level: 'silent' }, collectImmediately: false, hostResource: { 'host.name': 'bench' } });
await runtime.start();
let accepted = 0;
runtime.pipeline.observe((batch) => void (accepted += batch.length));
let member: ClusterMember | undefined;
let handler: IngestHandler;
if (mode === 'member') {
  member = await ClusterMember.start({ runtime, store: process.env.BENCH_STORE!, detectors: {}, group: process.env.BENCH_GROUP, memberId: process.env.BENCH_MEMBER });
  handler = member.ingestHandler;
} else {
  handler = {
    onSeries: (sourceId, _localId, descriptor) => {
      try {
        return runtime.registry.intern(descriptor, sourceId);
      } catch {
        return null;
      }
    },
    onBatch: (sourceId, batch) => runtime.pipeline.ingest(batch, sourceId),
  };
}
const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: BENCH_TOKEN, handler, maxSamplesPerSecondPerSource: 0, maxSeriesPerSource: 1_000_000 });
process.on('message', (msg) => {
  if (msg === 'stats') {
    const cpu = process.cpuUsage();
    process.send!({ cpuMicros: cpu.user + cpu.system, accepted, owned: member?.ownedPartitions.length ?? 0, ingest: ingest.stats() });
  } else if (msg === 'stop') {
    void (async () => {
      await ingest.shutdown(1000);
      await member?.stop();
      await runtime.stop();
      process.exit(0);
    })();
  }
});
process.send!({ port: Number(ingest.address.split(':').pop()) });
