/**
 * Benchmark of one collect() round on this machine's real /proc and /sys, for tools/bench.
 * Figures: `hostCollectMsPerRound` (mean wall time), `hostSamplesPerRound`, and
 * `hostHeapBytesPerRound` (heap growth per round between two forced GCs when --expose-gc is on,
 * otherwise NaN).
 */
import type { CollectorContext, SeriesDescriptor, TelemetrySink } from '@sextant/plugin-api';
import { hostCollectorDefaults, type HostCollectorConfig } from '../src/config.js';
import { HostCollector } from '../src/host-collector.js';

/** A sink that interns series and counts samples, like the runtime's without the pipeline. */
class CountingSink implements TelemetrySink {
  private readonly ids = new Map<string, number>();
  samples = 0;
  series(d: SeriesDescriptor): number {
    const key = `${d.metric}|${JSON.stringify(d.attributes)}`;
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    return id;
  }
  sample(): void {
    this.samples++;
  }
  event(): void {}
  topology(): void {}
  flush(): void {}
}

export async function run(rounds = 200): Promise<Record<string, number>> {
  const sink = new CountingSink();
  const noop = () => {};
  let now = Date.now();
  const ctx: CollectorContext<HostCollectorConfig> = {
    config: hostCollectorDefaults,
    instanceId: 'host/bench',
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    clock: { now: () => now, setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
    status: { set: noop },
    metrics: { counter: () => ({ add: noop }), gauge: () => ({ set: noop }) },
    signal: new AbortController().signal,
    dataDir: undefined,
    sink,
    hostResource: { 'host.name': 'bench' },
    intervalMs: 10_000,
  };
  const collector = new HostCollector(ctx);
  collector.start();
  const signal = new AbortController().signal;
  // Warm up: first rounds intern series and JIT-compile the parsers.
  for (let i = 0; i < 20; i++) {
    now += 10_000;
    await collector.collect(signal);
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const samplesBefore = sink.samples;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    now += 10_000;
    await collector.collect(signal);
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  collector.shutdown();
  return {
    hostCollectMsPerRound: elapsedMs / rounds,
    hostSamplesPerRound: (sink.samples - samplesBefore) / rounds,
    hostHeapBytesPerRound: gc ? (heapAfter - heapBefore) / rounds : Number.NaN,
  };
}
