/**
 * Benchmark of the plugin protocol: samples/s from a child's Collect stream into a host sink, at
 * 1, 100 and 1000 samples per message; whether a long stream slows down; the child's RSS; and how
 * long a restart takes after SIGKILL; what keeping an isolated detector's topology view current
 * costs: pushing updates down the Detect stream versus one query round trip per lookup. Run
 * through tools/bench, or:
 *   npm run bench -- --only protocol   (bench/bench.ts, compiled to dist-bench/)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CollectorContext, CollectorFactory, Logger, SeriesDescriptor, TelemetrySink, TopologyUpdate } from '@sextant/plugin-api';
import { mergeDefaults } from '@sextant/plugin-api';
import { DetectRequest } from '../src/gen/sextant/plugin/v1/plugin.js';
import { launchPluginProcess, type RemotePlugin } from '../src/launch.js';
import { topologyToWire } from '../src/topology-wire.js';

const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Counts what arrives, with no per-sample allocation (what the runtime's sink must at least do). */
class CountingSink implements TelemetrySink {
  samples = 0;
  checksum = 0;
  private seriesCount = 0;
  series(_d: SeriesDescriptor): number {
    return this.seriesCount++;
  }
  sample(_series: number, value: number): void {
    this.samples++;
    this.checksum += value;
  }
  event(): void {}
  topology(): void {}
  flush(): void {}
}

function benchPluginPath(): string {
  const here = import.meta.url;
  return fileURLToPath(here.endsWith('.ts') ? new URL('../dist-bench/bench/bench-plugin.js', here) : new URL('./bench-plugin.js', here));
}

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : Number.NaN;
}

/** Private_Clean + Private_Dirty of a process (smaps_rollup), MiB. */
function privateMiB(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return Math.round(((kb('Private_Clean') + kb('Private_Dirty')) / 1024) * 10) / 10;
}

async function collectorOf(remote: RemotePlugin): Promise<CollectorFactory<unknown>> {
  let factory: CollectorFactory<unknown> | undefined;
  await remote.plugin.register({ collectors: { addFactory: (f: CollectorFactory<unknown>) => (factory = f) } });
  return factory!;
}

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface StreamFigures {
  /** samples per wall second over all rounds */
  readonly rate: number;
  readonly firstHalf: number;
  readonly secondHalf: number;
  /** host + child CPU µs per sample over all rounds */
  readonly cpuMicrosPerSample: number;
}

/** One collector instance of the bench plugin (its own Collect stream), counting what arrives. */
class BenchStream {
  readonly sink = new CountingSink();
  private readonly controller = new AbortController();
  private collector: Awaited<ReturnType<CollectorFactory<unknown>['create']>> | undefined;
  rounds = 0;

  constructor(
    private readonly factory: CollectorFactory<unknown>,
    private readonly pid: number,
    readonly batch: number,
    readonly samplesPerRound: number,
  ) {}

  async open(): Promise<this> {
    const ctx: CollectorContext<unknown> = {
      config: mergeDefaults(this.factory.defaults, { batch: this.batch, samplesPerRound: this.samplesPerRound, series: 1000 }),
      instanceId: `bench-stream/b${this.batch}`,
      logger: quietLogger,
      clock: { now: () => Date.now(), setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
      status: { set() {} },
      metrics: { counter: () => ({ add() {} }), gauge: () => ({ set() {} }) },
      signal: this.controller.signal,
      dataDir: undefined,
      sink: this.sink,
      hostResource: {},
      intervalMs: 10_000,
    };
    this.collector = await this.factory.create(ctx);
    await this.collector.start?.();
    return this;
  }

  /** One round; returns its wall ms and the CPU ms of host and child together. */
  async round(): Promise<{ wallMs: number; cpuMs: number }> {
    const t0 = performance.now();
    const host0 = process.cpuUsage();
    const child0 = processCpuMs(this.pid);
    await this.collector!.collect!(this.controller.signal);
    const host = process.cpuUsage(host0);
    this.rounds++;
    return { wallMs: performance.now() - t0, cpuMs: (host.user + host.system) / 1000 + processCpuMs(this.pid) - child0 };
  }

  async close(): Promise<void> {
    await this.collector?.shutdown();
    const expected = this.rounds * this.samplesPerRound;
    if (this.sink.samples !== expected) throw new Error(`bench lost samples: got ${this.sink.samples}, expected ${expected}`);
  }
}

const sum = (a: readonly number[]) => a.reduce((x, y) => x + y, 0);

async function streamRate(stream: BenchStream, rounds: number): Promise<StreamFigures> {
  await stream.round(); // warm-up round
  const times: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const { wallMs, cpuMs } = await stream.round();
    times.push(wallMs);
    cpu.push(cpuMs);
  }
  const elapsed = (performance.now() - start) / 1000;
  const half = Math.floor(rounds / 2);
  const n = stream.samplesPerRound;
  return {
    rate: Math.round((rounds * n) / elapsed),
    firstHalf: Math.round((half * n) / (sum(times.slice(0, half)) / 1000)),
    secondHalf: Math.round(((rounds - half) * n) / (sum(times.slice(half)) / 1000)),
    cpuMicrosPerSample: Math.round(((sum(cpu) * 1000) / (rounds * n)) * 1000) / 1000,
  };
}

/**
 * Does a long-lived stream cost more than a fresh one? Rounds alternate between `long` (which has
 * carried millions of samples) and a new instance with its own new stream (after one warm-up
 * round), so both see the same machine load. Returns the median over `pairs` of the ratio of host
 * + child CPU per sample (long / fresh): a load spike during one round moves one pair, not the
 * result. > 1: the long-lived stream costs more.
 */
async function longVersusFresh(long: BenchStream, factory: CollectorFactory<unknown>, pid: number, pairs: number): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const fresh = await new BenchStream(factory, pid, long.batch, long.samplesPerRound).open();
    await fresh.round();
    let longCpu: number;
    let freshCpu: number;
    if (i % 2 === 0) {
      freshCpu = (await fresh.round()).cpuMs;
      longCpu = (await long.round()).cpuMs;
    } else {
      longCpu = (await long.round()).cpuMs;
      freshCpu = (await fresh.round()).cpuMs;
    }
    await fresh.close();
    if (freshCpu > 0) ratios.push(longCpu / freshCpu);
  }
  ratios.sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  const median = ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  return Math.round(median * 100) / 100;
}

/** A container entity as the containers collector reports it, with its two edges. */
function containerUpdate(i: number): TopologyUpdate {
  const id = `container:${i.toString(16).padStart(64, 'a')}`;
  return {
    upsertEntities: [
      {
        id,
        type: 'container',
        name: `web-${i}`,
        attributes: {
          'container.id': id.slice(10),
          'container.name': `web-${i}`,
          'sextant.container.image.ref': 'registry.example.com/shop/web:1.25.4',
          'sextant.container.labels': '{"app":"web","tier":"front"}',
          'sextant.container.state': 'running',
          'sextant.container.pid': 4000 + i,
          'sextant.container.ip_addresses': '["10.0.0.12"]',
          'sextant.container.ports': '[{"port":80,"protocol":"tcp"}]',
          'sextant.container.network_mode': 'bridge',
        },
      },
    ],
    upsertEdges: [
      { from: id, to: 'host:node-1', type: 'runs-on' },
      { from: id, to: 'service:web', type: 'member-of' },
    ],
  };
}

/**
 * Push: bytes and encode time of one container's update on the Detect stream, and of the whole
 * graph of 1000 containers a new stream starts with. Query: one unary round trip to the child
 * (ValidateConfig, the cheapest RPC with a body), what every lookup would cost instead.
 */
async function topologyCosts(factory: CollectorFactory<unknown>): Promise<Record<string, number>> {
  const empty = { instanceId: '', series: [], batch: undefined, event: undefined, pauseLearning: undefined, feedback: undefined, snapshotRequest: 0 };
  const one = DetectRequest.encode({ ...empty, topology: topologyToWire(containerUpdate(1)) }).finish().byteLength;
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) DetectRequest.encode({ ...empty, topology: topologyToWire(containerUpdate(i)) }).finish();
  const encodeMicros = ((performance.now() - t0) * 1000) / n;
  const all: TopologyUpdate = { upsertEntities: [], upsertEdges: [] };
  for (let i = 0; i < 1000; i++) {
    const u = containerUpdate(i);
    (all.upsertEntities as unknown[]).push(...u.upsertEntities!);
    (all.upsertEdges as unknown[]).push(...u.upsertEdges!);
  }
  const full = DetectRequest.encode({ ...empty, topology: topologyToWire(all) }).finish().byteLength;
  const validate = factory.configSchema['~standard'].validate;
  await validate({});
  const rounds = 300;
  const t1 = performance.now();
  for (let i = 0; i < rounds; i++) await validate({});
  const roundTripMicros = ((performance.now() - t1) * 1000) / rounds;
  return {
    topologyPushUpdateBytes: one,
    topologyPushUpdateEncodeMicros: Math.round(encodeMicros * 10) / 10,
    topologyPushFullGraphBytes_1000containers: full,
    topologyQueryRoundTripMicros: Math.round(roundTripMicros),
  };
}

export async function run(): Promise<Record<string, number>> {
  const remote = await launchPluginProcess({ pluginModule: benchPluginPath(), displayName: 'bench', logger: quietLogger, restart: { initialDelayMs: 0 }, nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) });
  try {
    const factory = await collectorOf(remote);
    const pid = remote.status().pid!;
    const childIdleRssMiB = rssMiB(pid, 'VmRSS');
    const topology = await topologyCosts(factory);
    const rate = async (batch: number, samplesPerRound: number, rounds: number) => {
      const stream = await new BenchStream(factory, pid, batch, samplesPerRound).open();
      const figures = await streamRate(stream, rounds);
      await stream.close();
      return figures;
    };
    const b1 = await rate(1, 5_000, 8);
    const b100 = await rate(100, 100_000, 8);
    const long = await new BenchStream(factory, pid, 1000, 200_000).open();
    const b1000 = await streamRate(long, 30); // 6M samples: the "long stream"
    const longOverFresh = await longVersusFresh(long, factory, pid, 12);
    await long.close();
    const childRssMiB = rssMiB(pid, 'VmRSS');
    const childPeakRssMiB = rssMiB(pid, 'VmHWM');
    // What the child costs on its own: its private pages (the node binary and libraries it maps are
    // shared with the host and every other node process, but counted in RSS).
    const childPrivateMiB = privateMiB(pid);

    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    while (remote.status().state !== 'running' || remote.status().pid === pid) await new Promise((r) => setTimeout(r, 5));
    const restartAfterKillMs = Math.round(performance.now() - killedAt);

    return {
      collectStreamSamplesPerSec_b1: b1.rate,
      collectStreamSamplesPerSec_b100: b100.rate,
      collectStreamSamplesPerSec_b1000: b1000.rate,
      collectStreamLongRunSecondHalfOverFirstHalf_b1000: Math.round((b1000.secondHalf / b1000.firstHalf) * 100) / 100,
      // CPU (host + child) per sample, less noisy than wall time on a loaded machine; > 1: the long-lived stream costs more
      collectStreamCpuMicrosPerSample_b1000: b1000.cpuMicrosPerSample,
      collectStreamLongLivedOverFreshCpuPerSample_b1000: longOverFresh,
      childRssMiB,
      childPeakRssMiB,
      childPrivateMiB,
      childIdleRssMiB,
      restartAfterKillMs,
      ...topology,
    };
  } finally {
    await remote.shutdown();
  }
}
