/**
 * The exporters extension point as the runtime runs it: exporters see accepted samples with the
 * modelling detector's expectations aligned, and anomalies; a slow exporter never blocks ingest
 * (its queue is bounded and what does not fit is counted).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  collectorsExtensionPoint,
  createCollectorFactory,
  createDetectorFactory,
  createExporterFactory,
  createPlugin,
  detectorsExtensionPoint,
  exportersExtensionPoint,
  type ExpectationColumns,
  type SampleBatch,
  type SeriesExpectation,
} from '@sextant/plugin-api';
import { Runtime, validateRuntimeConfig } from '../src/index.js';

const counting = createCollectorFactory({
  type: 'counting',
  stability: 'stable',
  description: 'writes n samples of one series per round',
  configSchema: z.object({ n: z.number() }),
  defaults: { n: 3 },
  create(ctx) {
    let t = 1_000_000;
    return {
      collect() {
        const id = ctx.sink.series({ metric: 'test.value', unit: '1', type: 'gauge', resource: ctx.hostResource, attributes: {} });
        for (let i = 0; i < ctx.config.n; i++) ctx.sink.sample(id, i, t++);
      },
      shutdown() {},
    };
  },
});

/** Expects value 10 in [5, 15]; raises an anomaly for every value 2. */
const judging = createDetectorFactory({
  type: 'judging',
  stability: 'stable',
  description: 'fixed expectation and a rule',
  configSchema: z.object({}),
  defaults: {},
  create(ctx) {
    let last: SeriesExpectation | undefined;
    return {
      process(batch: SampleBatch) {
        for (let i = 0; i < batch.length; i++) {
          last = { timestamp: batch.timestamps[i], expected: 10, lower: 5, upper: 15, state: 'trusted' };
          if (batch.values[i] === 2) {
            ctx.emit({ seriesId: batch.series[i], detector: 'judging', kind: 'spike', timestamp: batch.timestamps[i], value: 2, expected: 10, lower: 5, upper: 15, score: 0.9, severity: 'warning', message: 'two' });
          }
        }
      },
      expectation: () => last,
      shutdown() {},
    };
  },
});

interface Seen {
  samples: { series: number; t: number; v: number; expected: number; state: number }[];
  anomalies: string[];
  calls: number;
}

function recordingExporter(seen: Seen, gate?: Promise<void>) {
  return createExporterFactory({
    type: 'recording',
    stability: 'stable',
    description: 'records what it is given',
    configSchema: z.object({}),
    defaults: {},
    create: () => ({
      async exportSamples(batch: SampleBatch, e: ExpectationColumns | undefined) {
        seen.calls++;
        for (let i = 0; i < batch.length; i++) {
          seen.samples.push({ series: batch.series[i], t: batch.timestamps[i], v: batch.values[i], expected: e ? e.expected[i] : NaN, state: e ? e.state[i] : 0 });
        }
        await gate;
      },
      exportAnomalies(anomalies) {
        seen.anomalies.push(...anomalies.map((a) => `${a.metric}:${a.value}:${a.score}`));
      },
      shutdown() {},
    }),
  });
}

async function start(n: number, seen: Seen, gate?: Promise<void>) {
  const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { port: 0 }, collectors: { counting: { n } }, detectors: { judging: {} }, exporters: { recording: {} } });
  const plugin = createPlugin({
    pluginId: 'exp-test',
    deps: { collectors: collectorsExtensionPoint, detectors: detectorsExtensionPoint, exporters: exportersExtensionPoint },
    register({ collectors, detectors, exporters }) {
      collectors.addFactory(counting);
      detectors.addFactory(judging);
      exporters.addFactory(recordingExporter(seen, gate));
    },
  });
  const runtime = await Runtime.load({ config: loaded.config!, builtins: [{ plugin, packageName: '@test/exp', version: '1.0.0' }], log: { level: 'silent' }, collectImmediately: false, hostResource: { 'host.name': 'h' } });
  expect(await runtime.start()).toEqual([]);
  return runtime;
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('exporters', () => {
  it('get accepted samples with aligned expectations, and anomalies', async () => {
    const seen: Seen = { samples: [], anomalies: [], calls: 0 };
    const runtime = await start(3, seen);
    try {
      await runtime.collectNow();
      await settle();
      // a detector keeps the latest expectation per series: only the batch's last sample of the series has one
      expect(seen.samples.map((s) => [s.v, s.expected, s.state])).toEqual([[0, NaN, 0], [1, NaN, 0], [2, 10, 3]]);
      expect(seen.anomalies).toEqual(['test.value:2:0.9']);
      expect(runtime.plugins().length).toBeGreaterThan(0);
    } finally {
      await runtime.stop();
    }
  });

  it('a stuck exporter does not block ingest: its queue is bounded and the overflow is counted', async () => {
    const seen: Seen = { samples: [], anomalies: [], calls: 0 };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runtime = await start(150_000, seen, gate);
    try {
      await runtime.collectNow(); // taken by the exporter, which then hangs
      await settle();
      await runtime.collectNow(); // queued (150k of 200k)
      await runtime.collectNow(); // 50k fit, 100k dropped
      const accepted = runtime.telemetry.sum('sextant_samples_accepted_total');
      expect(accepted).toBe(450_000);
      expect(runtime.telemetry.value('sextant_exporter_dropped_total', { instance: 'recording', kind: 'samples' })).toBe(100_000);
      expect(seen.calls).toBe(1);
      release();
      await settle();
      expect(seen.samples.length).toBe(350_000);
    } finally {
      release();
      await runtime.stop();
    }
  });
});

describe('ExportQueue', () => {
  it('hands everything queued over on close, one call at a time', async () => {
    const { ExportQueue } = await import('../src/pipeline/export-queue.js');
    let inFlight = 0;
    let maxInFlight = 0;
    const got: number[] = [];
    const queue = new ExportQueue('x', {
      async exportSamples(batch) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        for (let i = 0; i < batch.length; i++) got.push(batch.values[i]);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
      },
      shutdown() {},
    }, { onDrop: () => undefined, fail: (e) => { throw e; } });
    const one = (v: number) => ({ length: 1, series: new Uint32Array([0]), timestamps: new Float64Array([v]), values: new Float64Array([v]) });
    for (let v = 0; v < 5; v++) {
      queue.offerSamples(one(v), undefined);
      await new Promise((r) => setTimeout(r, 2));
    }
    await queue.close();
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(maxInFlight).toBe(1);
    queue.offerSamples(one(9), undefined); // after close: ignored
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });
});
