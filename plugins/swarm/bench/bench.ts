/**
 * Benchmark: one poll of a large swarm — 2,000 services, 10,000 running tasks, 50 nodes — served
 * by the recorded-shape stand-in manager in a child process (so its CPU is not counted here).
 * Each poll reads /info, /nodes, /services and /tasks (~17 MB of JSON), builds the snapshot,
 * writes ~26,000 samples, diffs the topology and tracks task failures.
 *
 * `run()` returns machine-readable figures:
 * - `swarmPollCpuMs`: CPU time (user + system) of the agent process per poll, steady state
 * - `swarmPollWallMs`: wall time per poll
 * - `swarmCpuPercentOfCoreAt10s`: `swarmPollCpuMs` as percent of one core at a 10 s interval
 * - `swarmFirstPollMs`: the first poll (every series and topology entity is new)
 * - `swarmHeapMiB`: heap in use after the polls, `swarmRssMiB`: resident set size
 * - `swarmResponseMiB`: bytes of the three list answers, `swarmSeries`, `swarmSamplesPerPoll`
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CollectorContext, SeriesDescriptor, TelemetrySink, TopologyUpdate } from '@sextant/plugin-api';
import { swarmDefaults, type SwarmConfig } from '../src/config.js';
import { SwarmCollector } from '../src/swarm-collector.js';

const SHAPE = { nodes: 50, services: 2_000, tasksPerService: 5 };
const POLLS = 10;

/** Interns series and counts samples, like the runtime's columnar sink. */
class CountingSink implements TelemetrySink {
  private readonly ids = new Map<string, number>();
  samples = 0;
  entities = 0;
  series(d: SeriesDescriptor): number {
    const key = `${d.metric}|${JSON.stringify(d.resource)}|${JSON.stringify(d.attributes)}`;
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    return id;
  }
  get size(): number {
    return this.ids.size;
  }
  sample(): void {
    this.samples++;
  }
  event(): void {}
  topology(u: TopologyUpdate): void {
    this.entities += u.upsertEntities?.length ?? 0;
  }
  flush(): void {}
}

const counter = { add: () => {} };
const gauge = { set: () => {} };

export async function run(): Promise<Record<string, number>> {
  const server = fork(fileURLToPath(new URL('../src/bench/recorded-swarm-server.js', import.meta.url)), [JSON.stringify(SHAPE)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise<{ socketPath: string; bodyBytes: number }>((resolve, reject) => {
      server.stdout!.once('data', (b: Buffer) => resolve(JSON.parse(b.toString('utf8')) as { socketPath: string; bodyBytes: number }));
      server.once('exit', (code) => reject(new Error(`stand-in engine exited with ${code}`)));
    });
    const sink = new CountingSink();
    const controller = new AbortController();
    const ctx: CollectorContext<SwarmConfig> = {
      config: { ...(swarmDefaults as SwarmConfig), socket: ready.socketPath, requestTimeout: 60_000 },
      instanceId: 'swarm/bench',
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      clock: { now: () => Date.now(), setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
      status: { set() {} },
      metrics: { counter: () => counter, gauge: () => gauge },
      signal: controller.signal,
      dataDir: undefined,
      sink,
      hostResource: { 'host.name': 'bench' },
      intervalMs: 10_000,
    };
    const collector = new SwarmCollector(ctx);
    collector.start();
    let t = performance.now();
    await collector.collect(controller.signal);
    const firstPollMs = performance.now() - t;
    if (collector.swarmRole !== 'leader') throw new Error(`stand-in did not make the collector the leader (${collector.swarmRole})`);
    const samplesBefore = sink.samples;
    const cpu0 = process.cpuUsage();
    t = performance.now();
    for (let i = 0; i < POLLS; i++) await collector.collect(controller.signal);
    const wall = (performance.now() - t) / POLLS;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000 / POLLS;
    const mem = process.memoryUsage();
    await collector.shutdown();
    const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
    return {
      swarmPollCpuMs: round(cpuMs),
      swarmPollWallMs: round(wall),
      swarmCpuPercentOfCoreAt10s: round((cpuMs / 10_000) * 100, 2),
      swarmFirstPollMs: round(firstPollMs),
      swarmHeapMiB: round(mem.heapUsed / 2 ** 20),
      swarmRssMiB: round(mem.rss / 2 ** 20),
      swarmResponseMiB: round(ready.bodyBytes / 2 ** 20),
      swarmSeries: sink.size,
      swarmSamplesPerPoll: Math.round((sink.samples - samplesBefore) / POLLS),
      swarmTopologyEntities: sink.entities,
    };
  } finally {
    server.kill('SIGTERM');
  }
}

// `node dist-bench/bench/bench.js` prints the figures.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
