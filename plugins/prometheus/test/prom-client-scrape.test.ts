/**
 * Scrapes a real exporter: a Node HTTP server whose page is rendered by prom-client, the library most
 * Node services expose Prometheus metrics with, in both the text format and OpenMetrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { startCollector } from '@sextant/testkit';
import { prometheusCollectorFactory } from '../src/index.js';
import { serve, type TestServer } from './http-fixture.js';

let server: TestServer;

/** One registry per format: prom-client renames counters in place when a registry renders OpenMetrics. */
function exporterRegistry(openMetrics: boolean) {
  const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE | typeof Registry.PROMETHEUS_CONTENT_TYPE>();
  registry.setContentType(openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
  const requests = new Counter({ name: 'app_requests_total', help: 'Requests served', labelNames: ['method', 'code'], registers: [registry] });
  const inflight = new Gauge({ name: 'app_inflight_requests', help: 'Requests in flight', registers: [registry] });
  const latency = new Histogram({ name: 'app_request_duration_seconds', help: 'Request latency', buckets: [0.1, 0.5, 1], labelNames: ['route'], registers: [registry] });
  const sizes = new Summary({ name: 'app_response_size_bytes', help: 'Response sizes', percentiles: [0.5, 0.9], registers: [registry] });
  requests.inc({ method: 'get', code: '200' }, 41);
  requests.inc({ method: 'post', code: '500' }, 2);
  inflight.set(7);
  for (const v of [0.05, 0.2, 0.3, 0.7, 2]) latency.observe({ route: '/api' }, v);
  for (const v of [100, 200, 300, 400, 500]) sizes.observe(v);
  return { registry, requests };
}
const text = exporterRegistry(false);
const om = exporterRegistry(true);
let openMetrics = false;
const requests = text.requests;

beforeAll(async () => {
  server = await serve(async (_req, res) => {
    const { registry } = openMetrics ? om : text;
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });
});
afterAll(() => server?.close());

describe.each([false, true])('prom-client exporter (openMetrics=%s)', (useOm) => {
  it('maps counters, gauges, histogram buckets and summary quantiles, with up and scrape duration', async () => {
    openMetrics = useOm;
    const h = await startCollector(prometheusCollectorFactory, { config: { url: server.url, job: 'shop' } });
    try {
      await h.collect();
      expect(h.lastStatus()).toMatchObject({ state: 'ok' });
      const s = h.sink;
      expect(s.last('app_requests_total', { method: 'get', code: '200' })).toBe(41);
      expect(s.last('app_requests_total', { method: 'post', code: '500' })).toBe(2);
      expect(s.last('app_inflight_requests')).toBe(7);
      // the histogram stays buckets: one series per le, cumulative, plus _sum and _count
      const buckets = s.of('app_request_duration_seconds_bucket').map((r) => [r.attributes.le, r.value]);
      expect(buckets).toEqual([['0.1', 1], ['0.5', 3], ['1', 4], ['+Inf', 5]]);
      expect(s.last('app_request_duration_seconds_count')).toBe(5);
      expect(s.last('app_request_duration_seconds_sum')).toBeCloseTo(3.25);
      const bucket = s.of('app_request_duration_seconds_bucket')[0];
      expect(bucket).toMatchObject({ type: 'counter', unit: 's', attributes: { route: '/api', le: '0.1' } });
      expect(bucket.description).toBe('Request latency [prometheus histogram bucket]');
      expect(s.of('app_requests_total')[0]).toMatchObject({ type: 'counter', description: 'Requests served [prometheus counter]' });
      expect(s.of('app_inflight_requests')[0]).toMatchObject({ type: 'gauge', description: 'Requests in flight [prometheus gauge]' });
      // summary: quantile series are gauges
      expect(s.last('app_response_size_bytes', { quantile: '0.5' })).toBe(300);
      expect(s.of('app_response_size_bytes')[0]).toMatchObject({ type: 'gauge', unit: 'By', description: 'Response sizes [prometheus summary quantile]' });
      expect(s.last('app_response_size_bytes_count')).toBe(5);
      // the target's resource and synthetic series
      expect(s.of('up')[0]).toMatchObject({ value: 1, kind: 'availability', resource: { 'service.name': 'shop', 'service.instance.id': new URL(server.url).host } });
      expect(s.last('scrape_duration_seconds')).toBeGreaterThan(0);
      expect(s.last('scrape_samples_scraped')).toBe(s.last('scrape_samples_post_metric_relabeling'));
      expect(s.last('scrape_samples_scraped')).toBeGreaterThan(10);
      // the request asked for protobuf first, then OpenMetrics (prom-client answers with text)
      expect(server.requests.at(-1)?.headers.accept).toMatch(/^application\/vnd\.google\.protobuf;.*,application\/openmetrics-text;version=1\.0\.0/);
    } finally {
      await h.shutdown();
    }
  });
});

describe('second scrape', () => {
  it('reuses series ids and sees new values', async () => {
    openMetrics = false;
    const h = await startCollector(prometheusCollectorFactory, { config: { url: server.url } });
    try {
      await h.collect();
      const size = h.sink.size;
      requests.inc({ method: 'get', code: '200' }, 9);
      await h.collect();
      expect(h.sink.size).toBe(size);
      expect(h.sink.of('app_requests_total', { method: 'get', code: '200' }).map((r) => r.value)).toEqual([41, 50]);
    } finally {
      await h.shutdown();
    }
  });

  it('keeps and drops by glob and /regex/', async () => {
    const h = await startCollector(prometheusCollectorFactory, { config: { url: server.url, keep: ['app_*', '/^up$/'], drop: ['/_bucket$/', 'app_response_*'] } });
    try {
      await h.collect();
      expect(h.sink.metrics()).toEqual([
        'app_inflight_requests',
        'app_request_duration_seconds_count',
        'app_request_duration_seconds_sum',
        'app_requests_total',
        'scrape_duration_seconds',
        'scrape_samples_post_metric_relabeling',
        'scrape_samples_scraped',
        'up',
      ]);
      expect(h.sink.last('scrape_samples_post_metric_relabeling')).toBeLessThan(h.sink.last('scrape_samples_scraped')!);
    } finally {
      await h.shutdown();
    }
  });
});
