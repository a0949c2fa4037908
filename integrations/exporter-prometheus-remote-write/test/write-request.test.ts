/** The hand-encoded WriteRequest decodes with the package's own .proto (protobufjs) to what was meant. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { uncompress, compress } from 'snappyjs';
import { WriteRequestEncoder, encodeLabels, metricName, seriesLabels } from '../src/index.js';

const root = await protobuf.load(fileURLToPath(new URL('../proto/remote-write.proto', import.meta.url)));
const WriteRequest = root.lookupType('sextant.remotewrite.v1.WriteRequest');

describe('WriteRequestEncoder', () => {
  it('encodes time series with sorted labels and samples that decode with remote-write.proto', () => {
    const d = { resource: { 'service.name': 'shop', 'service.instance.id': 'shop-1', 'host.name': 'h1', empty: '' }, attributes: { 'http.route': '/cart', 'service.name': 'x' } };
    const labels = seriesLabels(metricName('shop.orders'), d, { cluster: 'eu' });
    expect(labels.map(([k]) => k)).toEqual(['__name__', 'cluster', 'host_name', 'http_route', 'instance', 'job']);
    const enc = new WriteRequestEncoder();
    const block = encodeLabels(labels);
    enc.add(block, 1.5, 1_700_000_000_123.4);
    enc.add(block, -Infinity, 1_700_000_001_000);
    expect(enc.samples).toBe(2);
    const bytes = uncompress(compress(enc.finish()));
    expect(enc.samples).toBe(0);
    const decoded = WriteRequest.toObject(WriteRequest.decode(bytes), { longs: Number }) as { timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[] };
    expect(decoded.timeseries).toHaveLength(2);
    expect(decoded.timeseries[0].labels).toEqual(labels.map(([name, value]) => ({ name, value })));
    // a point attribute wins over the resource
    expect(decoded.timeseries[0].labels.find((l) => l.name === 'job')?.value).toBe('x');
    expect(decoded.timeseries.map((t) => t.samples)).toEqual([[{ value: 1.5, timestamp: 1_700_000_000_123 }], [{ value: -Infinity, timestamp: 1_700_000_001_000 }]]);
  });

  it('makes metric and label names Prometheus accepts', () => {
    expect(metricName('system.cpu.utilization')).toBe('system_cpu_utilization');
    expect(metricName('http_requests_total')).toBe('http_requests_total');
    expect(metricName('9lives')).toBe('_9lives');
    expect(seriesLabels('m', { resource: { 'k8s.pod.name': 'p', 'a:b': 'c' }, attributes: {} }).map(([k]) => k)).toEqual(['__name__', 'a_b', 'k8s_pod_name']);
  });
});

describe('SnappyBlockCompressor', () => {
  it('gives exactly what snappyjs compress() gives, across reuse and buffer growth, and each result stays valid', async () => {
    const { SnappyBlockCompressor } = await import('../src/snappy-block.js');
    const snappy = new SnappyBlockCompressor();
    const inputs = [0, 1, 100, 70_000, 10, 300_000, 65_536, 5].map((n) => Uint8Array.from({ length: n }, (_, i) => (i % 97 < 50 ? 7 : (i * 31) % 256)));
    const outputs = inputs.map((input) => snappy.compress(input));
    inputs.forEach((input, i) => {
      expect(Buffer.from(outputs[i]).equals(Buffer.from(compress(input)))).toBe(true);
      expect(Buffer.from(uncompress(outputs[i])).equals(Buffer.from(input))).toBe(true);
    });
  });
});
