/**
 * OTLP/HTTP metrics: the OpenTelemetry JS SDK's own HTTP exporter (JSON) and the SDK's protobuf
 * serializer send to OtlpHttpReceiver; histograms and exponential histograms are accepted, not
 * dropped; bad requests get the OTLP/HTTP status codes.
 */
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { needBinary } from '@sextant/testkit';
import { IngestServer, OtlpHttpReceiver, otlpJsonToProtobuf } from '../src/ingest/index.js';
import { RecordingIngestHandler, eventually } from './fixtures/ingest/recording-handler.js';
import { makeTestPki } from './fixtures/ingest/tls-certificates.js';

const TOKEN = 'test-token-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function start(options: { maxBodyBytes?: number; maxQueue?: number } = {}) {
  const handler = new RecordingIngestHandler();
  const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler, ...(options.maxQueue ? { maxQueue: options.maxQueue } : {}) });
  cleanups.push(() => ingest.shutdown(500));
  const receiver = await OtlpHttpReceiver.start({ address: '127.0.0.1:0', ingest, ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}) });
  cleanups.push(() => receiver.shutdown());
  return { handler, ingest, url: `http://${receiver.address}/v1/metrics` };
}

function record(provider: MeterProvider): void {
  const meter = provider.getMeter('checkout');
  meter.createCounter('checkout.orders', { unit: '{order}' }).add(3, { 'payment.method': 'card' });
  const duration = meter.createHistogram('checkout.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [50, 100, 200, 500] } });
  for (let i = 0; i < 10; i++) duration.record(i < 5 ? 80 : 300);
  const payload = meter.createHistogram('checkout.payload.size', { unit: 'By' });
  for (let i = 1; i <= 100; i++) payload.record(i * 10);
}

const views = [{ instrumentName: 'checkout.payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }];

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

describe('OTLP/HTTP receiver', () => {
  it('receives JSON from the OpenTelemetry SDK HTTP exporter: counters, histograms and exponential histograms', async () => {
    const { handler, url } = await start();
    const exporter = new OTLPMetricExporter({ url, headers: { Authorization: `Bearer ${TOKEN}` } });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment.name': 'test' }),
      views,
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
    });
    cleanups.push(() => provider.shutdown());
    record(provider);
    await provider.forceFlush();
    await eventually(() => handler.seriesNamed('checkout.orders').length > 0);
    const [orders] = handler.seriesNamed('checkout.orders');
    expect(orders!.descriptor).toMatchObject({ type: 'counter', unit: '{order}', resource: { 'service.name': 'checkout', 'deployment.environment.name': 'test' }, attributes: { 'payment.method': 'card' } });
    expect(handler.samples.find((s) => s.series === orders!.id)?.value).toBe(3);
    expect(handler.seriesNamed('checkout.duration.count')).toHaveLength(1);
    expect(handler.seriesNamed('checkout.duration.p50')).toHaveLength(1);
    // the exponential histogram arrives as count, sum and quantiles
    const expCount = handler.seriesNamed('checkout.payload.size.count')[0]!;
    expect(handler.samples.find((s) => s.series === expCount.id)?.value).toBe(100);
    const p50 = handler.seriesNamed('checkout.payload.size.p50')[0]!;
    expect(handler.samples.find((s) => s.series === p50.id)?.value).toBeGreaterThan(400);
    expect(handler.samples.find((s) => s.series === p50.id)?.value).toBeLessThan(600);
  });

  it('receives gzip-compressed protobuf and answers with a protobuf ExportMetricsServiceResponse', async () => {
    const { handler, url } = await start();
    const reader = new ManualReader();
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'edge-fn' }), views, readers: [reader] });
    record(provider);
    const bytes = ProtobufMetricsSerializer.serializeRequest((await reader.collect()).resourceMetrics)!;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', authorization: `Bearer ${TOKEN}` }, body: gzipSync(bytes) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await res.arrayBuffer()).byteLength).toBe(0); // full success: an empty response message
    expect(handler.seriesNamed('checkout.orders')[0]!.descriptor.resource).toEqual({ 'service.name': 'edge-fn' });
    expect(handler.seriesNamed('checkout.payload.size.p99')).toHaveLength(1);
  });

  it('answers bad requests with the OTLP/HTTP status codes and a Status body', async () => {
    const { url } = await start({ maxBodyBytes: 2048 });
    const post = (body: string | Uint8Array, headers: Record<string, string>, to = url) =>
      fetch(to, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...headers }, body });
    const json = { 'content-type': 'application/json' };
    let res = await post('{"resourceMetrics":[]}', { ...json, authorization: 'Bearer wrong-token-000000000' });
    expect([res.status, await res.json()]).toEqual([401, { code: 16, message: expect.stringContaining('missing or wrong ingest token') }]);
    res = await post('{"resourceMetrics": 7}', json);
    expect([res.status, ((await res.json()) as { message: string }).message]).toEqual([400, 'malformed ExportMetricsServiceRequest: resourceMetrics must be an array']);
    res = await post('{not json', json);
    expect(res.status).toBe(400);
    res = await post(new Uint8Array([0x0a, 0x7f, 0x01]), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(400);
    res = await post('x'.repeat(5000), json);
    expect(res.status).toBe(413);
    res = await post(gzipSync(Buffer.from(`{"resourceMetrics":[],"pad":"${'x'.repeat(100_000)}"}`)), { ...json, 'content-encoding': 'gzip' });
    expect([res.status, ((await res.json()) as { message: string }).message]).toEqual([413, expect.stringContaining('decompressed body over 2048 bytes')]);
    res = await post('a=1', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    res = await post('{}', { ...json, 'content-encoding': 'br' });
    expect(res.status).toBe(415);
    res = await post('{}', json, url.replace('/v1/metrics', '/v1/traces'));
    expect(res.status).toBe(404);
    res = await fetch(url);
    expect(res.status).toBe(405);
    // a valid, empty request is a full success
    res = await post('{"resourceMetrics":[]}', json);
    expect([res.status, await res.json()]).toEqual([200, {}]);
  });

  it('reports refused points as a partial success', async () => {
    const handler = new RecordingIngestHandler();
    const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler, maxSeriesPerSource: 2 });
    cleanups.push(() => ingest.shutdown(500));
    const receiver = await OtlpHttpReceiver.start({ address: '127.0.0.1:0', ingest });
    cleanups.push(() => receiver.shutdown());
    const points = [1, 2, 3, 4].map((i) => ({ attributes: [{ key: 'i', value: { intValue: String(i) } }], timeUnixNano: String(Date.now() * 1e6), asDouble: i }));
    const body = { resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: points } }] }] }] };
    const res = await fetch(`http://${receiver.address}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partialSuccess: { rejectedDataPoints: '2', errorMessage: expect.stringContaining('series limit of 2') } });
  });

  it('refuses a histogram point whose bucket counts do not fit its bounds, and keeps the well-formed one', async () => {
    const handler = new RecordingIngestHandler();
    const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => ingest.shutdown(500));
    const receiver = await OtlpHttpReceiver.start({ address: '127.0.0.1:0', ingest });
    cleanups.push(() => receiver.shutdown());
    const t = String(Date.now() * 1e6);
    const point = (i: number, bucketCounts: string[]) => ({ attributes: [{ key: 'i', value: { intValue: String(i) } }], startTimeUnixNano: t, timeUnixNano: t, count: '3', sum: 6, explicitBounds: [1, 2], bucketCounts });
    const body = { resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ metrics: [{ name: 'h', unit: 's', histogram: { aggregationTemporality: 2, dataPoints: [point(1, ['1', '1', '1']), point(2, ['1', '2'])] } }] }] }] };
    const res = await fetch(`http://${receiver.address}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partialSuccess: { rejectedDataPoints: '1', errorMessage: expect.stringContaining('h: 2 bucket counts for 2 bounds') } });
    const series = () => [...handler.series.values()].filter((s) => s.descriptor.metric.startsWith('h'));
    await expect.poll(() => series().some((s) => s.descriptor.attributes?.i === 1)).toBe(true);
    expect(series().some((s) => s.descriptor.attributes?.i === 2)).toBe(false);
  });
});

describe('OTLP/HTTP receiver on Fastify: what is refused before the body, and throttling', () => {
  const gauge = JSON.stringify({ resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: String(Date.now() * 1e6), asDouble: 1 }] } }] }] }] });

  it('answers 429 with Retry-After while the ingest queue is full, and accepts again once it drains', async () => {
    const { handler, url } = await start({ maxQueue: 1 });
    let open!: () => void;
    handler.gate = new Promise<void>((r) => (open = r));
    const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: gauge });
    expect((await post()).status).toBe(200); // held by the slow handler
    const res = await post();
    expect([res.status, res.headers.get('retry-after'), ((await res.json()) as { code: number }).code]).toEqual([429, '1', 8]);
    handler.gate = undefined;
    open();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await post()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
  });

  it('answers protobuf senders with a protobuf Status, and refuses a missing content type and a streamed body over the limit', async () => {
    const { url } = await start({ maxBodyBytes: 1024 });
    let res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) });
    expect([res.status, res.headers.get('content-type')]).toEqual([401, 'application/x-protobuf']);
    const status = Buffer.from(await res.arrayBuffer());
    expect([status[0], status[1]]).toEqual([0x08, 16]); // field 1 (code) = UNAUTHENTICATED
    expect(status.toString('utf8')).toContain('missing or wrong ingest token');
    res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: new Uint8Array([1, 2, 3]) });
    expect(res.status).toBe(415);
    // no Content-Length: the body is cut off while streaming
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(512));
        c.close();
      },
    });
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` }, body: chunks, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
  });
});

describe('OTLP/HTTP receiver over HTTPS', () => {
  it('serves HTTPS with the given certificate, and refuses plain HTTP on a non-loopback address', async (ctx) => {
    const openssl = needBinary(ctx, 'openssl', 'apt-get install openssl');
    const pki = makeTestPki(openssl);
    const handler = new RecordingIngestHandler();
    const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => ingest.shutdown(500));
    await expect(OtlpHttpReceiver.start({ address: '0.0.0.0:0', ingest })).rejects.toMatchObject({ code: 'SEXTANT_ERR_CONFIG_INVALID' });
    const receiver = await OtlpHttpReceiver.start({ address: '127.0.0.1:0', ingest, tls: { cert: pki.serverCert, key: pki.serverKey } });
    cleanups.push(() => receiver.shutdown());
    const body = JSON.stringify({ resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ metrics: [{ name: 'tls.gauge', gauge: { dataPoints: [{ timeUnixNano: String(Date.now() * 1e6), asDouble: 7 }] } }] }] }] });
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: receiver.port, path: '/v1/metrics', method: 'POST', ca: pki.caCert, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(answer).toEqual({ status: 200, text: '{}' });
    expect(handler.seriesNamed('tls.gauge')).toHaveLength(1);
  });
});

describe('otlpJsonToProtobuf', () => {
  it('takes 64-bit integers as strings beyond 2^53 and snake_case names', () => {
    const bytes = otlpJsonToProtobuf({ resource_metrics: [{ scope_metrics: [{ metrics: [{ name: 'c', sum: { data_points: [{ time_unix_nano: '1700000000123456789', as_int: '9007199254740993' }], aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE', is_monotonic: true } }] }] }] });
    expect(bytes.length).toBeGreaterThan(20);
    expect(() => otlpJsonToProtobuf({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'c', gauge: { dataPoints: [{ asInt: 1.5 }] } }] }] }] })).toThrow('resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asInt must be an integer');
  });
});
