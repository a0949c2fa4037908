/**
 * The collector scheduling contract (plugin-api `Collector.collect`): never two collect() calls
 * on one instance at once, also when a round times out and the collector ignores its abort
 * signal, and also when `collectNow()` is asked for while a scheduled round runs. Time is a
 * FakeClock, so nothing here depends on how fast the machine is.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collectorsExtensionPoint, createCollectorFactory, createPlugin } from '@sextant/plugin-api';
import { FakeClock } from '@sextant/testkit';
import { Runtime, validateRuntimeConfig, type RuntimeConfigInput } from '../src/index.js';

function config(input: RuntimeConfigInput) {
  const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { port: 0 }, ...input });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.issues));
  return loaded.config;
}

/**
 * A collector whose rounds end only when the test says so, and that ignores the abort signal
 * (the worst case the runtime must survive). Records how many calls ran at once.
 */
function controllableCollector() {
  const probe = { calls: 0, running: 0, maxRunning: 0, finish: [] as (() => void)[] };
  const factory = createCollectorFactory({
    type: 'manual',
    stability: 'alpha',
    description: 'collect() returns when the test releases it; ignores the abort signal',
    configSchema: z.object({}),
    defaults: {},
    create: (ctx) => ({
      collect: () => {
        probe.calls++;
        probe.running++;
        probe.maxRunning = Math.max(probe.maxRunning, probe.running);
        return new Promise<void>((resolve) => {
          probe.finish.push(() => {
            probe.running--;
            const id = ctx.sink.series({ metric: 'manual.value', unit: '1', type: 'gauge', resource: ctx.hostResource, attributes: {} });
            ctx.sink.sample(id, probe.calls, ctx.clock.now());
            ctx.metrics.gauge('manual_rounds', 'Rounds finished').set(probe.calls);
            resolve();
          });
        });
      },
      shutdown() {},
    }),
  });
  const builtin = {
    packageName: '@test/manual',
    version: '1.0.0',
    plugin: createPlugin({ pluginId: 'manual', deps: { collectors: collectorsExtensionPoint }, register: ({ collectors }) => collectors.addFactory(factory) }),
  };
  return { probe, builtin };
}

/** Lets pending promise callbacks run (no time passes on the fake clock). */
const settle = () => new Promise((r) => setImmediate(r));

async function startManual(collectImmediately = true) {
  const clock = new FakeClock();
  const { probe, builtin } = controllableCollector();
  const rt = await Runtime.load({
    config: config({ collectors: { manual: { interval: '1s' } } }),
    builtins: [builtin],
    log: { level: 'silent' },
    clock,
    collectImmediately,
  });
  await rt.start();
  await settle();
  return { rt, clock, probe, status: () => rt.statuses().find((s) => s.id === 'manual')! };
}

describe('collector scheduling', () => {
  it('never starts a second collect() while a timed-out one that ignores its abort signal still runs; counts skipped rounds and says it is stuck', async () => {
    const { rt, clock, probe, status } = await startManual();
    expect(probe.calls).toBe(1);
    // The round times out at 1 s; the collector ignores the abort and keeps running.
    await clock.advanceAsync(1000);
    expect(status()).toMatchObject({ state: 'degraded', failures: 1, code: 'SEXTANT_ERR_COLLECT_FAILED' });
    expect(status().message).toContain('manual: collect() took longer than the 1000 ms interval');
    // Three more intervals pass: every due round is skipped, none overlaps the stuck call.
    await clock.advanceAsync(3000);
    expect(probe.calls).toBe(1);
    expect(probe.maxRunning).toBe(1);
    expect(status().state).toBe('degraded');
    expect(status().message).toMatch(/stuck/);
    expect(status().skippedRounds).toBeGreaterThanOrEqual(2);
    expect(rt.telemetry.sum('sextant_collect_rounds_skipped_total', { instance: 'manual' })).toBe(status().skippedRounds);
    // The stuck call finally returns: the next due round runs again, alone, and recovers.
    probe.finish.shift()!();
    await settle();
    await clock.advanceAsync(1000);
    expect(probe.calls).toBe(2);
    probe.finish.shift()!();
    await settle();
    expect(probe.maxRunning).toBe(1);
    expect(status()).toMatchObject({ state: 'ok', collections: 1 });
    await rt.stop();
  });

  it('collectNow() joins a round that is in flight instead of calling collect() again', async () => {
    const { rt, probe, status } = await startManual();
    expect(probe.calls).toBe(1);
    let joined = false;
    const now = rt.collectNow().then(() => (joined = true));
    await settle();
    expect(probe.calls).toBe(1);
    expect(probe.maxRunning).toBe(1);
    expect(joined).toBe(false);
    probe.finish.shift()!();
    await now;
    expect(status().collections).toBe(1);
    // The data of the joined round reached the store before collectNow() returned.
    expect(rt.registry.find({ metric: 'manual.value' })).toHaveLength(1);
    await rt.stop();
  });

  it('a scheduled round that falls due during collectNow() waits for it instead of overlapping', async () => {
    const { rt, clock, probe, status } = await startManual(false);
    await clock.advanceAsync(500);
    expect(probe.calls).toBe(0);
    const now = rt.collectNow(); // at 0.5 s; the first scheduled round is due at 1 s
    await settle();
    expect(probe.calls).toBe(1);
    await clock.advanceAsync(500); // the scheduled round falls due while collectNow()'s round runs
    expect(probe.calls).toBe(1);
    probe.finish.shift()!();
    await now;
    await settle();
    expect(probe.maxRunning).toBe(1);
    expect(status()).toMatchObject({ state: 'ok', collections: 1, failures: 0 });
    // The schedule goes on after the joined round.
    await clock.advanceAsync(1000);
    expect(probe.calls).toBe(2);
    probe.finish.shift()!();
    await settle();
    expect(status().collections).toBe(2);
    await rt.stop();
  });
});

describe('per-instance metrics', () => {
  it('removing an instance removes its series from /metrics, also when its last call returns late', async () => {
    const { rt, clock, probe } = await startManual();
    probe.finish.shift()!();
    await settle();
    await clock.advanceAsync(1000); // the second round starts and is still running at removal
    expect(probe.calls).toBe(2);
    const before = await rt.telemetry.renderPrometheus();
    expect(before).toMatch(/sextant_plugin_status\{instance="manual"/);
    expect(before).toMatch(/sextant_plugin_manual_rounds\{instance="manual"/);
    await rt.removeInstance('manual');
    expect(await rt.telemetry.renderPrometheus()).not.toMatch(/instance="manual"/);
    probe.finish.shift()!(); // ignores the abort, returns after the removal and writes a gauge
    await settle();
    expect(await rt.telemetry.renderPrometheus()).not.toMatch(/instance="manual"/);
    expect(rt.statuses().find((s) => s.id === 'manual')).toBeUndefined();
    await rt.stop();
  });
});
