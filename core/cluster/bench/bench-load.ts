/**
 * The offered load of the `cluster` benchmark (forked by bench.ts), in its own process so its CPU
 * is charged to no server: one IngestClient (one agent) sending `series` series, one sample each
 * per round, in batches of 1000, keeping at most 200 messages unacknowledged (below the server's
 * maxQueuePerStream of 256, so the offered load is not limited by acknowledgement latency).
 *
 * argv: address, sourceId, series, first series number (so several agents send distinct series).
 * IPC: the parent sends `{ rounds, from }` to send rounds `from`..`from+rounds-1`; the child answers
 * `{ done: samples }` once all of them are acknowledged. 'stop' closes the client and exits.
 */
import { IngestClient, type SeriesDefinition } from '@sextant/protocol';
import { BENCH_TOKEN } from './bench-token.js';

const [address, sourceId, seriesArg, firstArg] = process.argv.slice(2);
const SERIES = Number(seriesArg);
const FIRST = Number(firstArg);
const BATCH = 1000;
const WINDOW = 200;
const T0 = Date.now() - 3_600_000;

const client = new IngestClient({ address, insecure: true, token: BENCH_TOKEN, sourceId, maxBufferBatches: 1_000_000, maxBufferBytes: 1 << 30, backoff: { initialMs: 20, maxMs: 500 } });
const defs: SeriesDefinition[] = [];
for (let i = 0; i < SERIES; i++) {
  const n = FIRST + i;
  defs.push({ localId: i, descriptor: { metric: 'bench.value', unit: '1', type: 'gauge', resource: { 'host.name': `h${n % 100}` }, attributes: { n } } });
}
let defined = false;

async function sendRounds(from: number, rounds: number): Promise<number> {
  const batch = { length: BATCH, series: new Uint32Array(BATCH), timestamps: new Float64Array(BATCH), values: new Float64Array(BATCH) };
  let samples = 0;
  for (let r = from; r < from + rounds; r++) {
    for (let off = 0; off < SERIES; off += BATCH) {
      const n = Math.min(BATCH, SERIES - off);
      batch.length = n;
      for (let j = 0; j < n; j++) {
        batch.series[j] = off + j;
        batch.timestamps[j] = T0 + r * 1000;
        batch.values[j] = (off + j + r) % 97;
      }
      // Definitions go with the first batch that uses them.
      client.send(defined ? [] : defs.slice(off, off + n), batch);
      samples += n;
      while (client.stats().bufferedBatches >= WINDOW) await new Promise((r) => setTimeout(r, 1));
    }
    defined = true;
  }
  while (client.stats().bufferedBatches > 0) await new Promise((r) => setTimeout(r, 2));
  return samples;
}

process.on('message', (msg: unknown) => {
  if (msg === 'stop') {
    void client.close().finally(() => process.exit(0));
  } else if (msg === 'stats') {
    process.send!({ stats: client.stats() });
  } else if (typeof msg === 'object' && msg !== null && 'rounds' in msg) {
    const { rounds, from } = msg as { rounds: number; from: number };
    void sendRounds(from, rounds).then((done) => process.send!({ done }));
  }
});
process.send!({ ready: true });
