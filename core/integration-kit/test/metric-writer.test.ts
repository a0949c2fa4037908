import { describe, expect, it } from 'vitest';
import { FakeClock, RecordingLogger, RecordingMetrics, RecordingSink } from '@sextant/testkit';
import { MetricWriter, type MetricSpec } from '../src/index.js';

const requests: MetricSpec = { name: 'demo.requests', unit: '{request}/s', type: 'rate', kind: 'throughput', description: 'Requests per second.', attributes: ['method', 'status'] };
const memory: MetricSpec = { name: 'demo.memory', unit: 'By', type: 'gauge', description: 'Memory in use.' };

function setup(maxSeries?: number) {
  const sink = new RecordingSink(new FakeClock(0), maxSeries);
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const writer = new MetricWriter({ sink, metrics, logger }, { resource: { 'service.name': 'demo' } });
  return { sink, metrics, logger, writer };
}

describe('MetricWriter', () => {
  it('reuses one series per metric and attribute values, whatever order the attributes come in', () => {
    const { sink, writer } = setup();
    writer.gauge(requests, { method: 'GET', status: '200' }, 1, 1000);
    writer.gauge(requests, { status: '200', method: 'GET' }, 2, 2000);
    writer.gauge(requests, { method: 'POST', status: '200' }, 3, 2000);
    writer.gauge(memory, {}, 42, 2000);
    sink.flush();
    expect(sink.size).toBe(3);
    expect(sink.of('demo.requests', { method: 'GET' }).map((s) => s.value)).toEqual([1, 2]);
    expect(sink.descriptors[0]).toMatchObject({ metric: 'demo.requests', unit: '{request}/s', type: 'rate', kind: 'throughput', resource: { 'service.name': 'demo' }, attributes: { method: 'GET', status: '200' } });
    expect(writer.known(requests).map((k) => k.attributes.method)).toEqual(['GET', 'POST']);
  });

  it('writes per-second rates of a counter, and no rate for the reading after a reset or forgetRates()', () => {
    const { sink, writer } = setup();
    const at = { method: 'GET', status: '200' };
    expect(writer.rate(requests, at, 100, 0)).toBeUndefined();
    expect(writer.rate(requests, at, 150, 10_000)).toBe(5);
    expect(writer.rate(requests, at, 20, 20_000)).toBeUndefined(); // counter went back: restart
    expect(writer.rate(requests, at, 120, 30_000)).toBe(10);
    writer.forgetRates();
    expect(writer.rate(requests, at, 5000, 40_000)).toBeUndefined(); // no inflated rate after a restart we noticed
    expect(writer.rate(requests, at, 5010, 50_000)).toBe(1);
    sink.flush();
    expect(sink.of('demo.requests').map((s) => s.value)).toEqual([5, 10, 1]);
    expect(sink.size).toBe(1);
  });

  it('counts series refused by the sink limit instead of throwing, and keeps writing the known ones', () => {
    const { sink, metrics, logger, writer } = setup(2);
    expect(writer.gauge(memory, {}, 1, 1000)).toBe(true);
    expect(writer.gauge(requests, { method: 'GET', status: '200' }, 1, 1000)).toBe(true);
    expect(writer.gauge(requests, { method: 'PUT', status: '200' }, 1, 1000)).toBe(false);
    expect(writer.rate(requests, { method: 'HEAD', status: '200' }, 1, 1000)).toBeUndefined();
    expect(writer.gauge(memory, {}, 2, 2000)).toBe(true);
    sink.flush();
    expect(metrics.counters.series_limited_total).toBe(2);
    expect(sink.of('demo.memory').map((s) => s.value)).toEqual([1, 2]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]); // the limit is expected, not a warning
  });

  it('refuses new series beyond the collector\'s own cap, into the counter the collector passed, and keeps the known ones', () => {
    const { sink, logger } = setup();
    const metrics = new RecordingMetrics();
    const seriesLimited = metrics.counter('series_limited_total');
    const perMethod = { applies: (spec: MetricSpec) => spec === requests, max: 2 };
    const writer = new MetricWriter({ sink, metrics, logger }, { resource: {}, seriesLimited, limits: [perMethod] });
    writer.gauge(requests, { method: 'GET', status: '200' }, 1, 1000);
    writer.gauge(requests, { method: 'PUT', status: '200' }, 1, 1000);
    expect(writer.gauge(requests, { method: 'DELETE', status: '200' }, 1, 1000)).toBe(false);
    expect(writer.gauge(requests, { status: '200', method: 'GET' }, 2, 2000)).toBe(true);
    expect(writer.gauge(memory, {}, 1, 1000)).toBe(true); // the cap does not apply to it
    seriesLimited.add(3); // the collector's own refusals go into the same counter
    expect(metrics.counters.series_limited_total).toBe(4);
    expect(sink.size).toBe(3);
  });

  it('warns once per metric when the sink fails for another reason than the limit', () => {
    const logger = new RecordingLogger();
    const metrics = new RecordingMetrics();
    const sink = { series: () => { throw new Error('broken sink'); }, sample: () => undefined, event: () => undefined, topology: () => undefined, flush: () => undefined };
    const writer = new MetricWriter({ sink, metrics, logger }, { resource: {} });
    writer.gauge(memory, {}, 1, 1000);
    writer.gauge(memory, {}, 1, 2000);
    expect(metrics.counters.series_limited_total).toBe(2);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringContaining('cannot create series demo.memory')]);
  });
});
