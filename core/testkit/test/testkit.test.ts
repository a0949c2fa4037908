import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collectorsExtensionPoint, createCollectorFactory, createPlugin } from '@sextant/plugin-api';
import { randomCollectorFactory } from '@sextant/plugin-example-random';
import { FakeClock, startCollector, startTestRuntime } from '../src/index.js';
import { describeCollectorConformance, neverStarted } from '../src/conformance.js';

describe('FakeClock', () => {
  it('runs due timers in time order and only when advanced', () => {
    const clock = new FakeClock(0);
    const order: string[] = [];
    clock.setTimeout(() => order.push('b'), 200);
    clock.setTimeout(() => order.push('a'), 100);
    const cancel = clock.setTimeout(() => order.push('never'), 150);
    cancel();
    clock.advance(99);
    expect(order).toEqual([]);
    clock.advance(200);
    expect(order).toEqual(['a', 'b']);
    expect(clock.now()).toBe(299);
  });
});

describe('startTestRuntime', () => {
  it('runs a plugin in a real runtime with a fake clock: rounds run when the test says so', async () => {
    const clock = new FakeClock();
    const plugin = createPlugin({ pluginId: 'random', deps: { collectors: collectorsExtensionPoint }, register: ({ collectors }) => collectors.addFactory(randomCollectorFactory) });
    const rt = await startTestRuntime({ plugins: [plugin], clock, api: true, config: { collectors: { random: { streams: 2, interval: '10s' } } } });
    expect(rt.values('example.random.value')).toEqual([]);
    await rt.collect();
    clock.advance(10_000);
    await rt.collect();
    expect(rt.values('example.random.value', { stream: 0 })).toHaveLength(2);
    const body = (await (await fetch(`${rt.url}/api/v1/series?metric=example.random.value`)).json()) as { series: unknown[] };
    expect(body.series).toHaveLength(2);
    await rt.stop();
  });
});

describeCollectorConformance(randomCollectorFactory, { config: { streams: 2 }, invalid: { config: { streams: -1 }, path: 'random.streams' } });

describe('conformance: shutdown without start()', () => {
  /** A collector that breaks the lifecycle rule: its shutdown() needs a prior start(). */
  const calls: string[] = [];
  const fragile = createCollectorFactory({
    type: 'fragile',
    stability: 'development',
    description: 'Throws on shutdown when it was never started',
    configSchema: z.object({}),
    defaults: {},
    create: () => {
      let started = false;
      return {
        start() {
          calls.push('start');
          started = true;
        },
        collect() {},
        shutdown() {
          calls.push('shutdown');
          if (!started) throw new Error('shutdown before start');
        },
      };
    },
  });

  it('really shuts down a component that was never started, so a fragile shutdown() is caught', async () => {
    calls.length = 0;
    const h = await startCollector(neverStarted(fragile), { config: {} });
    await expect(h.shutdown()).rejects.toThrow('shutdown before start');
    expect(calls).toEqual(['shutdown']);
  });

  it('the same component shuts down cleanly after start(), so the failure above comes from the skipped start()', async () => {
    calls.length = 0;
    const h = await startCollector(fragile, { config: {} });
    await h.shutdown();
    expect(calls).toEqual(['start', 'shutdown']);
  });
});
