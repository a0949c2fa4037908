import { Metadata, credentials } from '@grpc/grpc-js';
import { ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestServer, OtlpMetricsTranslator, estimateQuantile } from '../src/ingest/index.js';
import { WireFormatError } from '../src/ingest/protobuf-wire.js';
import { RecordingIngestHandler, eventually } from './fixtures/ingest/recording-handler.js';

const TOKEN = 'test-token-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Real OTLP bytes: an SDK MeterProvider's data encoded by the maintained otlp-transformer. */
async function otlpRequest(record: (provider: MeterProvider) => void, temporality = AggregationTemporality.CUMULATIVE): Promise<{ bytes: () => Promise<Uint8Array>; provider: MeterProvider }> {
  const reader = new ManualReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'shop', 'host.name': 'web-1' }), readers: [reader] });
  record(provider);
  return {
    provider,
    bytes: async () => {
      const { resourceMetrics } = await reader.collect();
      return ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
    },
  };
}

describe('OtlpMetricsTranslator', () => {
  it('turns gauges, counters, up-down counters and histograms into Sextant series with the resource kept', async () => {
    let gaugeValue = 0.25;
    const req = await otlpRequest((provider) => {
      const meter = provider.getMeter('shop');
      meter.createObservableGauge('shop.queue.utilization', { unit: '1' }).addCallback((r) => r.observe(gaugeValue, { queue: 'orders' }));
      const orders = meter.createCounter('shop.orders', { unit: '{order}', valueType: ValueType.INT });
      orders.add(5, { country: 'de' });
      orders.add(2, { country: 'fr' });
      meter.createUpDownCounter('shop.carts.open').add(3);
      const latency = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.2, 0.5, 1] } });
      for (let i = 0; i < 100; i++) latency.record(i < 50 ? 0.15 : 0.7);
    });
    const t = new OtlpMetricsTranslator();
    const first = t.translate(await req.bytes());
    const byName = new Map(first.newSeries.map((s) => [`${s.descriptor.metric}${JSON.stringify(s.descriptor.attributes)}`, s]));
    const valueOf = (localId: number): number => {
      for (let i = 0; i < first.batch.length; i++) if (first.batch.series[i] === localId) return first.batch.values[i]!;
      return Number.NaN;
    };

    const gauge = byName.get('shop.queue.utilization{"queue":"orders"}')!;
    expect(gauge.descriptor).toMatchObject({ type: 'gauge', unit: '1', resource: { 'service.name': 'shop', 'host.name': 'web-1' } });
    expect(valueOf(gauge.localId)).toBe(0.25);
    const de = byName.get('shop.orders{"country":"de"}')!;
    expect(de.descriptor.type).toBe('counter');
    expect(valueOf(de.localId)).toBe(5);
    expect(byName.get('shop.carts.open{}')!.descriptor.type).toBe('gauge');
    expect(valueOf(byName.get('http.server.request.duration.count{}')!.localId)).toBe(100);
    expect(valueOf(byName.get('http.server.request.duration.sum{}')!.localId)).toBeCloseTo(42.5, 6);
    const p50 = byName.get('http.server.request.duration.p50{}')!;
    expect(p50.descriptor).toMatchObject({ type: 'gauge', unit: 's', kind: 'latency' });
    expect(valueOf(p50.localId)).toBeCloseTo(0.2, 6); // 50 of 100 in (0.1, 0.2]
    expect(valueOf(byName.get('http.server.request.duration.p99{}')!.localId)).toBeGreaterThan(0.5);
    expect(first.rejectedPoints).toBe(0);
    for (let i = 0; i < first.batch.length; i++) expect(first.batch.timestamps[i]).toBeGreaterThan(1.5e12);

    // second export: same series ids, no new descriptors
    gaugeValue = 0.5;
    const second = t.translate(await req.bytes());
    expect(second.newSeries).toHaveLength(0);
    expect(t.seriesCount).toBe(first.newSeries.length);
  });

  it('turns delta sums into per-second rates', async () => {
    const req = await otlpRequest((provider) => provider.getMeter('m').createCounter('jobs.done', { unit: '{job}' }).add(10), AggregationTemporality.DELTA);
    await new Promise((r) => setTimeout(r, 5)); // a delta interval of zero length has no rate
    const out = new OtlpMetricsTranslator().translate(await req.bytes());
    expect(out.rejectReasons).toEqual([]);
    expect(out.newSeries[0]!.descriptor).toMatchObject({ metric: 'jobs.done', type: 'rate', unit: '{job}/s' });
    expect(out.batch.values[0]).toBeGreaterThan(0);
  });

  it('counts points over the series limit instead of storing them', async () => {
    const req = await otlpRequest((provider) => {
      const c = provider.getMeter('m').createCounter('c');
      for (let i = 0; i < 10; i++) c.add(1, { i });
    });
    const out = new OtlpMetricsTranslator(4).translate(await req.bytes());
    expect(out.newSeries).toHaveLength(4);
    expect(out.rejectedPoints).toBe(6);
    expect(out.rejectReasons[0]).toMatch(/series limit of 4/);
  });

  it('rejects bytes that are not protobuf with an error', () => {
    // a length that runs past the end of the request
    expect(() => new OtlpMetricsTranslator().translate(Buffer.from([0x0a, 0x7f, 0x01]))).toThrow(WireFormatError);
    expect(() => new OtlpMetricsTranslator().translate(Buffer.from([0x0a, 0x7f, 0x01]))).toThrow(/not an OTLP ExportMetricsServiceRequest/);
  });
});

describe('estimateQuantile', () => {
  it('interpolates inside the bucket where the rank falls and clamps open ends to min/max', () => {
    const lowers = [Number.NEGATIVE_INFINITY, 0, 10];
    const uppers = [0, 10, Number.POSITIVE_INFINITY];
    expect(estimateQuantile(lowers, uppers, [0, 10, 0], 0.5)).toBe(5);
    expect(estimateQuantile(lowers, uppers, [0, 0, 4], 0.5, undefined, 30)).toBe(20);
    expect(estimateQuantile(lowers, uppers, [0, 0, 4], 0.5)).toBe(10);
    expect(Number.isNaN(estimateQuantile(lowers, uppers, [0, 0, 0], 0.5))).toBe(true);
  });
});

describe('OTLP/gRPC receiver', () => {
  it('receives metrics from an OpenTelemetry SDK app with the OTLP gRPC exporter', async () => {
    const handler = new RecordingIngestHandler();
    const server = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => server.shutdown(500));
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${TOKEN}`);
    const exporter = new OTLPMetricExporter({ url: `http://${server.address}`, credentials: credentials.createInsecure(), metadata });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment.name': 'test' }),
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
    });
    cleanups.push(() => provider.shutdown());
    const meter = provider.getMeter('checkout');
    meter.createCounter('checkout.orders', { unit: '{order}' }).add(3, { 'payment.method': 'card' });
    meter.createHistogram('checkout.duration', { unit: 'ms' }).record(120);
    await provider.forceFlush();
    await eventually(() => handler.seriesNamed('checkout.orders').length > 0);

    const [orders] = handler.seriesNamed('checkout.orders');
    expect(orders!.descriptor).toMatchObject({
      type: 'counter',
      unit: '{order}',
      resource: { 'service.name': 'checkout', 'deployment.environment.name': 'test' },
      attributes: { 'payment.method': 'card' },
    });
    expect(handler.series.get(orders!.id)!.sourceId).toBe('otlp:127.0.0.1');
    expect(handler.samples.find((s) => s.series === orders!.id)!.value).toBe(3);
    expect(handler.seriesNamed('checkout.duration.p50')).toHaveLength(1);
    expect(server.stats().accepted).toBeGreaterThan(0);
  });

  it('refuses an OTLP sender without the token', async () => {
    const handler = new RecordingIngestHandler();
    const server = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => server.shutdown(500));
    const exporter = new OTLPMetricExporter({ url: `http://${server.address}`, credentials: credentials.createInsecure() });
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => {
      void (async () => {
        const reader = new ManualReader();
        const provider = new MeterProvider({ readers: [reader] });
        provider.getMeter('m').createCounter('c').add(1);
        const { resourceMetrics } = await reader.collect();
        exporter.export(resourceMetrics, resolve);
      })();
    });
    expect(result.code).not.toBe(0);
    expect(String(result.error?.message)).toMatch(/token/);
    expect(server.stats().rejected.unauthenticated).toBe(1);
    expect(handler.samples).toHaveLength(0);
    await exporter.shutdown();
  });
});
