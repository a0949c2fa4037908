/**
 * End to end against Sextant's own OTLP/HTTP receiver (OtlpHttpReceiver in front of a real
 * IngestServer): what the exporter sends arrives as series with the documented names, units,
 * types, resources, attributes and values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IngestServer, OtlpHttpReceiver, type IngestHandler } from '@sextant/protocol';
import type { SampleBatch, SeriesDescriptor } from '@sextant/plugin-api';
import { LEARNING_STATE_CODES } from '@sextant/plugin-api';
import { OTLP_SIGNAL_METRICS, type OtlpExporter } from '../src/index.js';
import { startExporter, until } from './exporter-context.js';

const TOKEN = 'otlp-export-token-0123456789';

class StoredSeries implements IngestHandler {
  readonly descriptors = new Map<number, SeriesDescriptor>();
  readonly samples: { series: number; timestamp: number; value: number }[] = [];
  private next = 1;
  onSeries(_source: string, _local: number, d: SeriesDescriptor): number {
    const id = this.next++;
    this.descriptors.set(id, d);
    return id;
  }
  onBatch(_source: string, b: SampleBatch): void {
    for (let i = 0; i < b.length; i++) this.samples.push({ series: b.series[i]!, timestamp: b.timestamps[i]!, value: b.values[i]! });
  }
  /** Samples of the series named `metric` whose attributes include `attrs`. */
  find(metric: string, attrs: Record<string, unknown> = {}) {
    return this.samples
      .map((s) => ({ ...s, d: this.descriptors.get(s.series)! }))
      .filter((s) => s.d.metric === metric && Object.entries(attrs).every(([k, v]) => s.d.attributes[k] === v));
  }
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function receiver() {
  const handler = new StoredSeries();
  const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
  cleanups.push(() => ingest.shutdown(500));
  const http = await OtlpHttpReceiver.start({ address: '127.0.0.1:0', ingest });
  cleanups.push(() => http.shutdown());
  return { handler, endpoint: `http://${http.address}` };
}

const SERIES: SeriesDescriptor[] = [
  { metric: 'shop.orders', unit: '{order}', type: 'counter', resource: { 'service.name': 'shop', 'host.name': 'web-1' }, attributes: { 'payment.method': 'card' } },
  { metric: 'http.server.duration', unit: 'ms', type: 'gauge', resource: { 'service.name': 'shop', 'host.name': 'web-1' }, attributes: {} },
  { metric: 'system.cpu.utilization', unit: '1', type: 'gauge', resource: { 'host.name': 'web-1' }, attributes: { cpu: '0' } },
];

const T0 = 1_764_000_000_000;

function batch(rows: [series: number, t: number, value: number][]): SampleBatch {
  return { length: rows.length, series: new Uint32Array(rows.map((r) => r[0])), timestamps: new Float64Array(rows.map((r) => r[1])), values: new Float64Array(rows.map((r) => r[2])) };
}

async function exporterTo(endpoint: string, extra: Record<string, unknown> = {}): Promise<Awaited<ReturnType<typeof startExporter>> & { exporter: OtlpExporter }> {
  const x = await startExporter(SERIES, { endpoint, headers: { authorization: `Bearer ${TOKEN}` }, backoff: { initial: 10, max: 50 }, ...extra });
  cleanups.push(() => x.exporter.shutdown());
  return x;
}

describe('metrics to Sextant’s OTLP/HTTP receiver', () => {
  it('delivers selected samples with their names, units, types, resources and attributes', async () => {
    const { handler, endpoint } = await receiver();
    const x = await exporterTo(endpoint, { keep: ['shop.*', 'http.**'], resourceAttributes: { 'deployment.environment.name': 'test' } });
    x.exporter.exportSamples(batch([[0, T0, 41], [1, T0, 12.5], [2, T0, 0.9], [0, T0 + 15_000, 44]]), undefined);
    await until(() => handler.find('shop.orders').length === 2 && handler.find('http.server.duration').length === 1);
    const orders = handler.find('shop.orders');
    expect(orders.map((s) => [s.timestamp, s.value])).toEqual([[T0, 41], [T0 + 15_000, 44]]);
    expect(orders[0]!.d).toMatchObject({
      unit: '{order}',
      type: 'counter',
      resource: { 'service.name': 'shop', 'host.name': 'web-1', 'deployment.environment.name': 'test' },
      attributes: { 'payment.method': 'card' },
    });
    expect(handler.find('http.server.duration')[0]).toMatchObject({ value: 12.5, d: { type: 'gauge', unit: 'ms' } });
    // not selected by keep
    expect(handler.find('system.cpu.utilization')).toEqual([]);
    expect(x.metrics.counters.otlp_points_queued_total).toBe(3);
  });

  it("sends Sextant's expected value, band and learning state per series, and the anomaly score", async () => {
    const { handler, endpoint } = await receiver();
    const x = await exporterTo(endpoint, { samples: false, drop: ['system.*'] });
    const expectations = {
      expected: new Float64Array([40, NaN, 0.5]),
      lower: new Float64Array([35, NaN, 0.1]),
      upper: new Float64Array([45, NaN, 0.8]),
      state: new Uint8Array([LEARNING_STATE_CODES.trusted, 0, LEARNING_STATE_CODES.learning]),
    };
    x.exporter.exportSamples(batch([[0, T0, 41], [1, T0, 12.5], [2, T0, 0.9]]), expectations);
    x.exporter.exportAnomalies([
      { id: 'a-1', seriesId: 0, metric: 'shop.orders', resource: SERIES[0]!.resource, attributes: SERIES[0]!.attributes, detector: 'baseline', kind: 'dip', timestamp: T0, value: 3, expected: 40, lower: 35, upper: 45, score: 0.93, severity: 'critical', message: 'orders dropped' },
    ]);
    const on = { 'sextant.metric': 'shop.orders', 'payment.method': 'card' };
    await until(() => handler.find(OTLP_SIGNAL_METRICS.anomalyScore).length === 1 && handler.find(OTLP_SIGNAL_METRICS.state).length === 1);
    expect(handler.find(OTLP_SIGNAL_METRICS.expected, on).map((s) => s.value)).toEqual([40]);
    expect(handler.find(OTLP_SIGNAL_METRICS.lower, on).map((s) => s.value)).toEqual([35]);
    expect(handler.find(OTLP_SIGNAL_METRICS.upper, on).map((s) => s.value)).toEqual([45]);
    expect(handler.find(OTLP_SIGNAL_METRICS.state, on).map((s) => s.value)).toEqual([LEARNING_STATE_CODES.trusted]);
    expect(handler.find(OTLP_SIGNAL_METRICS.expected, on)[0]!.d).toMatchObject({ unit: '{order}', type: 'gauge', resource: { 'service.name': 'shop' } });
    const score = handler.find(OTLP_SIGNAL_METRICS.anomalyScore, { ...on, 'sextant.detector': 'baseline', 'sextant.anomaly.kind': 'dip' });
    expect(score.map((s) => [s.timestamp, s.value])).toEqual([[T0, 0.93]]);
    // the series without an expectation sends no signals; the dropped one sends nothing
    expect(handler.samples.map((s) => handler.descriptors.get(s.series)!.attributes['sextant.metric'])).not.toContain('http.server.duration');
    expect(handler.find(OTLP_SIGNAL_METRICS.expected, { 'sextant.metric': 'system.cpu.utilization' })).toEqual([]);
  });

  it('splits large exports into requests of at most maxPointsPerRequest points and loses none', async () => {
    const { handler, endpoint } = await receiver();
    const x = await exporterTo(endpoint, { maxPointsPerRequest: 100, keep: ['http.server.duration'] });
    const rows: [number, number, number][] = [];
    for (let i = 0; i < 1000; i++) rows.push([1, T0 + i * 1000, i]);
    x.exporter.exportSamples(batch(rows), undefined);
    await until(() => handler.find('http.server.duration').length === 1000 && x.metrics.counters.otlp_requests_sent_total === 10);
    expect(x.metrics.counters.otlp_requests_sent_total).toBe(10);
    expect(handler.find('http.server.duration').map((s) => s.value)).toEqual(rows.map((r) => r[2]));
  });

  it('keeps the unit of each series on its signals when series of one resource differ in unit', async () => {
    const { handler, endpoint } = await receiver();
    const x = await exporterTo(endpoint, { samples: false, keep: ['shop.orders', 'http.server.duration'] });
    const expectations = { expected: new Float64Array([40, 11]), lower: new Float64Array([35, 9]), upper: new Float64Array([45, 13]), state: new Uint8Array([3, 3]) };
    x.exporter.exportSamples(batch([[0, T0, 41], [1, T0, 12.5]]), expectations);
    await until(() => handler.find(OTLP_SIGNAL_METRICS.expected).length === 2);
    expect(handler.find(OTLP_SIGNAL_METRICS.expected, { 'sextant.metric': 'shop.orders' })[0]).toMatchObject({ value: 40, d: { unit: '{order}' } });
    expect(handler.find(OTLP_SIGNAL_METRICS.expected, { 'sextant.metric': 'http.server.duration' })[0]).toMatchObject({ value: 11, d: { unit: 'ms' } });
  });

  it('skips non-finite sample values instead of sending them', async () => {
    const { handler, endpoint } = await receiver();
    const x = await exporterTo(endpoint, { keep: ['http.server.duration'] });
    x.exporter.exportSamples(batch([[1, T0, NaN], [1, T0 + 1, Infinity], [1, T0 + 2, 7]]), undefined);
    await until(() => handler.find('http.server.duration').length === 1);
    expect(x.metrics.counters.otlp_points_queued_total).toBe(1);
  });
});
