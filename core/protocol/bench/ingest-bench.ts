/**
 * Ingest benchmark: samples per second per SERVER core over one agent-to-server gRPC stream, for
 * batch sizes 1, 100 and 1000, and whether a long stream slows down.
 *
 * The server runs in a child process; its CPU time (user + system, from process.cpuUsage) is the
 * denominator, so the figure does not depend on how busy the client or the machine is.
 * `longStreamSlowdownRatio` = wall time of the last tenth of a 200,000-message stream divided by
 * that of the first tenth (1.0 = no slowdown; grpc-js without 'grpc.per_rpc_retry_buffer_size': 0
 * shows ~10).
 * `announce200kSeries*`: one agent defining 200,000 series (one sample each) until the server has
 * acknowledged everything, and `reannounce200kSeries*`: the same agent announcing them all again
 * to a restarted server after its reconnect (wall ms, bytes on the wire, messages).
 *
 * Run from the built package: `node -e "import('./core/protocol/dist-bench/bench/ingest-bench.js').then(m => m.run()).then(console.log)"`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { IngestClient } from '../src/ingest/ingest-client.js';

const TOKEN = 'bench-token-0123456789';

interface CpuReport {
  cpuMicros: number;
  samples: number;
  series: number;
}

function ask(child: ChildProcess): Promise<CpuReport> {
  return new Promise((resolve) => {
    const onMessage = (msg: unknown): void => {
      if (typeof msg === 'object' && msg !== null && 'cpuMicros' in msg) {
        child.off('message', onMessage);
        resolve(msg as CpuReport);
      }
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

function makeBatch(size: number, round: number) {
  const batch = { length: size, series: new Uint32Array(size), timestamps: new Float64Array(size), values: new Float64Array(size) };
  for (let i = 0; i < size; i++) {
    batch.series[i] = i % 100;
    batch.timestamps[i] = 1_700_000_000_000 + round;
    batch.values[i] = i + round;
  }
  return batch;
}

/** Sends `messages` messages of `batchSize` samples in rounds; returns wall ms per round. */
async function stream(client: IngestClient, messages: number, batchSize: number, rounds: number): Promise<number[]> {
  const batch = makeBatch(batchSize, 1);
  const perRound = Math.ceil(messages / rounds);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) client.send([], batch);
    if (!(await client.flush(120_000))) throw new Error('ingest benchmark: server did not acknowledge in time');
    times.push(performance.now() - t0);
  }
  return times;
}

async function samplesPerServerCore(child: ChildProcess, client: IngestClient, batchSize: number): Promise<number> {
  const messages = batchSize === 1 ? 100_000 : batchSize === 100 ? 20_000 : 5_000;
  await stream(client, Math.min(messages, 2_000), batchSize, 2); // warm-up
  const before = await ask(child);
  await stream(client, messages, batchSize, 20);
  const after = await ask(child);
  return (after.samples - before.samples) / ((after.cpuMicros - before.cpuMicros) / 1e6);
}

/** Asks the server process to restart on the same port (forgetting every source). */
function restart(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (msg: unknown): void => {
      if (typeof msg === 'object' && msg !== null && 'restarted' in msg) {
        child.off('message', onMessage);
        resolve();
      }
    };
    child.on('message', onMessage);
    child.send('restart');
  });
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('ingest benchmark: condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Announces 200,000 series, then again after a server restart; wall time, bytes and messages of each. */
async function announceSeries(child: ChildProcess, port: number): Promise<Record<string, number>> {
  const SERIES = 200_000;
  const defs = Array.from({ length: SERIES }, (_, i) => ({
    localId: i,
    descriptor: {
      metric: 'container.cpu.utilization',
      unit: '1',
      type: 'gauge' as const,
      resource: { 'host.name': `node-${i % 50}`, 'container.id': `c${i.toString(16).padStart(12, '0')}`, 'service.name': `svc-${i % 300}` },
      attributes: { 'cpu.state': 'user', i },
    },
  }));
  const batch = makeBatch(SERIES, 1);
  for (let i = 0; i < SERIES; i++) batch.series[i] = i;
  const client = new IngestClient({ address: `127.0.0.1:${port}`, insecure: true, token: TOKEN, sourceId: 'bench:announce', backoff: { initialMs: 10, maxMs: 100 } });
  try {
    const before = await ask(child);
    const t0 = performance.now();
    client.send(defs, batch);
    const bytes = client.stats().bufferedBytes;
    const messages = client.stats().batches;
    if (!(await client.flush(120_000))) throw new Error('ingest benchmark: announcing 200k series was not acknowledged in time');
    const announceMs = performance.now() - t0;
    const announced = (await ask(child)).series - before.series;

    await restart(child);
    const t1 = performance.now();
    await until(() => client.stats().connected && client.stats().reannouncedSeries >= SERIES, 120_000);
    // a sample for every series once they are announced: acknowledged only after the server has taken them
    client.send([], batch);
    if (!(await client.flush(120_000))) throw new Error('ingest benchmark: re-announcing 200k series was not acknowledged in time');
    const reannounceMs = performance.now() - t1;
    const after = await ask(child);
    return {
      announce200kSeriesMs: Math.round(announceMs),
      announce200kSeriesBytes: bytes,
      announce200kSeriesMessages: messages,
      announce200kSeriesDefinedOnServer: announced,
      reannounce200kSeriesMs: Math.round(reannounceMs),
      reannounce200kSeriesDefinedOnServer: after.series - before.series - announced,
    };
  } finally {
    await client.close();
  }
}

export async function run(): Promise<Record<string, number>> {
  const child = fork(new URL('./ingest-bench-server-process.js', import.meta.url), [], { env: { ...process.env, SEXTANT_BENCH_TOKEN: TOKEN }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('message', (msg) => resolve((msg as { port: number }).port));
    });
    const results: Record<string, number> = {};
    for (const size of [1, 100, 1000]) {
      const client = new IngestClient({ address: `127.0.0.1:${port}`, insecure: true, token: TOKEN, sourceId: `bench:b${size}`, maxBufferBatches: 1_000_000, maxBufferBytes: 1 << 30 });
      client.send(Array.from({ length: 100 }, (_, i) => ({ localId: i, descriptor: { metric: 'bench.value', unit: '1', type: 'gauge' as const, resource: { 'host.name': 'bench' }, attributes: { i } } })));
      results[`ingestSamplesPerSec_b${size}`] = Math.round(await samplesPerServerCore(child, client, size));
      await client.close();
    }
    const client = new IngestClient({ address: `127.0.0.1:${port}`, insecure: true, token: TOKEN, sourceId: 'bench:long', maxBufferBatches: 1_000_000, maxBufferBytes: 1 << 30 });
    client.send([{ localId: 0, descriptor: { metric: 'bench.value', unit: '1', type: 'gauge', resource: {}, attributes: {} } }]);
    const times = await stream(client, 200_000, 1, 10);
    await client.close();
    results.longStreamSlowdownRatio = Math.round((times[times.length - 1]! / times[0]!) * 100) / 100;
    Object.assign(results, await announceSeries(child, port));
    return results;
  } finally {
    child.send('stop');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
