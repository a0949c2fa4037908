/**
 * Benchmark of the remote-write path, wired into tools/bench. `run()` returns:
 *
 * - remoteWriteEncodeSamplesPerSec: exportSamples into a memory queue — label-block cache,
 *   protobuf encoding, snappy — one core; 10k series, batches of 10k samples, 5,000 per request.
 * - remoteWriteSamplesPerSec: the same plus delivery over loopback HTTP to a local receiver that
 *   reads each body and answers 204, per CPU second of this process (the receiver's share
 *   included), with signals (expected, band, state) on every sample counted as samples too.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExporterContext, SeriesDescriptor } from '@sextant/plugin-api';
import { remoteWriteConfigDefaults, type RemoteWriteConfig } from '../src/config.js';
import { RemoteWriteExporter } from '../src/remote-write-exporter.js';

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const SERIES = 10_000;

function context(url: string, signals: boolean): ExporterContext<RemoteWriteConfig> {
  const descriptors: SeriesDescriptor[] = Array.from({ length: SERIES }, (_, i) => ({
    metric: 'http.server.request.duration',
    unit: 's',
    type: 'gauge',
    resource: { 'service.name': `svc-${i % 50}`, 'service.instance.id': `pod-${i % 500}`, 'host.name': `node-${i % 20}` },
    attributes: { 'http.route': `/api/v1/items/${i % 200}`, 'http.response.status_code': 200 },
  }));
  let sent = 0;
  return {
    config: { ...(remoteWriteConfigDefaults as RemoteWriteConfig), url, signals, queue: { maxBytes: 1 << 30, segmentBytes: 8 << 20 } },
    instanceId: 'prometheus-remote-write/bench', dataDir: undefined, signal: new AbortController().signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    clock: { now: () => Date.now(), setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
    status: { set() {} },
    metrics: { counter: (name) => ({ add: (v) => void (name === 'remote_write_requests_sent_total' && (sent += v)) }), gauge: () => ({ set() {} }) },
    catalog: { describe: (id) => descriptors[id], size: SERIES },
    get sentRequests() { return sent; },
  } as ExporterContext<RemoteWriteConfig>;
}

function batch(round: number) {
  const n = SERIES;
  const b = { length: n, series: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
  const e = { expected: new Float64Array(n), lower: new Float64Array(n), upper: new Float64Array(n), state: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    b.series[i] = i;
    b.timestamps[i] = 1_700_000_000_000 + round * 15_000;
    b.values[i] = (i * 7 + round) % 1000 / 1000;
    e.expected[i] = 0.5;
    e.lower[i] = 0.1;
    e.upper[i] = 0.9;
    e.state[i] = 3;
  }
  return { b, e };
}

export async function run(): Promise<Record<string, number>> {
  // encode only: memory queue, nothing listening (the sender is not started)
  const enc = new RemoteWriteExporter(context('http://127.0.0.1:9/api/v1/write', false));
  const { b } = batch(0);
  for (let i = 0; i < 5; i++) enc.exportSamples(b, undefined);
  let samples = 0;
  let t0 = cpuMs();
  while (cpuMs() - t0 < 1500) {
    enc.exportSamples(b, undefined);
    samples += b.length;
  }
  const remoteWriteEncodeSamplesPerSec = Math.round(samples / ((cpuMs() - t0) / 1000));
  await enc.shutdown();

  // end to end over loopback, with signals
  let received = 0;
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      received++;
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  const ctx = context(url, true);
  const x = new RemoteWriteExporter(ctx);
  x.start();
  const perBatch = SERIES * 5; // the sample + expected, lower, upper, state
  const perRound = Math.ceil(perBatch / ctx.config.maxSamplesPerSend);
  // warm-up: label blocks of every series and signal are built once, as in steady state
  for (let r = 0; r < 3; r++) x.exportSamples(batch(r).b, batch(r).e);
  while (received < 3 * perRound) await new Promise((r) => setTimeout(r, 1));
  const rounds = 30;
  const batches = Array.from({ length: rounds }, (_, r) => batch(r + 3));
  const requests = perRound * (rounds + 3);
  t0 = cpuMs();
  for (const { b: bb, e } of batches) x.exportSamples(bb, e);
  while (received < requests) await new Promise((r) => setTimeout(r, 1));
  const remoteWriteSamplesPerSec = Math.round((perBatch * rounds) / ((cpuMs() - t0) / 1000));
  await x.shutdown();
  await new Promise((r) => server.close(r));
  return { remoteWriteEncodeSamplesPerSec, remoteWriteSamplesPerSec };
}
