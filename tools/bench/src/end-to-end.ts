/**
 * End to end as a server sees it (issue 20: >= 2M samples/s per core, gRPC in -> detect ->
 * correlate): one agent's IngestClient streams 10,000 gauges (1,000 services x 10 containers, so
 * peer-outlier has groups) into a forked server process (end-to-end-server.ts) running the default
 * analysis. Every series gets one sample per simulated 10 s round, values with noise and a few
 * spikes, so detectors score and the correlator opens incidents; rounds are sent back to back.
 *
 * Figure: `endToEndSamplesPerCpuSecond` = samples the server's pipeline accepted / the server
 * process's CPU seconds (process.cpuUsage) over the measured rounds; the client's work is not
 * counted. `endToEndServerRssMiB` is the server's RSS at the end. Profile the server with
 * `SEXTANT_BENCH_E2E_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { IngestClient, type SeriesDefinition } from '@sextant/protocol';

const TOKEN = 'bench-e2e-token-0123456789';
const SERIES = 10_000;
const GROUP = 10;
const PER_MESSAGE = 1000;

interface Report {
  cpuMicros: number;
  accepted: number;
  rssMiB: number;
}

function ask(child: ChildProcess): Promise<Report> {
  return new Promise((resolve) => {
    const onMessage = (msg: unknown): void => {
      if (typeof msg === 'object' && msg !== null && 'cpuMicros' in msg) {
        child.off('message', onMessage);
        resolve(msg as Report);
      }
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

export async function endToEnd(opts: { warmupRounds?: number; rounds?: number } = {}): Promise<Record<string, number>> {
  const warmupRounds = opts.warmupRounds ?? 30;
  const rounds = opts.rounds ?? 60;
  const child = fork(new URL('./end-to-end-server.js', import.meta.url), [], { execArgv: (process.env.SEXTANT_BENCH_E2E_NODE_ARGS ?? '').split(' ').filter(Boolean), env: { ...process.env, SEXTANT_BENCH_TOKEN: TOKEN }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let client: IngestClient | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`end-to-end server exited (${code}) before listening`)));
      child.once('message', (msg) => resolve((msg as { port: number }).port));
    });
    client = new IngestClient({ address: `127.0.0.1:${port}`, insecure: true, token: TOKEN, sourceId: 'bench:e2e' });
    const defs: SeriesDefinition[] = Array.from({ length: SERIES }, (_, i) => ({
      localId: i,
      descriptor: {
        metric: 'container.cpu.utilization',
        unit: '1',
        type: 'gauge',
        kind: 'utilization',
        resource: { 'host.name': `node-${i % 50}`, 'service.name': `svc-${Math.floor(i / GROUP)}`, 'container.id': `c${i.toString(16).padStart(12, '0')}` },
        attributes: {},
      },
    }));
    const batch = { length: PER_MESSAGE, series: new Uint32Array(PER_MESSAGE), timestamps: new Float64Array(PER_MESSAGE), values: new Float64Array(PER_MESSAGE) };
    const total = warmupRounds + rounds;
    const t0 = Date.now() - (total + 1) * 10_000; // in the past: the server refuses samples from the future
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let announced = false;
    const sendRound = async (round: number) => {
      for (let start = 0; start < SERIES; start += PER_MESSAGE) {
        for (let j = 0; j < PER_MESSAGE; j++) {
          const s = start + j;
          batch.series[j] = s;
          batch.timestamps[j] = t0 + round * 10_000;
          // ~0.5 +- 0.05, and a spike on one series in a thousand per round
          batch.values[j] = 0.5 + (random() - 0.5) * 0.1 + (random() < 0.001 ? 0.4 : 0);
        }
        client!.send(announced ? [] : defs.slice(start, start + PER_MESSAGE), batch);
      }
      announced = true;
      if (!(await client!.flush(120_000))) throw new Error('end-to-end bench: the server did not acknowledge a round in time');
    };
    for (let r = 0; r < warmupRounds; r++) await sendRound(r);
    const before = await ask(child);
    const wall0 = performance.now();
    for (let r = warmupRounds; r < total; r++) await sendRound(r);
    const after = await ask(child);
    const wallS = (performance.now() - wall0) / 1000;
    const samples = after.accepted - before.accepted;
    if (samples < rounds * SERIES * 0.99) throw new Error(`end-to-end bench: the server accepted ${samples} of ${rounds * SERIES} samples`);
    const cpuS = (after.cpuMicros - before.cpuMicros) / 1e6;
    return {
      endToEndSamplesPerCpuSecond: Math.round(samples / cpuS),
      endToEndSamplesPerSecWall: Math.round(samples / wallS),
      endToEndServerRssMiB: Math.round(after.rssMiB * 10) / 10,
      endToEndSeries: SERIES,
      endToEndSamples: samples,
    };
  } finally {
    await client?.close();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    }
  }
}
