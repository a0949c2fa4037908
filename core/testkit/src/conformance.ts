/**
 * Conformance suites: the lifecycle and data rules every component of an extension point must
 * follow, as vitest tests a plugin runs in one line:
 *
 * ```ts
 * import { describeCollectorConformance } from '@sextant/testkit/conformance';
 * describeCollectorConformance(nginxCollectorFactory, { config: { url } });
 * ```
 *
 * Each suite checks the factory's metadata, that its defaults plus the given config validate, that
 * an invalid config is refused with a path, that `shutdown()` is safe without `start()` and twice,
 * that `start()` returns promptly, the extension point's own rules (collectors write finite values
 * with well-formed descriptors, detectors keep scores in [0,1], notifiers never throw) and that the
 * component loads and runs in a real runtime through a plugin.
 */
import { describe, expect, it } from 'vitest';
import {
  STABILITY_LEVELS,
  collectorsExtensionPoint,
  createPlugin,
  detectorsExtensionPoint,
  isKebabId,
  notifiersExtensionPoint,
  type CollectorFactory,
  type ComponentFactory,
  type Component,
  type DetectorFactory,
  type IncidentUpdate,
  type NotifierFactory,
} from '@sextant/plugin-api';
import { resolveConfig, startCollector, startDetector, startNotifier } from './harness.js';
import { startTestRuntime } from './test-runtime.js';

export interface ConformanceOptions {
  /** Configuration that makes the component work in this test environment. */
  readonly config?: Record<string, unknown>;
  /** A configuration the schema must refuse, and the path it must name (e.g. `nginx.url`). */
  readonly invalid?: { readonly config: Record<string, unknown>; readonly path: string };
  /** Longest acceptable start(); default 5 s. */
  readonly startTimeoutMs?: number;
}

const METRIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

function describeFactory(factory: ComponentFactory<unknown, never, Component>, options: ConformanceOptions): void {
  it('declares a kebab-case type, a known stability level and a description', () => {
    expect(isKebabId(factory.type), `type "${factory.type}"`).toBe(true);
    expect(STABILITY_LEVELS).toContain(factory.stability);
    expect(factory.description.length).toBeGreaterThan(10);
  });
  it('accepts its defaults merged with the test config', async () => {
    await expect(resolveConfig(factory as never, options.config ?? {})).resolves.toBeDefined();
  });
  if (options.invalid) {
    const invalid = options.invalid;
    it(`refuses an invalid config and names ${invalid.path}`, async () => {
      await expect(resolveConfig(factory as never, invalid.config)).rejects.toThrow(invalid.path);
    });
  }
}

/**
 * The same factory, but its components hide `start()`, so a harness that calls `start?.()` skips
 * it: the conformance check "safe to shut down without start()" then really shuts down a component
 * that was created and never started (the OpenTelemetry Collector's lifecycle rule). Methods are
 * bound to the real component, so private fields and `this` keep working.
 */
export function neverStarted<F extends { create(ctx: never): Promise<object> | object }>(factory: F): F {
  return {
    ...factory,
    create: async (ctx: never) => {
      const component = await factory.create(ctx);
      return new Proxy(component, {
        get(target, key) {
          if (key === 'start') return undefined;
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  } as F;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function describeCollectorConformance<T>(factory: CollectorFactory<T>, options: ConformanceOptions = {}): void {
  describe(`collector conformance: ${factory.type}`, () => {
    describeFactory(factory as never, options);
    it('is safe to shut down without start() and twice', async () => {
      const h = await startCollector(neverStarted(factory), { config: options.config ?? {} });
      await h.shutdown();
      await h.shutdown();
      expect(h.statuses.filter((s) => s.state === 'error'), 'shutdown without start() reports no error').toEqual([]);
    });
    it('starts promptly, writes finite values with well-formed series, and stops', async () => {
      const h = await within(startCollector(factory, { config: options.config ?? {} }), options.startTimeoutMs ?? 5000, 'start()');
      await h.collect();
      await h.collect();
      for (const d of h.sink.descriptors) {
        expect(d.metric, 'metric names are dotted lower-case').toMatch(METRIC_NAME);
        expect(d.unit.length, `${d.metric} has a unit`).toBeGreaterThan(0);
        expect(['gauge', 'counter', 'rate']).toContain(d.type);
        for (const v of [...Object.values(d.resource), ...Object.values(d.attributes)]) expect(['string', 'number', 'boolean']).toContain(typeof v);
      }
      for (const s of h.sink.samples) expect(Number.isFinite(s.value), `${s.metric} value ${s.value}`).toBe(true);
      await h.shutdown();
    });
    it('loads through a plugin into a real runtime and reports ok', async () => {
      const plugin = createPlugin({ pluginId: 'conformance', deps: { collectors: collectorsExtensionPoint }, register: ({ collectors }) => collectors.addFactory(factory) });
      const rt = await startTestRuntime({ plugins: [plugin], config: { collectors: { [`${factory.type}/conformance`]: options.config ?? {} } } });
      try {
        expect(rt.problems).toEqual([]);
        await rt.collect();
        const status = rt.runtime.statuses()[0];
        expect(['ok', 'degraded']).toContain(status.state);
      } finally {
        await rt.stop();
      }
    });
  });
}

export function describeDetectorConformance<T>(factory: DetectorFactory<T>, options: ConformanceOptions = {}): void {
  describe(`detector conformance: ${factory.type}`, () => {
    describeFactory(factory as never, options);
    it('is safe to shut down without start() and twice', async () => {
      const h = await startDetector(neverStarted(factory), { config: options.config ?? {} });
      await h.shutdown();
      await h.shutdown();
      expect(h.statuses.filter((s) => s.state === 'error'), 'shutdown without start() reports no error').toEqual([]);
    });
    it('survives NaN, Infinity, duplicates and out-of-order input and keeps scores in [0, 1]', async () => {
      const h = await startDetector(factory, { config: options.config ?? {} });
      const id = h.catalog.series({ metric: 'conformance.value', unit: '1', type: 'gauge', resource: { 'host.name': 'c' }, attributes: {} });
      const t0 = Date.UTC(2026, 0, 1);
      for (let i = 0; i < 3000; i++) h.feed(id, t0 + i * 60_000, 50 + 10 * Math.sin(i / 30) + (i === 2500 ? 500 : 0));
      h.feed(id, t0, Number.NaN);
      h.feed(id, t0 + 1, Number.POSITIVE_INFINITY);
      h.feed(id, t0 + 2999 * 60_000, 50);
      h.feed(id, t0 + 10, 50);
      for (const a of h.anomalies) {
        expect(a.score).toBeGreaterThanOrEqual(0);
        expect(a.score).toBeLessThanOrEqual(1);
        expect(a.message.length).toBeGreaterThan(0);
      }
      await h.shutdown();
    });
    it('has snapshot() and restore() both or neither, and they carry learned state into a fresh instance', async () => {
      const h = await startDetector(factory, { config: options.config ?? {} });
      expect(typeof h.detector.snapshot, 'snapshot() without restore() or the reverse loses state on restart').toBe(typeof h.detector.restore);
      if (!h.detector.snapshot || !h.detector.restore) {
        await h.shutdown();
        return;
      }
      const id = h.catalog.series({ metric: 'conformance.value', unit: '1', type: 'gauge', resource: { 'host.name': 'c' }, attributes: {} });
      const t0 = Date.UTC(2026, 0, 1);
      for (let i = 0; i < 500; i++) h.feed(id, t0 + i * 60_000, 50 + 10 * Math.sin(i / 30));
      const state = h.detector.snapshot();
      await h.shutdown();
      const fresh = await startDetector(factory, { config: options.config ?? {} });
      fresh.catalog.series({ metric: 'conformance.value', unit: '1', type: 'gauge', resource: { 'host.name': 'c' }, attributes: {} });
      fresh.detector.restore!(state);
      expect(fresh.detector.snapshot!(), 'a fresh instance restored from a snapshot snapshots the same state').toEqual(state);
      await fresh.shutdown();
    });
    it('loads through a plugin into a real runtime and reports ok', async () => {
      const plugin = createPlugin({ pluginId: 'conformance', deps: { detectors: detectorsExtensionPoint }, register: ({ detectors }) => detectors.addFactory(factory) });
      const rt = await startTestRuntime({ plugins: [plugin], config: { detectors: { [`${factory.type}/conformance`]: options.config ?? {} } } });
      try {
        expect(rt.problems).toEqual([]);
        expect(rt.runtime.statuses()[0].state).toBe('ok');
      } finally {
        await rt.stop();
      }
    });
  });
}

/** A realistic incident update for notifier tests. */
export function sampleIncidentUpdate(overrides: Partial<IncidentUpdate['incident']> = {}, change: IncidentUpdate['change'] = 'opened', sequence = 1): IncidentUpdate {
  const now = Date.UTC(2026, 10, 24, 12, 0, 0);
  return {
    change,
    sequence,
    incident: {
      id: 'inc-test-1',
      title: 'checkout latency p90 rose 8x after deploy of payments 2.4.1',
      status: change === 'resolved' ? 'resolved' : 'open',
      impact: 'business',
      severity: 'critical',
      openedAt: now,
      updatedAt: now + sequence * 60_000,
      ...(change === 'resolved' ? { resolvedAt: now + sequence * 60_000 } : {}),
      entities: ['service:checkout', 'service:payments'],
      anomalyIds: ['anm-1', 'anm-2'],
      eventIds: ['evt-1'],
      causes: [{ entity: 'service:payments', score: 0.82, summary: 'payments was deployed 2 minutes before the first anomaly', evidence: ['deploy payments 2.4.0 -> 2.4.1 at 11:58', 'payments latency rose first'] }],
      timeline: [{ timestamp: now, kind: 'anomaly', message: 'checkout latency p90 8x above normal' }],
      suppressed: [],
      ...overrides,
    },
  };
}

export function describeNotifierConformance<T>(factory: NotifierFactory<T>, options: ConformanceOptions = {}): void {
  describe(`notifier conformance: ${factory.type}`, () => {
    describeFactory(factory as never, options);
    it('is safe to shut down without start() and twice', async () => {
      const h = await startNotifier(neverStarted(factory), { config: options.config ?? {} });
      await h.shutdown();
      await h.shutdown();
      expect(h.statuses.filter((s) => s.state === 'error'), 'shutdown without start() reports no error').toEqual([]);
    });
    it('returns an outcome for every delivery and never throws', async () => {
      const h = await startNotifier(factory, { config: options.config ?? {} });
      const outcome = await h.notifier.deliver({ idempotencyKey: 'inc-test-1:1', update: sampleIncidentUpdate(), attempt: 1 });
      expect(typeof outcome.ok).toBe('boolean');
      if (!outcome.ok) expect(typeof outcome.retryable).toBe('boolean');
      await h.shutdown();
    });
    it('loads through a plugin into a real runtime', async () => {
      const plugin = createPlugin({ pluginId: 'conformance', deps: { notifiers: notifiersExtensionPoint }, register: ({ notifiers }) => notifiers.addFactory(factory) });
      const rt = await startTestRuntime({ plugins: [plugin], config: { notifiers: { [`${factory.type}/conformance`]: options.config ?? {} } } });
      try {
        expect(rt.problems).toEqual([]);
      } finally {
        await rt.stop();
      }
    });
  });
}
