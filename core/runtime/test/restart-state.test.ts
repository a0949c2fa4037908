/**
 * What a restart (or a SIGKILL) must not lose, and what one bad sender must not break: issue-level
 * behaviour of the runtime's data directory and of its timestamp guard.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  collectorsExtensionPoint,
  correlatorsExtensionPoint,
  createCollectorFactory,
  createCorrelatorFactory,
  createDetectorFactory,
  createPlugin,
  detectorsExtensionPoint,
  type SampleBatch,
} from '@sextant/plugin-api';
import { FakeClock } from '@sextant/testkit';
import { Runtime, validateRuntimeConfig, type RuntimeConfigInput } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sextant-restart-'));
  dirs.push(d);
  return d;
}

function config(input: RuntimeConfigInput) {
  const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { port: 0 }, ...input });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.issues));
  return loaded.config;
}
const quiet = { level: 'silent' as const };

/** Writes one sample per named series per round, in the configured order, at `offset` from now. */
const namedFactory = createCollectorFactory({
  type: 'named',
  stability: 'stable',
  description: 'one sample per named series',
  configSchema: z.object({ names: z.array(z.string()), offsetMs: z.number().default(0) }),
  defaults: { names: ['a'], offsetMs: 0 },
  create(ctx) {
    return {
      collect() {
        for (const [i, name] of ctx.config.names.entries()) {
          const id = ctx.sink.series({ metric: 'test.named', unit: '1', type: 'gauge', resource: { name }, attributes: {} });
          ctx.sink.sample(id, name.charCodeAt(0) + i, ctx.clock.now() + ctx.config.offsetMs);
        }
      },
      shutdown() {},
    };
  },
});

/** A detector whose whole state is "the last value seen per series id", snapshotted as JSON. */
function memoryDetector(seen: Map<number, number>) {
  return createDetectorFactory({
    type: 'memory',
    stability: 'stable',
    description: 'remembers the last value per series',
    configSchema: z.object({}),
    defaults: {},
    create: () => ({
      process(batch: SampleBatch) {
        for (let i = 0; i < batch.length; i++) seen.set(batch.series[i], batch.values[i]);
      },
      snapshot: () => new TextEncoder().encode(JSON.stringify([...seen])),
      restore(state: Uint8Array) {
        for (const [k, v] of JSON.parse(new TextDecoder().decode(state)) as [number, number][]) seen.set(k, v);
      },
      shutdown() {},
    }),
  });
}

/** A correlator that keeps the number of anomalies it saw, snapshotted. */
function countingCorrelator(state: { count: number; restored?: number }) {
  return createCorrelatorFactory({
    type: 'counting',
    stability: 'stable',
    description: 'counts anomalies',
    configSchema: z.object({}),
    defaults: {},
    create: () => ({
      onAnomaly() {
        state.count++;
      },
      snapshot: () => new TextEncoder().encode(String(state.count)),
      restore(bytes: Uint8Array) {
        state.restored = Number(new TextDecoder().decode(bytes));
      },
      shutdown() {},
    }),
  });
}

function builtins(seen: Map<number, number>, corr: { count: number; restored?: number }) {
  return [
    {
      packageName: '@test/state',
      version: '1.0.0',
      plugin: createPlugin({
        pluginId: 'state',
        deps: { collectors: collectorsExtensionPoint, detectors: detectorsExtensionPoint, correlators: correlatorsExtensionPoint },
        register: ({ collectors, detectors, correlators }) => {
          collectors.addFactory(namedFactory);
          detectors.addFactory(memoryDetector(seen));
          correlators.addFactory(countingCorrelator(corr));
        },
      }),
    },
  ];
}

describe('a restart keeps what was learned and what is open', () => {
  it('gives every series its old id back, so restored state belongs to the right series', async () => {
    const dataDir = tempDir();
    const clock = new FakeClock(Date.now());
    const seenA = new Map<number, number>();
    const a = await Runtime.load({
      config: config({ dataDir, collectors: { named: { names: ['x', 'y', 'z'] } }, detectors: { memory: {} }, correlators: { counting: {} } }),
      builtins: builtins(seenA, { count: 7 }),
      clock,
      log: quiet,
      collectImmediately: false,
    });
    await a.start();
    await a.collectNow();
    const idOf = (rt: Runtime, name: string) => rt.registry.find({ metric: 'test.named', match: { name } })[0]?.id;
    const before = { x: idOf(a, 'x'), y: idOf(a, 'y'), z: idOf(a, 'z') };
    a.pipeline.publishIncident({ change: 'opened', sequence: 1, reason: 'test', incident: { id: 'inc-1', title: 'x is odd', status: 'open', impact: 'infrastructure', severity: 'warning', openedAt: clock.now(), updatedAt: clock.now(), entities: [], anomalyIds: [], eventIds: [], causes: [], timeline: [], suppressed: [] } });
    a.pipeline.ingestEvent({ type: 'deploy', title: 'api 1.2', timestamp: clock.now(), resource: { 'service.name': 'api' } }, 'test');
    await a.stop();

    // The second run registers the same series in the opposite order.
    const seenB = new Map<number, number>();
    const corrB = { count: 0 } as { count: number; restored?: number };
    const b = await Runtime.load({
      config: config({ dataDir, collectors: { named: { names: ['z', 'y', 'x'] } }, detectors: { memory: {} }, correlators: { counting: {} } }),
      builtins: builtins(seenB, corrB),
      clock,
      log: quiet,
      collectImmediately: false,
    });
    await b.start();
    expect(b.registry.size).toBe(3);
    expect({ x: idOf(b, 'x'), y: idOf(b, 'y'), z: idOf(b, 'z') }).toEqual(before);
    // The detector's remembered value of "x" is x's value, not that of the series registered first now.
    expect(seenB.get(before.x!)).toBe('x'.charCodeAt(0));
    expect(seenB.get(before.z!)).toBe('z'.charCodeAt(0) + 2);
    expect(corrB.restored).toBe(7);
    expect(b.pipeline.incidents.get('inc-1')).toMatchObject({ status: 'open', title: 'x is odd' });
    expect(b.pipeline.events.query().map((e) => e.title)).toContain('api 1.2');
    await b.stop();
  });

  it('checkpoints on an interval, so a process killed without stop() keeps recent learning', async () => {
    const dataDir = tempDir();
    const clock = new FakeClock(Date.now());
    const seen = new Map<number, number>();
    const rt = await Runtime.load({
      config: config({ dataDir, checkpoint: { interval: '30s' }, collectors: { named: { names: ['x'] } }, detectors: { memory: {} } }),
      builtins: builtins(seen, { count: 0 }),
      clock,
      log: quiet,
      collectImmediately: false,
    });
    await rt.start();
    await rt.collectNow();
    const file = join(dataDir, 'snapshots', 'memory.bin');
    expect(existsSync(file)).toBe(false);
    clock.advance(30_000); // no stop(): what is on disk is what a SIGKILL would leave
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([[0, 'x'.charCodeAt(0)]]);
    expect(readFileSync(join(dataDir, 'snapshots', 'series.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(rt.telemetry.sum('sextant_checkpoints_total')).toBeGreaterThanOrEqual(1);
    await rt.stop();
  });

  it('says so when a saved state is refused instead of claiming it was restored', async () => {
    const dataDir = tempDir();
    const clock = new FakeClock(Date.now());
    const lines: string[] = [];
    const refusing = createDetectorFactory({
      type: 'refusing',
      stability: 'stable',
      description: 'refuses every snapshot',
      configSchema: z.object({}),
      defaults: {},
      create: (ctx) => ({
        process() {},
        snapshot: () => new Uint8Array([1, 2, 3]),
        restore: () => ctx.status.set('degraded', 'snapshot from another version'),
        shutdown() {},
      }),
    });
    const plugin = { packageName: '@test/refusing', version: '1.0.0', plugin: createPlugin({ pluginId: 'refusing', deps: { detectors: detectorsExtensionPoint }, register: ({ detectors }) => detectors.addFactory(refusing) }) };
    const first = await Runtime.load({ config: config({ dataDir, detectors: { refusing: {} } }), builtins: [plugin], clock, log: quiet });
    await first.start();
    await first.stop();
    const second = await Runtime.load({ config: config({ dataDir, detectors: { refusing: {} } }), builtins: [plugin], clock, log: { level: 'info', write: (line: string) => void lines.push(line) } });
    await second.start();
    const text = lines.join('\n');
    expect(text).toMatch(/saved state .* was refused: snapshot from another version/);
    expect(text).not.toMatch(/refusing: restored state/);
    await second.stop();
  });
});

describe('timestamps from the far future', () => {
  it('are refused and counted, and do not block the series for later, correct samples', async () => {
    const clock = new FakeClock(Date.now());
    const future = await Runtime.load({
      config: config({ collectors: { 'named/skewed': { names: ['x'], offsetMs: 3_600_000 }, 'named/ok': { names: ['x'] } } }),
      builtins: builtins(new Map(), { count: 0 }),
      clock,
      log: quiet,
      collectImmediately: false,
    });
    await future.start();
    await future.collectNow();
    clock.advance(10_000);
    await future.collectNow();
    const [series] = future.registry.find({ metric: 'test.named' });
    const points = future.store.read(series.id);
    expect(points.length).toBeGreaterThanOrEqual(2);
    expect(points.every((p) => p.timestamp <= clock.now())).toBe(true);
    expect(future.telemetry.sum('sextant_samples_dropped_total', { reason: 'future_timestamp', source: 'named/skewed' })).toBeGreaterThanOrEqual(2);
    expect(future.telemetry.sum('sextant_samples_dropped_total', { reason: 'out_of_order' })).toBe(0);
    await future.stop();
  });
});
