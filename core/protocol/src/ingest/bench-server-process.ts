/**
 * The server side of the ingest benchmark, run as its own process so its CPU time can be measured
 * alone. Prints nothing; talks to the parent over IPC: sends `{ port }` once listening, answers
 * `'cpu'` with `{ cpuMicros, samples }` (process.cpuUsage user + system), exits on `'stop'`.
 */
import { IngestServer } from './ingest-server.js';

let samples = 0;
const server = await IngestServer.start({
  address: '127.0.0.1:0',
  insecureLoopback: true,
  tokens: process.env.SEXTANT_BENCH_TOKEN ?? 'bench-token-0123456789',
  handler: {
    onSeries: () => undefined,
    onBatch: (_source, batch) => {
      samples += batch.length;
    },
  },
});
process.on('message', (msg) => {
  if (msg === 'cpu') {
    const u = process.cpuUsage();
    process.send?.({ cpuMicros: u.user + u.system, samples });
  } else if (msg === 'stop') {
    void server.shutdown(200).then(() => process.exit(0));
  }
});
process.send?.({ port: server.port });
