/**
 * Benchmark: agent overhead of the containers collector for 100 containers at a 10 s interval,
 * against a synthetic engine and generated cgroup trees (v2 systemd layout and v1 cgroupfs
 * layout). Simulated time advances 10 s per round; the CPU time of each round (process.cpuUsage,
 * which includes the in-process synthetic engine during periodic re-lists) is converted into
 * percent of one core at the 10 s interval.
 *
 * `run()` returns machine-readable figures:
 * - `containers100CpuPercentOfCore`: the worse of the two layouts (goal: <= 1)
 * - `v2CpuPercentOfCore`, `v1CpuPercentOfCore`, `roundMsV2`, `roundMsV1`: details
 * - `rssMiB`: resident set size after the runs (goal: <= 100)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, CollectorContext, SeriesDescriptor, TelemetrySink } from '@sextant/plugin-api';
import { SyntheticEngine } from '../src/bench/synthetic-engine.js';
import { SyntheticHost } from '../src/bench/synthetic-host.js';
import { containersCollectorFactory } from '../src/containers-collector.js';
import { containersDefaults, type ContainersConfig } from '../src/config.js';

const INTERVAL_MS = 10_000;

class ManualClock implements Clock {
  private t = Date.UTC(2026, 0, 1);
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((x) => x !== timer));
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
}

/** A sink that interns series and counts samples, like the runtime's columnar sink. */
class CountingSink implements TelemetrySink {
  private readonly ids = new Map<string, number>();
  samples = 0;
  series(d: SeriesDescriptor): number {
    const key = `${d.metric}|${JSON.stringify(d.resource)}|${JSON.stringify(d.attributes)}`;
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

async function measure(version: 1 | 2, driver: 'cgroupfs' | 'systemd', rounds: number): Promise<{ cpuPercent: number; roundMs: number; samples: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-bench-containers-'));
  const containers = Array.from({ length: 100 }, (_, i) => ({ id: (i + 1).toString(16).padStart(64, 'a'), pid: 10_000 + i, cpuLimitCores: 1, memoryLimitBytes: 2 ** 28 }));
  const host = new SyntheticHost({ dir, version, driver, containers });
  const engine = new SyntheticEngine(join(dir, 'engine.sock'));
  containers.forEach((c, i) => engine.add({ id: c.id, name: `bench-${i}`, image: 'docker.io/library/nginx:1.25', pid: c.pid, ip: `10.1.0.${i + 1}`, exposed: [80], labels: { 'com.docker.compose.service': `s${i % 10}` } }));
  await engine.start();
  const clock = new ManualClock();
  const sink = new CountingSink();
  const status = { state: '' };
  const controller = new AbortController();
  const noop = () => {};
  const ctx: CollectorContext<ContainersConfig> = {
    config: { ...(containersDefaults as ContainersConfig), socket: engine.socketPath, cgroupRoot: host.cgroupRoot, procRoot: host.procRoot },
    instanceId: 'containers/bench',
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    clock,
    status: { set: (state) => void (status.state = state) },
    metrics: { counter: () => ({ add: noop }), gauge: () => ({ set: noop }) },
    signal: controller.signal,
    dataDir: undefined,
    sink,
    hostResource: { 'host.name': 'bench-host' },
    intervalMs: INTERVAL_MS,
  };
  const collector = await containersCollectorFactory.create(ctx);
  await collector.start?.();
  while (status.state !== 'ok') await new Promise((r) => setTimeout(r, 5));
  // Warm-up: first readings, series interning, JIT.
  for (let i = 0; i < 3; i++) {
    host.advance(10);
    clock.advance(INTERVAL_MS);
    await collector.collect!(controller.signal);
  }
  let cpuMicros = 0;
  let wallMs = 0;
  const before = sink.samples;
  for (let i = 0; i < rounds; i++) {
    host.advance(10);
    clock.advance(INTERVAL_MS);
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await collector.collect!(controller.signal);
    wallMs += performance.now() - t0;
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
  }
  const samples = (sink.samples - before) / rounds;
  controller.abort();
  await collector.shutdown();
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
  const cpuPerRoundS = cpuMicros / rounds / 1e6;
  return { cpuPercent: (cpuPerRoundS / (INTERVAL_MS / 1000)) * 100, roundMs: wallMs / rounds, samples };
}

export async function run(): Promise<Record<string, number>> {
  const rounds = Number(process.env.SEXTANT_BENCH_ROUNDS ?? 30);
  const v2 = await measure(2, 'systemd', rounds);
  const v1 = await measure(1, 'cgroupfs', rounds);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    containers100CpuPercentOfCore: round(Math.max(v2.cpuPercent, v1.cpuPercent)),
    v2CpuPercentOfCore: round(v2.cpuPercent),
    v1CpuPercentOfCore: round(v1.cpuPercent),
    roundMsV2: round(v2.roundMs),
    roundMsV1: round(v1.roundMs),
    samplesPerRound: v2.samples,
    rssMiB: round(process.memoryUsage().rss / 2 ** 20),
  };
}
