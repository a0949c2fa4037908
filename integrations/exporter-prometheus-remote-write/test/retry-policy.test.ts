/**
 * Retry policy against a strict stand-in receiver that follows the remote-write 1.0 contract
 * (snappy + protobuf body, the three required headers) and answers with scripted statuses:
 * 5xx and 429 are retried until accepted, other 4xx are dropped and counted, never retried.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { uncompress } from 'snappyjs';
import { RecordingLogger, RecordingMetrics, resolveConfig, systemClock, type StatusChange } from '@sextant/testkit';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { RemoteWriteExporter, remoteWriteExporterFactory } from '../src/index.js';

interface StandIn {
  url: string;
  bodies: Uint8Array[];
  statuses: number[];
  server: Server;
}

async function standIn(script: number[]): Promise<StandIn> {
  const s: StandIn = { url: '', bodies: [], statuses: [], server: undefined as never };
  s.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ok = req.headers['content-encoding'] === 'snappy' && req.headers['content-type'] === 'application/x-protobuf' && req.headers['x-prometheus-remote-write-version'] === '0.1.0';
      const status = ok ? (script.shift() ?? 204) : 415;
      s.statuses.push(status);
      if (status < 300) s.bodies.push(uncompress(new Uint8Array(Buffer.concat(chunks))));
      if (status === 429) res.setHeader('retry-after', '0');
      res.statusCode = status;
      res.end(status >= 400 ? `status ${status}` : '');
    });
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}/api/v1/write`;
  return s;
}

const servers: Server[] = [];
const exporters: RemoteWriteExporter[] = [];
afterEach(async () => {
  for (const e of exporters.splice(0)) await e.shutdown();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function exporter(url: string, extra: Record<string, unknown> = {}) {
  const config = await resolveConfig(remoteWriteExporterFactory, { url, backoff: { initial: 10, max: 40 }, ...extra });
  const statuses: StatusChange[] = [];
  const metrics = new RecordingMetrics();
  const series: SeriesDescriptor[] = [{ metric: 'shop.orders', unit: '1', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: {} }];
  const e = new RemoteWriteExporter({
    config, metrics, instanceId: 'prometheus-remote-write/test', logger: new RecordingLogger(), clock: systemClock, dataDir: undefined,
    signal: new AbortController().signal,
    status: { set: (state, message, code) => void statuses.push({ state, message, code }) },
    catalog: { describe: (id) => series[id], size: series.length },
  });
  e.start();
  exporters.push(e);
  const send = (value: number) => e.exportSamples({ length: 1, series: new Uint32Array([0]), timestamps: new Float64Array([1_700_000_000_000 + value]), values: new Float64Array([value]) }, undefined);
  return { e, statuses, metrics, send };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

describe('retry policy', () => {
  it('retries 5xx and 429 with backoff until accepted, in order, then reports ok', async () => {
    const s = await standIn([503, 500, 429]);
    servers.push(s.server);
    const x = await exporter(s.url);
    x.send(1);
    x.send(2);
    await until(() => s.bodies.length === 2);
    expect(s.statuses).toEqual([503, 500, 429, 204, 204]);
    expect(x.metrics.counters.remote_write_request_failures_total).toBe(3);
    expect(x.metrics.counters.remote_write_requests_sent_total).toBe(2);
    expect(x.statuses.map((st) => st.state)).toEqual(['degraded', 'degraded', 'degraded', 'ok']);
    expect(x.statuses[0].message).toContain('HTTP 503: status 503');
  });

  it('drops a request the receiver refuses with 400, counts it, and goes on with the next', async () => {
    const s = await standIn([400]);
    servers.push(s.server);
    const x = await exporter(s.url);
    x.send(1);
    x.send(2);
    await until(() => s.bodies.length === 1);
    expect(s.statuses).toEqual([400, 204]);
    expect(x.metrics.counters.remote_write_requests_rejected_total).toBe(1);
    expect(x.statuses[0]).toMatchObject({ state: 'degraded', message: expect.stringContaining('refused a request (dropped, not retried): HTTP 400') });
  });

  it('keeps retrying a dead receiver without losing what is queued', async () => {
    const s = await standIn([]);
    const url = s.url;
    await new Promise((r) => s.server.close(r));
    const x = await exporter(url);
    x.send(1);
    await until(() => (x.metrics.counters.remote_write_request_failures_total ?? 0) >= 3);
    expect(x.statuses.at(-1)).toMatchObject({ state: 'degraded', message: expect.stringMatching(/ECONNREFUSED; \d+ bytes queued, retrying/) });
    expect(x.metrics.gauges.remote_write_queue_bytes).toBeGreaterThan(0);
  });
});
