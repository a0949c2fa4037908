/**
 * The OTLP point types beyond gauges, sums and explicit histograms, sent to the OTLP/gRPC receiver
 * and checked as stored:
 * - exponential histograms from the OpenTelemetry JS SDK (a view selects the aggregation) through
 *   its own OTLP gRPC exporter, cumulative and delta;
 * - summaries, which the JS SDK never produces (Prometheus client libraries and the Collector's
 *   Prometheus receiver do): the request is written in the test with @bufbuild/protobuf's wire
 *   writer and the field numbers of the OTLP specification, independent of Sextant's own encoder.
 */
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestServer, OTLP_METRICS_EXPORT_PATH } from '../src/ingest/index.js';
import { RecordingIngestHandler, eventually } from './fixtures/ingest/recording-handler.js';

const TOKEN = 'test-token-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startServer() {
  const handler = new RecordingIngestHandler();
  const server = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
  cleanups.push(() => server.shutdown(500));
  return { handler, server };
}

/** Every stored value of the series `metric` (optionally with these point attributes), in arrival order. */
function stored(handler: RecordingIngestHandler, metric: string, attributes?: Record<string, string>): number[] {
  const ids = new Set(
    handler
      .seriesNamed(metric)
      .filter((s) => !attributes || Object.entries(attributes).every(([k, v]) => s.descriptor.attributes[k] === v))
      .map((s) => s.id),
  );
  return handler.samples.filter((s) => ids.has(s.series)).map((s) => s.value);
}

function sdkApp(address: string, temporality: AggregationTemporality) {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  const exporter = new OTLPMetricExporter({ url: `http://${address}`, credentials: credentials.createInsecure(), metadata, temporalityPreference: temporality });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'uploads' }),
    views: [{ instrumentName: 'upload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
  });
  cleanups.push(() => provider.shutdown());
  return { provider, histogram: provider.getMeter('uploads').createHistogram('upload.size', { unit: 'By' }) };
}

describe('OTLP/gRPC receiver: exponential histograms from the OpenTelemetry JS SDK', () => {
  it('stores count, sum, min, max and quantiles; a cumulative export describes only its own interval', async () => {
    const { handler, server } = await startServer();
    const app = sdkApp(server.address, AggregationTemporality.CUMULATIVE);
    for (let i = 0; i < 10; i++) app.histogram.record(0, { route: '/upload' }); // the zero bucket
    for (let i = 1; i <= 100; i++) app.histogram.record(i * 10, { route: '/upload' }); // 10 .. 1000
    await app.provider.forceFlush();
    await eventually(() => stored(handler, 'upload.size.p50').length === 1);

    const [count] = handler.seriesNamed('upload.size.count');
    expect(count!.descriptor).toMatchObject({ type: 'counter', unit: '{count}', resource: { 'service.name': 'uploads' }, attributes: { route: '/upload' } });
    expect(stored(handler, 'upload.size.count')).toEqual([110]);
    expect(stored(handler, 'upload.size.sum')).toEqual([50_500]);
    expect(handler.seriesNamed('upload.size.sum')[0]!.descriptor).toMatchObject({ type: 'counter', unit: 'By' });
    expect(stored(handler, 'upload.size.min')).toEqual([0]);
    expect(stored(handler, 'upload.size.max')).toEqual([1000]);
    expect(handler.seriesNamed('upload.size.max')[0]!.descriptor).toMatchObject({ type: 'gauge', unit: 'By' });
    // rank 55 of 110 is the 45th non-zero value, 450; exponential buckets of this size are < 5% wide
    const [p50] = stored(handler, 'upload.size.p50');
    expect(p50).toBeGreaterThan(450 * 0.95);
    expect(p50).toBeLessThan(450 * 1.05);
    const [p99] = stored(handler, 'upload.size.p99');
    expect(p99).toBeGreaterThan(950);
    expect(p99).toBeLessThanOrEqual(1000); // clamped to the reported max

    // A second cumulative export: lifetime count/sum, quantiles of the new values only (bucket deltas).
    for (let i = 0; i < 100; i++) app.histogram.record(5000, { route: '/upload' });
    await app.provider.forceFlush();
    await eventually(() => stored(handler, 'upload.size.p50').length === 2);
    expect(stored(handler, 'upload.size.count')).toEqual([110, 210]);
    expect(stored(handler, 'upload.size.sum')).toEqual([50_500, 550_500]);
    expect(stored(handler, 'upload.size.max')).toEqual([1000, 5000]);
    const second = stored(handler, 'upload.size.p50')[1]!;
    expect(second).toBeGreaterThan(5000 * 0.95);
    expect(second).toBeLessThanOrEqual(5000);
    expect(server.stats().accepted).toBeGreaterThan(0);
  });

  it('turns a delta exponential histogram into per-second rates plus quantiles', async () => {
    const { handler, server } = await startServer();
    const app = sdkApp(server.address, AggregationTemporality.DELTA);
    for (let i = 1; i <= 50; i++) app.histogram.record(i);
    await new Promise((r) => setTimeout(r, 20)); // a delta interval of zero length has no rate
    await app.provider.forceFlush();
    await eventually(() => stored(handler, 'upload.size.count').length === 1);
    expect(handler.seriesNamed('upload.size.count')[0]!.descriptor).toMatchObject({ type: 'rate', unit: '{count}/s' });
    expect(handler.seriesNamed('upload.size.sum')[0]!.descriptor).toMatchObject({ type: 'rate', unit: 'By/s' });
    expect(stored(handler, 'upload.size.count')[0]).toBeGreaterThan(0);
    expect(stored(handler, 'upload.size.min')).toEqual([1]);
    expect(stored(handler, 'upload.size.max')).toEqual([50]);
    const [p50] = stored(handler, 'upload.size.p50');
    expect(p50).toBeGreaterThan(25 * 0.9);
    expect(p50).toBeLessThan(25 * 1.1);
  });
});

/** One SummaryDataPoint, as the OTLP specification numbers its fields. */
interface SummaryPoint {
  readonly attributes: Record<string, string>;
  readonly timeNs: bigint;
  readonly count: number;
  readonly sum: number;
  readonly quantiles: ReadonlyArray<readonly [number, number]>;
  readonly noRecordedValue?: boolean;
}

function keyValue(w: BinaryWriter, field: number, key: string, value: string): void {
  w.tag(field, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(key);
  w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(value).join(); // AnyValue.string_value
  w.join();
}

/** ExportMetricsServiceRequest { resource_metrics { resource, scope_metrics { metrics { summary } } } }. */
function summaryRequest(name: string, unit: string, points: readonly SummaryPoint[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork(); // resource_metrics
  w.tag(1, WireType.LengthDelimited).fork(); // resource
  keyValue(w, 1, 'service.name', 'cart');
  w.join();
  w.tag(2, WireType.LengthDelimited).fork(); // scope_metrics
  w.tag(2, WireType.LengthDelimited).fork(); // metrics
  w.tag(1, WireType.LengthDelimited).string(name);
  w.tag(3, WireType.LengthDelimited).string(unit);
  w.tag(11, WireType.LengthDelimited).fork(); // summary
  for (const p of points) {
    w.tag(1, WireType.LengthDelimited).fork(); // data_points
    w.tag(2, WireType.Bit64).fixed64(p.timeNs - 60_000_000_000n); // start_time_unix_nano
    w.tag(3, WireType.Bit64).fixed64(p.timeNs);
    if (p.count !== 0) w.tag(4, WireType.Bit64).fixed64(p.count);
    if (p.sum !== 0) w.tag(5, WireType.Bit64).double(p.sum);
    for (const [q, v] of p.quantiles) {
      w.tag(6, WireType.LengthDelimited).fork();
      if (q !== 0) w.tag(1, WireType.Bit64).double(q); // proto3: zeros are left out, as real senders do
      if (v !== 0) w.tag(2, WireType.Bit64).double(v);
      w.join();
    }
    for (const [k, v] of Object.entries(p.attributes)) keyValue(w, 7, k, v);
    if (p.noRecordedValue) w.tag(8, WireType.Varint).uint32(1);
    w.join();
  }
  w.join().join().join().join();
  return w.finish();
}

function exportRaw(address: string, bytes: Uint8Array): Promise<void> {
  const client = new Client(address, credentials.createInsecure());
  cleanups.push(() => client.close());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(OTLP_METRICS_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(bytes), metadata, (err) => (err ? reject(err) : resolve())),
  );
}

describe('OTLP/gRPC receiver: summaries', () => {
  it('stores count and sum as counters and every reported quantile as a gauge, zeros included', async () => {
    const { handler, server } = await startServer();
    const now = BigInt(Date.now()) * 1_000_000n;
    await exportRaw(
      server.address,
      summaryRequest('rpc.server.duration', 'ms', [
        { attributes: { method: 'GetCart' }, timeNs: now, count: 100, sum: 2500.5, quantiles: [[0, 1.5], [0.5, 20], [0.99, 180], [1, 240]] },
        { attributes: { method: 'Ping' }, timeNs: now, count: 7, sum: 0, quantiles: [[0, 0], [0.5, 0], [0.9, 0.25]] },
        { attributes: { method: 'Gone' }, timeNs: now, count: 0, sum: 0, quantiles: [[0.5, 1]], noRecordedValue: true },
      ]),
    );
    await eventually(() => stored(handler, 'rpc.server.duration.p50').length === 2);

    const getCart = { method: 'GetCart' };
    expect(handler.seriesNamed('rpc.server.duration.count')[0]!.descriptor).toMatchObject({ type: 'counter', unit: '{count}', resource: { 'service.name': 'cart' } });
    expect(handler.seriesNamed('rpc.server.duration.sum')[0]!.descriptor).toMatchObject({ type: 'counter', unit: 'ms' });
    expect(stored(handler, 'rpc.server.duration.count', getCart)).toEqual([100]);
    expect(stored(handler, 'rpc.server.duration.sum', getCart)).toEqual([2500.5]);
    expect(stored(handler, 'rpc.server.duration.p0', getCart)).toEqual([1.5]);
    expect(stored(handler, 'rpc.server.duration.p50', getCart)).toEqual([20]);
    expect(stored(handler, 'rpc.server.duration.p99', getCart)).toEqual([180]);
    expect(stored(handler, 'rpc.server.duration.p100', getCart)).toEqual([240]);
    expect(handler.seriesNamed('rpc.server.duration.p99')[0]!.descriptor).toMatchObject({ type: 'gauge', unit: 'ms' });

    // Values of 0 are absent on the wire (proto3) and must still arrive as 0, not vanish.
    const ping = { method: 'Ping' };
    expect(stored(handler, 'rpc.server.duration.sum', ping)).toEqual([0]);
    expect(stored(handler, 'rpc.server.duration.p0', ping)).toEqual([0]);
    expect(stored(handler, 'rpc.server.duration.p50', ping)).toEqual([0]);
    expect(stored(handler, 'rpc.server.duration.p90', ping)).toEqual([0.25]);

    // A point flagged "no recorded value" stores nothing.
    expect(handler.seriesNamed('rpc.server.duration.count').map((s) => s.descriptor.attributes.method).sort()).toEqual(['GetCart', 'Ping']);
  });
});
