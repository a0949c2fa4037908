/**
 * Source templates of the one working component a scaffolded plugin starts with, per extension
 * kind, and its test. Placeholders: __ID__ (plugin id and factory type), __MODULE__ (source file name), __CAMEL__, __PASCAL__,
 * __METRIC__ (metric prefix), __PKG__ (package name). Generated code avoids template literals so
 * these strings stay plain.
 *
 * Each component is small but real: it follows the lifecycle rules (start returns at once,
 * shutdown idempotent), reports bad input through a counter instead of throwing, and its test
 * runs the testkit's conformance suite plus the plugin inside a real runtime.
 */
import type { ExtensionKind } from '@sextant/plugin-api';

export interface ComponentTemplate {
  /** File name under src/, without extension: `__MODULE__`. */
  readonly module: string;
  /** Exported factory identifier. */
  readonly factory: string;
  /** The extension point ref and its deps key in createPlugin. */
  readonly ref: string;
  readonly depsKey: string;
  readonly source: string;
  readonly test: string;
  /** One line for the README: what the example component does. */
  readonly summary: string;
  /** Example instance config for the README (YAML lines under the section). */
  readonly exampleConfig: string;
}

const collector: ComponentTemplate = {
  module: '__MODULE__',
  factory: '__CAMEL__CollectorFactory',
  ref: 'collectorsExtensionPoint',
  depsKey: 'collectors',
  summary: "a collector that reports the host's load average and free-memory ratio",
  exampleConfig: 'collectors:\n  __ID__:\n    windows: [1m, 5m]\n    interval: 10s',
  source: `import { freemem, loadavg, totalmem } from 'node:os';
import { z } from 'zod';
import { createCollectorFactory, type SeriesId } from '@sextant/plugin-api';

/**
 * Configuration of one __ID__ collector instance. Every field has a default (see \`defaults\`), so
 * \`collectors: { '__ID__': {} }\` works as it is.
 */
export const __CAMEL__ConfigSchema = z.object({
  /** Load-average windows to report. */
  windows: z.array(z.enum(['1m', '5m', '15m'])).min(1),
  /** \`service.name\` resource attribute of the series. */
  serviceName: z.string().min(1),
});
export type __PASCAL__Config = z.infer<typeof __CAMEL__ConfigSchema>;

const WINDOW_INDEX = { '1m': 0, '5m': 1, '15m': 2 } as const;

/**
 * Reports the host's load average and free-memory ratio. Replace the body of collect() with what
 * your plugin measures; keep the shape: series interned once, one sample() per value per round.
 *
 * Metrics:
 * - __METRIC__.load_average {window}: run-queue length averaged over the window (unit 1, gauge)
 * - __METRIC__.memory.free_ratio: free / total memory, 0..1 (unit 1, gauge)
 * Self-metrics: rejected_values_total (values that were not finite and were dropped).
 */
export const __CAMEL__CollectorFactory = createCollectorFactory<__PASCAL__Config>({
  type: '__ID__',
  stability: 'development',
  description: "Reports the host's load average and free-memory ratio.",
  configSchema: __CAMEL__ConfigSchema,
  defaults: { windows: ['1m', '5m', '15m'], serviceName: '__ID__' },
  create(ctx) {
    const resource = { ...ctx.hostResource, 'service.name': ctx.config.serviceName };
    const rejected = ctx.metrics.counter('rejected_values_total', 'Values that were not finite numbers and were dropped');
    let loadIds: SeriesId[] | undefined;
    let freeId: SeriesId | undefined;
    const write = (id: SeriesId, value: number) => {
      if (Number.isFinite(value)) ctx.sink.sample(id, value);
      else rejected.add(1);
    };
    return {
      collect() {
        loadIds ??= ctx.config.windows.map((window) =>
          ctx.sink.series({ metric: '__METRIC__.load_average', unit: '1', type: 'gauge', description: 'Run-queue length averaged over the window', resource, attributes: { window } }),
        );
        freeId ??= ctx.sink.series({ metric: '__METRIC__.memory.free_ratio', unit: '1', type: 'gauge', kind: 'utilization', description: 'Free memory as a fraction of total memory', resource, attributes: {} });
        const load = loadavg();
        ctx.config.windows.forEach((window, i) => write(loadIds![i], load[WINDOW_INDEX[window]]));
        const total = totalmem();
        write(freeId, total > 0 ? freemem() / total : Number.NaN);
        ctx.status.set('ok');
      },
      shutdown() {},
    };
  },
});
`,
  test: `import { describe, expect, it } from 'vitest';
import { startCollector, startTestRuntime } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import plugin from '../src/plugin.js';
import { __CAMEL__CollectorFactory } from '../src/__MODULE__.js';

describeCollectorConformance(__CAMEL__CollectorFactory, {
  config: {},
  invalid: { config: { windows: ['2m'] }, path: '__ID__.windows' },
});

describe('__ID__ collector', () => {
  it('reports one load-average series per configured window and a free-memory ratio in [0, 1]', async () => {
    const h = await startCollector(__CAMEL__CollectorFactory, { config: { windows: ['1m', '15m'] } });
    await h.collect();
    const load = h.sink.samples.filter((s) => s.metric === '__METRIC__.load_average');
    expect(load.map((s) => s.attributes.window).sort()).toEqual(['15m', '1m']);
    const free = h.sink.samples.find((s) => s.metric === '__METRIC__.memory.free_ratio');
    expect(free?.value).toBeGreaterThan(0);
    expect(free?.value).toBeLessThanOrEqual(1);
    await h.shutdown();
  });
});

describe('__PKG__ in a real runtime', () => {
  it('loads the plugin, runs a collection round and stores the values', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], config: { collectors: { '__ID__': { windows: ['5m'] } } } });
    try {
      expect(rt.problems).toEqual([]);
      await rt.collect();
      expect(rt.values('__METRIC__.load_average', { window: '5m' })).toHaveLength(1);
      expect(rt.runtime.statuses()[0].state).toBe('ok');
    } finally {
      await rt.stop();
    }
  });
});
`,
};

const detector: ComponentTemplate = {
  module: '__MODULE__',
  factory: '__CAMEL__DetectorFactory',
  ref: 'detectorsExtensionPoint',
  depsKey: 'detectors',
  summary: 'a detector that raises one anomaly each time a metric crosses a fixed limit',
  exampleConfig: 'detectors:\n  __ID__:\n    metric: system.cpu.utilization\n    above: 0.9',
  source: `import { z } from 'zod';
import { createDetectorFactory } from '@sextant/plugin-api';

/** Configuration of one __ID__ detector instance. */
export const __CAMEL__ConfigSchema = z
  .object({
    /** Metric name to watch (every series of it is watched separately). */
    metric: z.string().min(1),
    /** Raise an anomaly when a value goes above this limit. */
    above: z.number().finite().optional(),
    /** Raise an anomaly when a value goes below this limit. */
    below: z.number().finite().optional(),
    severity: z.enum(['info', 'warning', 'critical']),
  })
  .refine((c) => c.above !== undefined || c.below !== undefined, { message: 'set "above", "below" or both', path: ['above'] });
export type __PASCAL__Config = z.infer<typeof __CAMEL__ConfigSchema>;

const UNKNOWN = 0;
const WATCHED = 1;
const IGNORED = 2;

/**
 * Raises one anomaly each time a series of \`metric\` crosses a limit (not one per sample while it
 * stays beyond). Score: how far beyond the limit, relative to the limit, capped at 1.
 *
 * Per-series state lives in typed arrays indexed by series id: no object or Map lookup per sample.
 * Self-metrics: rejected_values_total (NaN/Infinity samples ignored).
 */
export const __CAMEL__DetectorFactory = createDetectorFactory<__PASCAL__Config>({
  type: '__ID__',
  stability: 'development',
  description: 'Raises an anomaly when a metric crosses a fixed upper or lower limit.',
  configSchema: __CAMEL__ConfigSchema,
  defaults: { severity: 'warning' },
  create(ctx) {
    const { metric, above, below, severity } = ctx.config;
    const rejected = ctx.metrics.counter('rejected_values_total', 'Samples that were not finite numbers and were ignored');
    let watch = new Uint8Array(1024);
    let beyond = new Uint8Array(1024);
    const grow = (id: number) => {
      const size = Math.max(id + 1, watch.length * 2);
      const w = new Uint8Array(size);
      w.set(watch);
      const b = new Uint8Array(size);
      b.set(beyond);
      watch = w;
      beyond = b;
    };
    return {
      process(batch) {
        for (let i = 0; i < batch.length; i++) {
          const id = batch.series[i];
          if (id >= watch.length) grow(id);
          if (watch[id] === UNKNOWN) watch[id] = ctx.catalog.describe(id)?.metric === metric ? WATCHED : IGNORED;
          if (watch[id] !== WATCHED) continue;
          const value = batch.values[i];
          if (!Number.isFinite(value)) {
            rejected.add(1);
            continue;
          }
          const over = above !== undefined && value > above;
          const under = below !== undefined && value < below;
          if (!over && !under) {
            beyond[id] = 0;
            continue;
          }
          if (beyond[id] === 1) continue;
          beyond[id] = 1;
          const limit = (over ? above : below) as number;
          ctx.emit({
            seriesId: id,
            detector: '__ID__',
            kind: 'threshold',
            timestamp: batch.timestamps[i],
            value,
            expected: Number.NaN,
            lower: below ?? Number.NaN,
            upper: above ?? Number.NaN,
            score: Math.min(1, Math.abs(value - limit) / Math.max(Math.abs(limit), 1e-9)),
            severity,
            message: metric + ' is ' + value + (over ? ', above the limit of ' : ', below the limit of ') + limit,
          });
        }
      },
      shutdown() {},
    };
  },
});
`,
  test: `import { describe, expect, it } from 'vitest';
import { startDetector, startTestRuntime } from '@sextant/testkit';
import { describeDetectorConformance } from '@sextant/testkit/conformance';
import plugin from '../src/plugin.js';
import { __CAMEL__DetectorFactory } from '../src/__MODULE__.js';

describeDetectorConformance(__CAMEL__DetectorFactory, {
  config: { metric: 'conformance.value', above: 100 },
  invalid: { config: { metric: 'x' }, path: '__ID__.above' },
});

describe('__ID__ detector', () => {
  it('raises one anomaly per crossing, not one per sample, and ignores NaN', async () => {
    const h = await startDetector(__CAMEL__DetectorFactory, { config: { metric: 'queue.length', above: 10 } });
    const id = h.catalog.series({ metric: 'queue.length', unit: '{item}', type: 'gauge', resource: { 'host.name': 'h' }, attributes: {} });
    const other = h.catalog.series({ metric: 'other.metric', unit: '1', type: 'gauge', resource: { 'host.name': 'h' }, attributes: {} });
    [5, 12, 15, Number.NaN, 8, 30].forEach((v, i) => h.feed(id, 1000 * i, v));
    h.feed(other, 9000, 1e9);
    expect(h.anomalies.map((a) => a.value)).toEqual([12, 30]);
    expect(h.anomalies[0].message).toContain('above the limit of 10');
    await h.shutdown();
  });
});

describe('__PKG__ in a real runtime', () => {
  it('loads the plugin and starts the detector', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], config: { detectors: { '__ID__': { metric: 'system.cpu.utilization', above: 0.9 } } } });
    try {
      expect(rt.problems).toEqual([]);
      expect(rt.runtime.statuses().find((s) => s.type === '__ID__')?.state).toBe('ok');
    } finally {
      await rt.stop();
    }
  });
});
`,
};

const correlator: ComponentTemplate = {
  module: '__MODULE__',
  factory: '__CAMEL__CorrelatorFactory',
  ref: 'correlatorsExtensionPoint',
  depsKey: 'correlators',
  summary: 'a correlator that folds anomalies of one service into one incident and resolves it when quiet',
  exampleConfig: 'correlators:\n  __ID__:\n    quietFor: 300000',
  source: `import { z } from 'zod';
import { createCorrelatorFactory, type Anomaly, type Incident, type Severity } from '@sextant/plugin-api';

/** Configuration of one __ID__ correlator instance. */
export const __CAMEL__ConfigSchema = z.object({
  /** Milliseconds without a new anomaly after which an incident resolves. */
  quietFor: z.number().int().positive(),
  /** Resource attribute that groups anomalies into one incident. */
  groupBy: z.string().min(1),
});
export type __PASCAL__Config = z.infer<typeof __CAMEL__ConfigSchema>;

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

interface OpenIncident {
  incident: Incident;
  sequence: number;
  lastAnomalyAt: number;
}

/**
 * Folds anomalies that share \`groupBy\` (default service.name) into one incident per group,
 * publishes opened/updated updates, and resolves an incident after \`quietFor\` ms without anomalies.
 * Anomalies without the attribute are grouped under their host.
 */
export const __CAMEL__CorrelatorFactory = createCorrelatorFactory<__PASCAL__Config>({
  type: '__ID__',
  stability: 'development',
  description: 'Folds anomalies of one service into one incident and resolves it after a quiet period.',
  configSchema: __CAMEL__ConfigSchema,
  defaults: { quietFor: 300_000, groupBy: 'service.name' },
  create(ctx) {
    const open = new Map<string, OpenIncident>();
    let counter = 0;
    return {
      onAnomaly(anomaly: Anomaly) {
        const key = String(anomaly.resource[ctx.config.groupBy] ?? anomaly.resource['host.name'] ?? 'unknown');
        const entity = (anomaly.resource[ctx.config.groupBy] !== undefined ? 'service:' : 'host:') + key;
        const now = anomaly.timestamp;
        const current = open.get(key);
        if (!current) {
          counter += 1;
          const incident: Incident = {
            id: ctx.instanceId.replace(/[^a-z0-9-]/gi, '-') + '-' + now + '-' + counter,
            title: anomaly.message,
            status: 'open',
            impact: 'infrastructure',
            severity: anomaly.severity,
            openedAt: now,
            updatedAt: now,
            entities: [entity],
            anomalyIds: [anomaly.id],
            eventIds: [],
            causes: [{ entity, score: anomaly.score, summary: anomaly.message, evidence: [anomaly.metric + ' = ' + anomaly.value] }],
            timeline: [{ timestamp: now, kind: 'anomaly', message: anomaly.message, ref: anomaly.id }],
            suppressed: [],
          };
          open.set(key, { incident, sequence: 1, lastAnomalyAt: now });
          ctx.publish({ change: 'opened', sequence: 1, incident, reason: 'new anomaly on ' + entity });
          return;
        }
        const severity = SEVERITY_RANK[anomaly.severity] > SEVERITY_RANK[current.incident.severity] ? anomaly.severity : current.incident.severity;
        current.incident = {
          ...current.incident,
          severity,
          updatedAt: now,
          anomalyIds: [...current.incident.anomalyIds, anomaly.id],
          timeline: [...current.incident.timeline, { timestamp: now, kind: 'anomaly', message: anomaly.message, ref: anomaly.id }],
        };
        current.sequence += 1;
        current.lastAnomalyAt = now;
        ctx.publish({ change: 'updated', sequence: current.sequence, incident: current.incident, reason: 'another anomaly on ' + entity });
      },
      tick(now: number) {
        for (const [key, current] of open) {
          if (now - current.lastAnomalyAt < ctx.config.quietFor) continue;
          open.delete(key);
          const incident: Incident = { ...current.incident, status: 'resolved', updatedAt: now, resolvedAt: now };
          ctx.publish({ change: 'resolved', sequence: current.sequence + 1, incident, reason: 'quiet for ' + ctx.config.quietFor + ' ms' });
        }
      },
      shutdown() {
        open.clear();
      },
    };
  },
});
`,
  test: `import { describe, expect, it } from 'vitest';
import type { Anomaly } from '@sextant/plugin-api';
import { resolveConfig, startCorrelator, startTestRuntime } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { __CAMEL__CorrelatorFactory } from '../src/__MODULE__.js';

function anomaly(id: string, service: string, timestamp: number, severity: Anomaly['severity'] = 'warning'): Anomaly {
  return {
    id, seriesId: 0, metric: 'http.server.duration', resource: { 'service.name': service }, attributes: {}, detector: 'test',
    kind: 'spike', timestamp, value: 900, expected: 100, lower: 50, upper: 200, score: 0.9, severity, message: service + ' latency is 9x normal',
  };
}

describe('__ID__ correlator', () => {
  it('refuses an invalid configuration with its path', async () => {
    await expect(resolveConfig(__CAMEL__CorrelatorFactory, { quietFor: -1 })).rejects.toThrow('__ID__.quietFor');
  });

  it('opens one incident per service, updates it, and resolves it after the quiet period', async () => {
    const h = await startCorrelator(__CAMEL__CorrelatorFactory, { config: { quietFor: 60_000 } });
    h.correlator.onAnomaly(anomaly('a1', 'checkout', 1_000));
    h.correlator.onAnomaly(anomaly('a2', 'checkout', 2_000, 'critical'));
    h.correlator.onAnomaly(anomaly('a3', 'search', 3_000));
    h.correlator.tick?.(30_000);
    expect(h.updates.map((u) => u.change)).toEqual(['opened', 'updated', 'opened']);
    h.correlator.tick?.(62_500);
    const resolved = h.updates.filter((u) => u.change === 'resolved');
    expect(resolved.map((u) => u.incident.entities[0])).toEqual(['service:checkout']);
    expect(resolved[0].incident.severity).toBe('critical');
    expect(resolved[0].incident.anomalyIds).toEqual(['a1', 'a2']);
    await h.shutdown();
    await h.shutdown();
  });
});

describe('__PKG__ in a real runtime', () => {
  it('loads the plugin and starts the correlator', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], config: { correlators: { '__ID__': { quietFor: 1000 } } } });
    try {
      expect(rt.problems).toEqual([]);
      expect(rt.runtime.statuses().find((s) => s.type === '__ID__')?.state).toBe('ok');
    } finally {
      await rt.stop();
    }
  });
});
`,
};

const notifier: ComponentTemplate = {
  module: '__MODULE__',
  factory: '__CAMEL__NotifierFactory',
  ref: 'notifiersExtensionPoint',
  depsKey: 'notifiers',
  summary: 'a notifier that appends every incident update to a JSON-lines file, once per idempotency key',
  exampleConfig: 'notifiers:\n  __ID__:\n    path: /var/log/sextant/incidents.jsonl',
  source: `import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { createNotifierFactory } from '@sextant/plugin-api';

/** Configuration of one __ID__ notifier instance. */
export const __CAMEL__ConfigSchema = z.object({
  /** File the updates are appended to, one JSON object per line. Its folder is created. */
  path: z.string().min(1),
  /** How many idempotency keys are remembered to drop repeated deliveries. */
  remember: z.number().int().min(1).max(1_000_000),
});
export type __PASCAL__Config = z.infer<typeof __CAMEL__ConfigSchema>;

/**
 * Appends each incident update to a JSON-lines file. A repeated delivery of the same idempotency
 * key (after a retry or restart) is acknowledged without writing twice. A write error is returned
 * as a retryable failure, never thrown.
 * Self-metrics: deliveries_total {outcome}.
 */
export const __CAMEL__NotifierFactory = createNotifierFactory<__PASCAL__Config>({
  type: '__ID__',
  stability: 'development',
  description: 'Appends every incident update to a JSON-lines file.',
  configSchema: __CAMEL__ConfigSchema,
  defaults: { path: './incidents.jsonl', remember: 10_000 },
  create(ctx) {
    const seen = new Set<string>();
    const deliveries = ctx.metrics.counter('deliveries_total', 'Delivery attempts by outcome');
    return {
      async deliver(notification) {
        if (seen.has(notification.idempotencyKey)) {
          deliveries.add(1, { outcome: 'duplicate' });
          return { ok: true, detail: 'already delivered' };
        }
        const { incident } = notification.update;
        const line = JSON.stringify({
          key: notification.idempotencyKey,
          change: notification.update.change,
          id: incident.id,
          title: incident.title,
          severity: incident.severity,
          status: incident.status,
          at: new Date(incident.updatedAt).toISOString(),
          ...(notification.url ? { url: notification.url } : {}),
        });
        try {
          await mkdir(dirname(ctx.config.path), { recursive: true });
          await appendFile(ctx.config.path, line + '\\n', 'utf8');
        } catch (e) {
          deliveries.add(1, { outcome: 'error' });
          ctx.status.set('degraded', 'cannot write ' + ctx.config.path + ': ' + (e as Error).message, 'SEXTANT_ERR_CONNECTION_FAILED');
          return { ok: false, retryable: true, error: (e as Error).message };
        }
        seen.add(notification.idempotencyKey);
        if (seen.size > ctx.config.remember) seen.delete(seen.values().next().value as string);
        deliveries.add(1, { outcome: 'ok' });
        ctx.status.set('ok');
        return { ok: true };
      },
      shutdown() {
        seen.clear();
      },
    };
  },
});
`,
  test: `import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNotifier, startTestRuntime } from '@sextant/testkit';
import { describeNotifierConformance, sampleIncidentUpdate } from '@sextant/testkit/conformance';
import plugin from '../src/plugin.js';
import { __CAMEL__NotifierFactory } from '../src/__MODULE__.js';

const dir = mkdtempSync(join(tmpdir(), '__ID__-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeNotifierConformance(__CAMEL__NotifierFactory, {
  config: { path: join(dir, 'conformance.jsonl') },
  invalid: { config: { remember: 0 }, path: '__ID__.remember' },
});

describe('__ID__ notifier', () => {
  it('writes each update once, even when it is delivered twice', async () => {
    const path = join(dir, 'once.jsonl');
    const h = await startNotifier(__CAMEL__NotifierFactory, { config: { path } });
    const update = sampleIncidentUpdate();
    expect(await h.notifier.deliver({ idempotencyKey: 'inc-1:1', update, attempt: 1 })).toEqual({ ok: true });
    expect((await h.notifier.deliver({ idempotencyKey: 'inc-1:1', update, attempt: 2 })).ok).toBe(true);
    const lines = readFileSync(path, 'utf8').trim().split('\\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ key: 'inc-1:1', change: 'opened', title: update.incident.title });
    await h.shutdown();
  });

  it('returns a retryable failure when the file cannot be written', async () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const h = await startNotifier(__CAMEL__NotifierFactory, { config: { path: join(blocker, 'x.jsonl') } });
    const outcome = await h.notifier.deliver({ idempotencyKey: 'inc-1:1', update: sampleIncidentUpdate(), attempt: 1 });
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(h.statuses.at(-1)?.state).toBe('degraded');
    await h.shutdown();
  });
});

describe('__PKG__ in a real runtime', () => {
  it('loads the plugin and starts the notifier', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], config: { notifiers: { '__ID__': { path: join(dir, 'runtime.jsonl') } } } });
    try {
      expect(rt.problems).toEqual([]);
    } finally {
      await rt.stop();
    }
  });
});
`,
};

/** Exporters have no template yet: `sextant new plugin --kind exporter` says so. */
export const COMPONENT_TEMPLATES: Readonly<Partial<Record<ExtensionKind, ComponentTemplate>>> = { collector, detector, correlator, notifier };
