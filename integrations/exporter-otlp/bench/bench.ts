/**
 * Benchmark of the OTLP export path (`npm run bench -- --only otlp`). `run()` returns:
 *
 * - otlpEncodePointsPerSec: exportSamples into the in-memory queue — grouping by resource and
 *   metric, protobuf encoding, gzip — per CPU second; 10k series, batches of 10k samples with
 *   signals (expected, band, state) on every sample, each signal counted as a point.
 * - otlpHttpPointsPerSec: the same plus delivery over loopback OTLP/HTTP to a local receiver that
 *   reads each body and answers 200, per CPU second of this process (the receiver's share included).
 * - otlpHttpDiskQueuePointsPerSec: the same with the queue on disk (a temporary data directory), as
 *   an instance with a dataDir runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ExporterContext, SeriesDescriptor } from '@sextant/plugin-api';
import { otlpExporterConfigDefaults, type OtlpExporterConfig } from '../src/config.js';
import { OtlpExporter } from '../src/otlp-exporter.js';

const SERIES = 10_000;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function context(endpoint: string, counts: { sent: number; points: number }, dataDir?: string): ExporterContext<OtlpExporterConfig> {
  const descriptors: SeriesDescriptor[] = Array.from({ length: SERIES }, (_, i) => ({
    metric: 'http.server.request.duration',
    unit: 's',
    type: 'gauge',
    resource: { 'service.name': `svc-${i % 50}`, 'service.instance.id': `pod-${i % 500}`, 'host.name': `node-${i % 20}` },
    attributes: { 'http.route': `/api/v1/items/${i % 200}`, 'http.response.status_code': 200 },
  }));
  return {
    config: { ...(otlpExporterConfigDefaults as OtlpExporterConfig), endpoint, queueMaxBytes: 1 << 30 },
    instanceId: 'otlp/bench',
    dataDir,
    signal: new AbortController().signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    clock: { now: () => Date.now(), setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
    status: { set() {} },
    metrics: {
      counter: (name) => ({ add: (v) => void (name === 'otlp_requests_sent_total' ? (counts.sent += v) : name === 'otlp_points_queued_total' ? (counts.points += v) : 0) }),
      gauge: () => ({ set() {} }),
    },
    catalog: { describe: (id) => descriptors[id], size: SERIES },
  } as ExporterContext<OtlpExporterConfig>;
}

function batch(round: number) {
  const n = SERIES;
  const b = { length: n, series: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
  const e = { expected: new Float64Array(n).fill(0.5), lower: new Float64Array(n).fill(0.1), upper: new Float64Array(n).fill(0.9), state: new Uint8Array(n).fill(3) };
  for (let i = 0; i < n; i++) {
    b.series[i] = i;
    b.timestamps[i] = 1_700_000_000_000 + round * 15_000;
    b.values[i] = ((i * 7 + round) % 1000) / 1000;
  }
  return { b, e };
}

export async function run(rounds = 20): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  // encode only: a dead endpoint, the sender never gets anything through
  {
    const counts = { sent: 0, points: 0 };
    const x = new OtlpExporter(context('http://127.0.0.1:9', counts));
    const data = Array.from({ length: rounds }, (_, r) => batch(r));
    x.exportSamples(data[0]!.b, data[0]!.e); // warm-up: per-series caches
    counts.points = 0;
    const c0 = cpuMs();
    for (const { b, e } of data) x.exportSamples(b, e);
    result.otlpEncodePointsPerSec = Math.round(counts.points / ((cpuMs() - c0) / 1000));
    await x.shutdown();
  }
  // end to end over loopback HTTP, with the queue in memory and on disk
  for (const disk of [false, true]) {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/x-protobuf');
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dataDir = disk ? mkdtempSync(join(tmpdir(), 'sextant-otlp-bench-')) : undefined;
    const counts = { sent: 0, points: 0 };
    const x = new OtlpExporter(context(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts, dataDir));
    x.start();
    const c0 = cpuMs();
    for (let r = 0; r < rounds; r++) {
      const { b, e } = batch(r);
      x.exportSamples(b, e);
    }
    while (x.pending.requests > 0) await new Promise((r) => setTimeout(r, 5));
    const pointsPerSec = Math.round(counts.points / ((cpuMs() - c0) / 1000));
    if (disk) result.otlpHttpDiskQueuePointsPerSec = pointsPerSec;
    else {
      result.otlpHttpPointsPerSec = pointsPerSec;
      result.otlpHttpRequests = counts.sent;
    }
    await x.shutdown();
    await new Promise((r) => server.close(r));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run()));
