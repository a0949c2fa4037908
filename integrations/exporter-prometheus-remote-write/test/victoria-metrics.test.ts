/**
 * A second real receiver: VictoriaMetrics (Debian's `victoria-metrics`), single-node, on an
 * ephemeral loopback port with its own storage. Its /api/v1/write takes remote write 1.0 and its
 * /api/v1/query speaks PromQL (MetricsQL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingLogger, RecordingMetrics, freePort, needBinary, resolveConfig, systemClock } from '@sextant/testkit';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { RemoteWriteExporter, remoteWriteExporterFactory } from '../src/index.js';

let child: ChildProcess | undefined;
let dir: string | undefined;
let exporter: RemoteWriteExporter | undefined;
afterAll(async () => {
  await exporter?.shutdown();
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('remote write to a real VictoriaMetrics', () => {
  it('delivers the series and its signals, queryable by PromQL', async (ctx) => {
    const binary = needBinary(ctx, 'victoria-metrics', 'apt-get install victoria-metrics');
    dir = await mkdtemp(join(tmpdir(), 'sextant-rw-vm-'));
    const port = await freePort();
    child = spawn(binary, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${join(dir, 'data')}`], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && !(await fetch(`${base}/health`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));

    const config = await resolveConfig(remoteWriteExporterFactory, { url: `${base}/api/v1/write`, backoff: { initial: 50, max: 200 } });
    const series: SeriesDescriptor[] = [{ metric: 'queue.depth', unit: '1', type: 'gauge', resource: { 'service.name': 'mailer' }, attributes: { queue: 'outbound' } }];
    exporter = new RemoteWriteExporter({
      config, metrics: new RecordingMetrics(), logger: new RecordingLogger(), clock: systemClock, status: { set() {} }, dataDir: undefined,
      instanceId: 'prometheus-remote-write/vm', signal: new AbortController().signal, catalog: { describe: (id) => series[id], size: 1 },
    });
    exporter.start();
    const start = Date.now() - 20 * 60_000;
    const n = 30;
    const b = { length: n, series: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
    const e = { expected: new Float64Array(n).fill(5), lower: new Float64Array(n).fill(2), upper: new Float64Array(n).fill(8), state: new Uint8Array(n).fill(3) };
    for (let i = 0; i < n; i++) {
      b.timestamps[i] = start + i * 10_000;
      b.values[i] = i;
    }
    exporter.exportSamples(b, e);

    const query = async (q: string) => {
      await fetch(`${base}/internal/force_flush`);
      const body = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data.result;
    };
    let result: Awaited<ReturnType<typeof query>> = [];
    for (let i = 0; i < 100 && result.length === 0; i++) {
      result = await query('count_over_time(queue_depth[1h])');
      if (result.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(result).toEqual([{ metric: { job: 'mailer', queue: 'outbound' }, value: [expect.any(Number), String(n)] }]);
    expect((await query('max_over_time(sextant_band_upper{sextant_metric="queue_depth"}[1h])'))[0]?.value[1]).toBe('8');
  }, 60_000);
});
