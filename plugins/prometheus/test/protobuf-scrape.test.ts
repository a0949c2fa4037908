/**
 * The native protobuf exposition format, negotiated with the Accept header. Pages are built from the
 * format's field numbers with the code generated from our own .proto (strict fixtures: every field
 * a producer sets, native histograms included); the real Go producer (Prometheus' own /metrics,
 * client_golang) is scraped in prometheus-binary.test.ts.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { startCollector, type CollectorHarness } from '@sextant/testkit';
import { prometheusCollectorFactory } from '../src/index.js';
import { MetricFamily, MetricType, type Histogram, type Metric } from '../src/gen/io/prometheus/client/metrics.js';
import { formatBound } from '../src/protobuf-exposition.js';
import { serve, type TestServer } from './http-fixture.js';

const PROTOBUF = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** Delimited MetricFamily messages, as a producer writes them. */
function delimited(families: readonly Partial<MetricFamily>[]): Buffer {
  const w = new BinaryWriter();
  for (const f of families) {
    const bytes = MetricFamily.encode({ name: '', help: '', type: MetricType.COUNTER, metric: [], unit: '', ...f }).finish();
    w.uint32(bytes.length).raw(bytes);
  }
  return Buffer.from(w.finish());
}

function metric(m: Partial<Metric>): Metric {
  return { label: [], gauge: undefined, counter: undefined, summary: undefined, untyped: undefined, histogram: undefined, timestampMs: 0, ...m };
}

function histogram(h: Partial<Histogram>): Histogram {
  return {
    sampleCount: 0, sampleCountFloat: 0, sampleSum: 0, bucket: [], schema: 0, zeroThreshold: 0, zeroCount: 0, zeroCountFloat: 0,
    negativeSpan: [], negativeDelta: [], negativeCount: [], positiveSpan: [], positiveDelta: [], positiveCount: [], ...h,
  };
}

const servers: TestServer[] = [];
let harness: CollectorHarness | undefined;
afterEach(async () => {
  await harness?.shutdown();
  harness = undefined;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Serves protobuf only to a scraper that asks for it, else a one-line text page. */
async function producer(page: () => Buffer): Promise<TestServer> {
  const s = await serve((req, res) => {
    if (/application\/vnd\.google\.protobuf/.test(req.headers.accept ?? '')) {
      res.setHeader('content-type', PROTOBUF);
      res.end(page());
    } else {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end('text_only 1\n');
    }
  });
  servers.push(s);
  return s;
}

const classic: Partial<MetricFamily>[] = [
  { name: 'app_requests_total', help: 'Requests served', type: MetricType.COUNTER, metric: [metric({ label: [{ name: 'code', value: '200' }, { name: 'path', value: 'a"b\\c' }], counter: { value: 41 } })] },
  { name: 'app_inflight', help: 'In flight', type: MetricType.GAUGE, metric: [metric({ gauge: { value: 7 }, timestampMs: 1_700_000_000_000 })] },
  { name: 'app_thing', type: MetricType.UNTYPED, metric: [metric({ untyped: { value: -3.5 } })] },
  {
    name: 'app_latency_seconds', help: 'Latency', type: MetricType.HISTOGRAM,
    metric: [metric({ histogram: histogram({ sampleCount: 5, sampleSum: 3.25, bucket: [{ upperBound: 0.1, cumulativeCount: 1, cumulativeCountFloat: 0 }, { upperBound: 1_000_000, cumulativeCount: 4, cumulativeCountFloat: 0 }] }) })],
  },
  { name: 'app_size_bytes', type: MetricType.SUMMARY, metric: [metric({ summary: { sampleCount: 5, sampleSum: 1500, quantile: [{ quantile: 0.5, value: 300 }, { quantile: 0.99, value: 500 }] } })] },
];

describe('protobuf exposition', () => {
  it('asks for protobuf first and maps counters, gauges, untyped, classic histograms and summaries like the text format', async () => {
    const s = await producer(() => delimited(classic));
    harness = await startCollector(prometheusCollectorFactory, { config: { url: s.url, job: 'shop' } });
    await harness.collect();
    expect(s.requests.at(-1)?.headers.accept).toMatch(/^application\/vnd\.google\.protobuf;proto=io\.prometheus\.client\.MetricFamily;encoding=delimited,application\/openmetrics-text/);
    expect(harness.lastStatus()).toMatchObject({ state: 'ok' });
    const sink = harness.sink;
    expect(sink.of('text_only')).toEqual([]);
    expect(sink.of('app_requests_total')[0]).toMatchObject({ value: 41, type: 'counter', attributes: { code: '200', path: 'a"b\\c' }, description: 'Requests served [prometheus counter]' });
    expect(sink.of('app_inflight')[0]).toMatchObject({ value: 7, type: 'gauge', timestamp: 1_700_000_000_000 });
    expect(sink.last('app_thing')).toBe(-3.5);
    // classic buckets, le written as a Go text page writes it, +Inf added from the count
    expect(sink.of('app_latency_seconds_bucket').map((r) => [r.attributes.le, r.value])).toEqual([['0.1', 1], ['1e+06', 4], ['+Inf', 5]]);
    expect(sink.of('app_latency_seconds_bucket')[0]).toMatchObject({ type: 'counter', unit: 's', description: 'Latency [prometheus histogram bucket]' });
    expect(sink.last('app_latency_seconds_sum')).toBe(3.25);
    expect(sink.last('app_latency_seconds_count')).toBe(5);
    expect(sink.of('app_size_bytes').map((r) => [r.attributes.quantile, r.value])).toEqual([['0.5', 300], ['0.99', 500]]);
    expect(sink.of('app_size_bytes_count')[0]).toMatchObject({ value: 5, type: 'counter' });
    expect(sink.last('scrape_samples_scraped')).toBe(12);
  });

  it('falls back to the text formats when protobuf is turned off', async () => {
    const s = await producer(() => delimited(classic));
    harness = await startCollector(prometheusCollectorFactory, { config: { url: s.url, protobuf: false } });
    await harness.collect();
    expect(s.requests.at(-1)?.headers.accept).toMatch(/^application\/openmetrics-text/);
    expect(harness.sink.last('text_only')).toBe(1);
  });

  it('maps native histograms as OTLP exponential histograms: count, sum and quantiles over the last interval', async () => {
    // schema 0: bucket i covers (2^(i-1), 2^i]. First page: 10 values in (1, 2], 10 in (2, 4], 2 in the zero bucket.
    let page = histogram({
      sampleCount: 22, sampleSum: 55, schema: 0, zeroThreshold: 1e-128, zeroCount: 2,
      positiveSpan: [{ offset: 1, length: 2 }], positiveDelta: [10, 0],
      bucket: [{ upperBound: 2, cumulativeCount: 12, cumulativeCountFloat: 0 }],
    });
    const s = await producer(() => delimited([{ name: 'rpc_duration_seconds', help: 'RPC latency', type: MetricType.HISTOGRAM, metric: [metric({ label: [{ name: 'svc', value: 'db' }], histogram: page })] }]));
    harness = await startCollector(prometheusCollectorFactory, { config: { url: s.url } });
    await harness.collect();
    const sink = harness.sink;
    expect(harness.lastStatus()).toMatchObject({ state: 'ok' });
    expect(sink.of('rpc_duration_seconds.count')[0]).toMatchObject({ value: 22, type: 'counter', unit: 's', attributes: { svc: 'db' }, description: 'RPC latency [prometheus histogram count]' });
    expect(sink.last('rpc_duration_seconds.sum', { svc: 'db' })).toBe(55);
    // ranks: 2 at 0, 10 in (1, 2], 10 in (2, 4]; p50 = rank 11 -> 9th of 10 in (1, 2] = 1.9
    expect(sink.last('rpc_duration_seconds.p50', { svc: 'db' })).toBeCloseTo(1.9);
    expect(sink.of('rpc_duration_seconds.p50')[0]).toMatchObject({ type: 'gauge', unit: 's', description: 'RPC latency [prometheus histogram estimate]' });
    expect(sink.last('rpc_duration_seconds.p99', { svc: 'db' })).toBeGreaterThan(3.5);
    // classic buckets offered beside the native ones are kept too
    expect(sink.of('rpc_duration_seconds_bucket').map((r) => r.attributes.le)).toEqual(['2', '+Inf']);

    // Second page: the producer merged to schema -1 (bucket i covers (4^(i-1), 4^i]) and 10 new
    // values landed in (4, 16]. The quantiles describe only those 10 values.
    page = histogram({
      sampleCount: 32, sampleSum: 155, schema: -1, zeroThreshold: 1e-128, zeroCount: 2,
      positiveSpan: [{ offset: 1, length: 2 }], positiveDelta: [20, -10],
    });
    await harness.collect();
    expect(sink.last('rpc_duration_seconds.count', { svc: 'db' })).toBe(32);
    const p50 = sink.last('rpc_duration_seconds.p50', { svc: 'db' })!;
    expect(p50).toBeGreaterThan(4);
    expect(p50).toBeLessThanOrEqual(16);

    // Third page: a restarted producer (counts went down) -> the new totals are used, no negative counts.
    page = histogram({ sampleCount: 1, sampleSum: 0.7, schema: 0, zeroThreshold: 1e-128, positiveSpan: [{ offset: 0, length: 1 }], positiveDelta: [1] });
    await harness.collect();
    expect(sink.last('rpc_duration_seconds.p50', { svc: 'db' })).toBeGreaterThan(0.5);
    expect(sink.last('rpc_duration_seconds.p50', { svc: 'db' })).toBeLessThanOrEqual(1);
  });

  it('reads float histograms (absolute counts) and negative buckets', async () => {
    const h = histogram({ sampleCountFloat: 4, sampleSum: -1, schema: 0, zeroThreshold: 0.001, zeroCountFloat: 1, negativeSpan: [{ offset: 1, length: 1 }], negativeCount: [2], positiveSpan: [{ offset: 1, length: 1 }], positiveCount: [1] });
    const s = await producer(() => delimited([{ name: 'temp_delta', type: MetricType.GAUGE_HISTOGRAM, metric: [metric({ histogram: h })] }]));
    harness = await startCollector(prometheusCollectorFactory, { config: { url: s.url } });
    await harness.collect();
    expect(harness.sink.last('temp_delta.count')).toBe(4);
    // 2 values in [-2, -1), 1 at zero, 1 in (1, 2]: the median falls at the top of the negative bucket
    const p50 = harness.sink.last('temp_delta.p50')!;
    expect(p50).toBeGreaterThanOrEqual(-2);
    expect(p50).toBeLessThanOrEqual(0);
  });

  it('keeps what it read before a truncated or corrupt message, reports degraded, never throws', async () => {
    const good = delimited(classic.slice(0, 2));
    let body = Buffer.concat([good, Buffer.from([0x80, 0x80, 0x04, 0x0a, 0x01])]);
    const s = await producer(() => body);
    harness = await startCollector(prometheusCollectorFactory, { config: { url: s.url } });
    await harness.collect();
    expect(harness.sink.last('up')).toBe(1);
    expect(harness.sink.last('app_requests_total')).toBe(41);
    expect(harness.lastStatus()).toMatchObject({ state: 'degraded', message: expect.stringContaining('cannot decode protobuf MetricFamily') });
    expect(harness.metrics.counters.malformed_lines_total).toBeGreaterThan(0);

    // spans that claim more buckets than counts, and an absurd schema: that histogram is skipped, the rest kept
    const bad = histogram({ sampleCount: 3, schema: 0, zeroThreshold: 1e-128, positiveSpan: [{ offset: 0, length: 5 }], positiveDelta: [1] });
    const badSchema = histogram({ sampleCount: 3, schema: 100, zeroThreshold: 1e-128, positiveSpan: [{ offset: 0, length: 1 }], positiveDelta: [3] });
    body = delimited([{ name: 'h1', type: MetricType.HISTOGRAM, metric: [metric({ histogram: bad }), metric({ label: [{ name: 'x', value: 'y' }], histogram: badSchema })] }, classic[1]]);
    await harness.collect();
    expect(harness.sink.of('h1.p50')).toEqual([]);
    expect(harness.sink.last('app_inflight')).toBe(7);
    expect(harness.lastStatus()).toMatchObject({ state: 'degraded', message: expect.stringMatching(/spans cover 5 buckets but 1 counts/) });

    // random bytes
    body = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) % 251));
    await harness.collect();
    expect(harness.sink.last('up')).toBe(1);
  });

  it('writes le and quantile bounds as Go does', () => {
    expect([0.005, 0.25, 1, 10, 100000, 1e6, 1.5e7, 0.0001, 0.00001, Infinity, -Infinity].map(formatBound)).toEqual(['0.005', '0.25', '1', '10', '100000', '1e+06', '1.5e+07', '0.0001', '1e-05', '+Inf', '-Inf']);
  });
});
