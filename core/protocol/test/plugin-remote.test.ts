/**
 * The same plugin in-process and as a child process, through the same testkit harnesses: what a
 * user sees (samples, events, topology, statuses, self-metrics, errors) must be identical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type CollectorFactory, type DetectorFactory, type NotifierFactory, type SextantPlugin } from '@sextant/plugin-api';
import { FakeClock, RecordingLogger, startCollector, startDetector, startNotifier, type RecordingSink } from '@sextant/testkit';
import { LocalFactoryRegistry } from '../src/local-registry.js';
import { launchPluginProcess, type RemotePlugin } from '../src/launch.js';
import { eventually, fixture, isAlive } from './plugin-child.helpers.js';

async function registryOf(plugin: SextantPlugin): Promise<LocalFactoryRegistry> {
  const registry = new LocalFactoryRegistry();
  await registry.register(plugin, new RecordingLogger());
  return registry;
}

function comparable(sink: RecordingSink) {
  return { samples: sink.samples, descriptors: sink.descriptors, events: sink.events, topology: sink.topologyUpdates, rejected: sink.rejected };
}

describe('a plugin as a child process', () => {
  let remote: RemotePlugin;
  let remoteRegistry: LocalFactoryRegistry;
  let localRegistry: LocalFactoryRegistry;
  const hostLog = new RecordingLogger();

  beforeAll(async () => {
    const mod = (await import(fixture('example-plugin.mjs'))) as { default: SextantPlugin };
    localRegistry = await registryOf(mod.default);
    remote = await launchPluginProcess({ pluginModule: fixture('example-plugin.mjs'), displayName: 'example', logger: hostLog });
    remoteRegistry = await registryOf(remote.plugin);
  });

  afterAll(async () => {
    await remote?.shutdown();
  });

  it('describes the factories the plugin registers, with stability and a config JSON Schema', () => {
    expect(remote.describe.pluginId).toBe('example');
    expect(remote.describe.protocol).toBe(1);
    const types = remote.describe.factories.map((f) => `${f.kind}/${f.type}`).sort();
    expect(types).toEqual([
      'collector/example-counter',
      'collector/example-crash',
      'collector/example-failing',
      'collector/example-push',
      'correlator/example-correlator',
      'detector/example-threshold',
      'notifier/example-notify',
    ]);
    const counter = remote.describe.factories.find((f) => f.type === 'example-counter')!;
    expect(counter.stability).toBe('alpha');
    expect(counter.defaults).toEqual({ step: 1, slots: 3, label: 'a' });
    expect(counter.configJsonSchema).toMatchObject({ type: 'object', properties: { step: { type: 'number' } } });
    expect([...remoteRegistry.collectors.keys()].sort()).toEqual([...localRegistry.collectors.keys()].sort());
  });

  it('collects the same samples, events and topology in-process and remotely', async () => {
    const run = async (factory: CollectorFactory<unknown>) => {
      const clock = new FakeClock();
      const h = await startCollector(factory, { config: { step: 2.5, slots: 4, label: 'web' }, clock, instanceId: 'example-counter/web' });
      for (let round = 0; round < 5; round++) {
        clock.advance(10_000);
        await h.collect();
      }
      await h.shutdown();
      return { h, out: comparable(h.sink) };
    };
    const local = await run(localRegistry.collectors.get('example-counter')!);
    const child = await run(remoteRegistry.collectors.get('example-counter')!);
    expect(local.out.samples.length).toBe(5 * 5);
    expect(child.out).toEqual(local.out);
    expect(child.out.rejected).toBe(1);
    expect(child.h.metrics.counters.rounds_total).toBe(5);
    expect(child.h.statuses.map((s) => s.state)).toContain('ok');
    expect(child.h.logger.lines.filter((l) => l.message === 'collected').map((l) => l.fields)).toEqual([1, 2, 3, 4, 5].map((round) => ({ round })));
  });

  it('validates configuration in the child and returns its issues with paths', async () => {
    const factory = remoteRegistry.collectors.get('example-counter')!;
    await expect(startCollector(factory, { config: { slots: 0, label: '' } })).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
      message: expect.stringMatching(/example-counter\.slots: .*>=1.*example-counter\.label/s),
    });
  });

  it('carries a coded collect() failure back to the host', async () => {
    const h = await startCollector(remoteRegistry.collectors.get('example-failing')!, { config: { url: 'http://127.0.0.1:9/x' } });
    await expect(h.collect()).rejects.toMatchObject({ code: ErrorCode.CONNECTION_FAILED, hint: 'is the server running?' });
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.CONNECTION_FAILED });
    await h.shutdown();
  });

  it('lets push-style collectors flush on their own', async () => {
    const h = await startCollector(remoteRegistry.collectors.get('example-push')!, { config: { everyMs: 5 } });
    await eventually(() => h.sink.of('example.pushed').length >= 5, 'pushed samples');
    await h.shutdown();
    const values = h.sink.of('example.pushed').map((s) => s.value);
    expect(values.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
  });

  it('runs a detector over the Detect stream; anomalies come back with NaN kept', async () => {
    const run = async (factory: DetectorFactory<unknown>) => {
      const h = await startDetector(factory, { config: { above: 10 } });
      const s = h.catalog.series({ metric: 'queue.length', unit: '1', type: 'gauge', resource: { 'service.name': 'q' }, attributes: {} });
      for (const [i, v] of [5, 50, 7, 70].entries()) h.feed(s, 1000 + i, v);
      return h;
    };
    const local = await run(localRegistry.detectors.get('example-threshold')!);
    const child = await run(remoteRegistry.detectors.get('example-threshold')!);
    await eventually(() => child.anomalies.length === 2, 'two anomalies');
    expect(child.anomalies).toEqual(local.anomalies);
    expect(Number.isNaN(child.anomalies[0].expected)).toBe(true);
    expect(child.anomalies[1].message).toBe('queue.length is 70, above 10');
    await local.shutdown();
    await child.shutdown();
  });

  it('delivers notifications through Notify and returns the outcome', async () => {
    const update = {
      change: 'opened' as const,
      sequence: 1,
      incident: { id: 'i1', title: 't', status: 'open' as const, impact: 'user' as const, severity: 'warning' as const, openedAt: 1, updatedAt: 1, entities: [], anomalyIds: [], eventIds: [], causes: [], timeline: [], suppressed: [] },
    };
    const ok = await startNotifier(remoteRegistry.notifiers.get('example-notify')! as NotifierFactory<unknown>);
    expect(await ok.notifier.deliver({ idempotencyKey: 'i1:1', update, attempt: 1 })).toEqual({ ok: true, detail: 'delivered i1:1' });
    const failing = await startNotifier(remoteRegistry.notifiers.get('example-notify')! as NotifierFactory<unknown>, { config: { fail: true } });
    expect(await failing.notifier.deliver({ idempotencyKey: 'i1:1', update, attempt: 1 })).toEqual({ ok: false, retryable: true, error: 'receiver is down', retryAfterMs: 500 });
    await ok.shutdown();
    await failing.shutdown();
  });

  it('runs a correlator over the Correlate stream; incident updates come back through publish', async () => {
    const factory = remoteRegistry.correlators.get('example-correlator')!;
    const { RecordingSink, RecordingMetrics } = await import('@sextant/testkit');
    const catalog = new RecordingSink(new FakeClock());
    const s = catalog.series({ metric: 'http.errors', unit: '1', type: 'rate', resource: {}, attributes: {} });
    const published: unknown[] = [];
    const statuses: string[] = [];
    const controller = new AbortController();
    const correlator = await factory.create({
      config: {},
      instanceId: 'example-correlator/test',
      logger: new RecordingLogger(),
      clock: new FakeClock(),
      status: { set: (state) => void statuses.push(state) },
      metrics: new RecordingMetrics(),
      signal: controller.signal,
      dataDir: undefined,
      catalog,
      topology: { entity: () => undefined, entities: () => [], edges: () => [], entityOf: () => undefined },
      publish: (update) => void published.push(update),
    });
    await correlator.start?.();
    correlator.onAnomaly({ id: 'a1', seriesId: s, metric: 'http.errors', resource: {}, attributes: {}, detector: 'd', kind: 'spike', timestamp: 5, value: 9, expected: Number.NaN, lower: 0, upper: 1, score: 0.9, severity: 'critical', message: 'spike' });
    await eventually(() => published.length === 1, 'an incident update');
    expect(published[0]).toMatchObject({ change: 'opened', incident: { id: 'inc-1', title: 'http.errors: spike', severity: 'critical', anomalyIds: ['a1'] } });
    controller.abort();
    await correlator.shutdown();
    await correlator.shutdown();
    // After shutdown nothing is sent any more, and nothing throws.
    const late = { id: 'a2', seriesId: s, metric: 'http.errors', resource: {}, attributes: {}, detector: 'd', kind: 'spike' as const, timestamp: 6, value: 9, expected: 0, lower: 0, upper: 1, score: 1, severity: 'critical' as const, message: 'late' };
    expect(() => correlator.onAnomaly(late)).not.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(published).toHaveLength(1);
    expect(statuses).not.toContain('error');
  });

  it('is shut down with its child: no process and no socket directory left', async () => {
    const other = await launchPluginProcess({ pluginModule: fixture('second-plugin.mjs'), displayName: 'second', logger: new RecordingLogger() });
    const { pid, socketPath } = other.status();
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid!)).toBe(true);
    await other.shutdown();
    await other.shutdown();
    expect(isAlive(pid!)).toBe(false);
    const { existsSync } = await import('node:fs');
    expect(existsSync(socketPath!)).toBe(false);
    expect(other.status().state).toBe('stopped');
  });
});
