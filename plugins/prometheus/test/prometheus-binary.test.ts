/**
 * Scrapes the real Prometheus server's own /metrics (Debian's `prometheus` 2.42): a large,
 * real-world page written by the Go client library (client_golang), with histograms, summaries,
 * counters, gauges and escaped HELP texts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, needBinary, startCollector } from '@sextant/testkit';
import { prometheusCollectorFactory } from '../src/index.js';

let child: ChildProcess | undefined;
let dir: string | undefined;

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startPrometheus(binary: string): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'sextant-prometheus-'));
  await writeFile(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  child = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) return url;
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('prometheus did not become ready within 20 s');
}

describe('real Prometheus server /metrics', () => {
  it('parses the whole page with no malformed line, keeping histograms as buckets and summaries as quantiles', async (ctx) => {
    const binary = needBinary(ctx, 'prometheus', 'apt-get install prometheus');
    base = await startPrometheus(binary);
    const h = await startCollector(prometheusCollectorFactory, { config: { url: `${base}/metrics`, job: 'prometheus' } });
    try {
      await h.collect();
      // client_golang answers the Accept header with the native protobuf format
      const answer = await fetch(`${base}/metrics`, { headers: { accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited' } });
      await answer.arrayBuffer();
      expect(answer.headers.get('content-type')).toMatch(/^application\/vnd\.google\.protobuf/);
      expect(h.metrics.counters.malformed_lines_total ?? 0).toBe(0);
      expect(h.lastStatus()).toMatchObject({ state: 'ok' });
      expect(h.sink.last('up')).toBe(1);
      expect(h.sink.last('scrape_samples_scraped')).toBeGreaterThan(200);
      // a client_golang histogram, bucket by bucket, cumulative
      const buckets = h.sink.of('prometheus_http_request_duration_seconds_bucket');
      expect(buckets.length).toBeGreaterThan(5);
      expect(buckets.some((b) => b.attributes.le === '+Inf')).toBe(true);
      expect(buckets[0]).toMatchObject({ type: 'counter', unit: 's', description: expect.stringContaining('[prometheus histogram bucket]') });
      // a summary, by quantile
      const gc = h.sink.of('go_gc_duration_seconds');
      expect(gc.map((s) => s.attributes.quantile)).toEqual(expect.arrayContaining(['0', '0.25', '0.5', '0.75', '1']));
      expect(gc[0].description).toContain('[prometheus summary quantile]');
      expect(h.sink.of('prometheus_build_info')[0]).toMatchObject({ value: 1, attributes: { version: expect.stringMatching(/^2\.42/) } });
      expect(h.sink.of('process_start_time_seconds')[0]).toMatchObject({ type: 'gauge', unit: 's' });
    } finally {
      await h.shutdown();
    }
  });

  it('the same page scraped as protobuf and as text gives the same series (le and quantile spelled alike)', async (ctx) => {
    needBinary(ctx, 'prometheus', 'apt-get install prometheus');
    const url = `${await startedPrometheus()}/metrics`;
    const seriesOf = async (protobuf: boolean): Promise<Set<string>> => {
      const h = await startCollector(prometheusCollectorFactory, { config: { url, job: 'prometheus', protobuf } });
      try {
        await h.collect();
        expect(h.lastStatus()).toMatchObject({ state: 'ok' });
        // families that appear or change shape between two scrapes of a live server are left out
        return new Set(h.sink.samples.filter((r) => /^(go_|prometheus_http_request_duration_seconds|prometheus_build_info|process_start)/.test(r.metric)).map((r) => `${r.metric}${JSON.stringify(r.attributes)}`));
      } finally {
        await h.shutdown();
      }
    };
    const text = await seriesOf(false);
    const protobuf = await seriesOf(true);
    expect(text.size).toBeGreaterThan(50);
    expect([...protobuf].filter((k) => !text.has(k))).toEqual([]);
  });
});

/** The server the first test started, or a new one when that test was skipped or run alone. */
async function startedPrometheus(): Promise<string> {
  return base ??= await startPrometheus('prometheus');
}
let base: string | undefined;
