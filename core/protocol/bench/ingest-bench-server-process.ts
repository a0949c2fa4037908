/**
 * The server side of the ingest benchmark, run as its own process so its CPU time can be measured
 * alone. Prints nothing; talks to the parent over IPC: sends `{ port }` once listening, answers
 * `'cpu'` with `{ cpuMicros, samples, series }` (process.cpuUsage user + system; series
 * definitions handed to onSeries), answers `'restart'` with `{ restarted: true }` once a fresh
 * server (nothing known about any source) listens on the same port, exits on `'stop'`.
 */
import { IngestServer, type IngestHandler } from '../src/ingest/ingest-server.js';

let samples = 0;
let series = 0;
const handler: IngestHandler = {
  onSeries: () => {
    series++;
  },
  onBatch: (_source, batch) => {
    samples += batch.length;
  },
};
const start = (address: string): Promise<IngestServer> =>
  IngestServer.start({ address, insecureLoopback: true, tokens: process.env.SEXTANT_BENCH_TOKEN ?? 'bench-token-0123456789', handler, maxSeriesPerSource: 1_000_000 });
let server = await start('127.0.0.1:0');
process.on('message', (msg) => {
  if (msg === 'cpu') {
    const u = process.cpuUsage();
    process.send?.({ cpuMicros: u.user + u.system, samples, series });
  } else if (msg === 'restart') {
    const port = server.port;
    void server.shutdown(200).then(async () => {
      server = await start(`127.0.0.1:${port}`);
      process.send?.({ restarted: true });
    });
  } else if (msg === 'stop') {
    void server.shutdown(200).then(() => process.exit(0));
  }
});
process.send?.({ port: server.port });
