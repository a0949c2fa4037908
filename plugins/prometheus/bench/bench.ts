/**
 * Benchmark of the scrape hot path, wired into tools/bench. `run()` returns machine-readable figures:
 *
 * - promParseSamplesPerSec: parseExposition alone over a realistic page (histograms, labelled
 *   counters, summaries; 10k samples), one core.
 * - promScrapeSamplesPerSec: a whole scrape round after the first (parse + series-cache lookup +
 *   staging + sink write), one core, no network.
 * - promTargetsCpuPercentOfCore: CPU share of one core for 1,000 targets x 1,000 series at a 15 s
 *   interval, extrapolated from the measured per-sample cost of a scrape round (fetch excluded).
 * - promScrapeCpuMsPer1kSeries / promTargetsWithFetchCpuPercentOfCore: the same with real scrapes
 *   over loopback HTTP of a 1,000-sample page served by a child process (collect(): fetch,
 *   decode, parse, write; only this process' CPU is counted).
 * - promFetchBaselineCpuMsPer1kSeries / promFetchBaselineCpuPercentOfCore: the previous HTTP path
 *   (WHATWG fetch with AbortSignal.any + AbortSignal.timeout, then the same parse and write),
 *   measured interleaved with the live scrapes above so both see the same machine load.
 */
import { spawn } from 'node:child_process';
import type { CollectorContext, SeriesDescriptor, TelemetrySink } from '@sextant/plugin-api';
import { prometheusConfigDefaults, type PrometheusConfig } from '../src/config.js';
import { parseExposition } from '../src/exposition-parser.js';
import { PrometheusScraper } from '../src/prometheus-collector.js';

/** A page like a busy service exposes: `families` families of labelled counters, histograms and summaries. */
export function generatePage(targetSamples: number): string {
  const lines: string[] = [];
  let n = 0;
  for (let f = 0; n < targetSamples; f++) {
    lines.push(`# HELP http_requests_${f}_total Requests handled by route ${f}.`, `# TYPE http_requests_${f}_total counter`);
    for (const method of ['get', 'post', 'put', 'delete']) {
      for (const code of ['200', '201', '400', '404', '500']) {
        lines.push(`http_requests_${f}_total{method="${method}",code="${code}",handler="/api/v1/items/{id}"} ${(f * 7919 + n) % 100000}`);
        n++;
      }
    }
    lines.push(`# HELP request_duration_${f}_seconds Latency of route ${f}.`, `# TYPE request_duration_${f}_seconds histogram`);
    let cum = 0;
    for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']) {
      cum += (f + n) % 50;
      lines.push(`request_duration_${f}_seconds_bucket{handler="/api/v1/items/{id}",le="${le}"} ${cum}`);
      n++;
    }
    lines.push(`request_duration_${f}_seconds_sum{handler="/api/v1/items/{id}"} ${cum * 0.137}`, `request_duration_${f}_seconds_count{handler="/api/v1/items/{id}"} ${cum}`);
    lines.push(`# TYPE gc_pause_${f}_seconds summary`);
    for (const q of ['0', '0.25', '0.5', '0.75', '1']) lines.push(`gc_pause_${f}_seconds{quantile="${q}"} ${0.0001 * (f + 1)}`);
    lines.push(`gc_pause_${f}_seconds_sum 1.25e-3`, `gc_pause_${f}_seconds_count ${f * 3}`);
    n += 11;
  }
  return `${lines.join('\n')}\n`;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A sink that interns and counts, like the runtime's, with no storage behind it. */
class CountingSink implements TelemetrySink {
  private readonly ids = new Map<string, number>();
  samples = 0;
  series(d: SeriesDescriptor): number {
    const key = `${d.metric}|${JSON.stringify(d.resource)}|${JSON.stringify(d.attributes)}`;
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    return id;
  }
  sample(): void {
    this.samples++;
  }
  event(): void {}
  topology(): void {}
  flush(): void {}
}

export async function run(): Promise<Record<string, number>> {
  const page = generatePage(10_000);
  const noop = { type() {}, help() {}, unit() {}, error() {}, sample() {} };
  let parsed = 0;
  for (let i = 0; i < 20; i++) parsed += parseExposition(page, 'text', noop).samples; // warm-up
  parsed = 0;
  let t0 = cpuMs();
  while (cpuMs() - t0 < 1500) parsed += parseExposition(page, 'text', noop).samples;
  const promParseSamplesPerSec = Math.round(parsed / ((cpuMs() - t0) / 1000));

  const sink = new CountingSink();
  const config = { ...prometheusConfigDefaults, url: 'http://127.0.0.1:9/metrics' } as PrometheusConfig;
  const ctx = {
    config, sink, instanceId: 'prometheus/bench', hostResource: {}, intervalMs: 15_000, dataDir: undefined, signal: new AbortController().signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    clock: { now: () => Date.now(), setTimeout: () => () => undefined },
    status: { set() {} },
    metrics: { counter: () => ({ add() {} }), gauge: () => ({ set() {} }) },
  } satisfies CollectorContext<PrometheusConfig>;
  const scraper = new PrometheusScraper(ctx);
  for (let i = 0; i < 20; i++) scraper.ingest(page, 'text', Date.now());
  sink.samples = 0;
  t0 = cpuMs();
  while (cpuMs() - t0 < 1500) scraper.ingest(page, 'text', Date.now());
  const elapsed = cpuMs() - t0;
  const promScrapeSamplesPerSec = Math.round(sink.samples / (elapsed / 1000));
  // 1,000 targets x 1,000 series every 15 s = 66,667 samples/s
  const promTargetsCpuPercentOfCore = Number(((1_000_000 / 15 / promScrapeSamplesPerSec) * 100).toFixed(2));

  // real scrapes of a 1,000-sample page over loopback, served by a child process
  const small = generatePage(1000);
  const child = spawn(process.execPath, ['-e', `const page = ${JSON.stringify(small)};
    const s = require('node:http').createServer((q, r) => { r.setHeader('content-type', 'text/plain; version=0.0.4'); r.end(page); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const live = new PrometheusScraper({ ...ctx, config: { ...config, url: `http://127.0.0.1:${port}/metrics` } });
  const signal = new AbortController().signal;
  const baseline = new PrometheusScraper({ ...ctx, sink: new CountingSink(), config: { ...config, url: `http://127.0.0.1:${port}/metrics` } });
  const fetchScrape = async (): Promise<void> => {
    const timeout = AbortSignal.timeout(config.timeout);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept: 'text/plain;version=0.0.4', 'accept-encoding': 'gzip' }, signal: AbortSignal.any([signal, timeout]), redirect: 'follow' });
    baseline.ingest(new TextDecoder().decode(new Uint8Array(await res.arrayBuffer())), 'text', Date.now());
  };
  for (let i = 0; i < 20; i++) {
    await live.collect(signal);
    await fetchScrape();
  }
  // interleaved 300 ms slices, so a change in machine load hits both paths alike
  const spent = { live: 0, fetch: 0 };
  const rounds = { live: 0, fetch: 0 };
  for (let slice = 0; slice < 5; slice++) {
    for (const path of ['live', 'fetch'] as const) {
      t0 = cpuMs();
      while (cpuMs() - t0 < 300) {
        await (path === 'live' ? live.collect(signal) : fetchScrape());
        rounds[path]++;
      }
      spent[path] += cpuMs() - t0;
    }
  }
  const perScrapeMs = spent.live / rounds.live;
  const perFetchScrapeMs = spent.fetch / rounds.fetch;
  await live.shutdown();
  child.kill();
  const samplesPerScrape = parseExposition(small, 'text', noop).samples;
  const promScrapeCpuMsPer1kSeries = Number(((perScrapeMs * 1000) / samplesPerScrape).toFixed(3));
  const promTargetsWithFetchCpuPercentOfCore = Number((((promScrapeCpuMsPer1kSeries * 1000) / 15_000) * 100).toFixed(2));
  const promFetchBaselineCpuMsPer1kSeries = Number(((perFetchScrapeMs * 1000) / samplesPerScrape).toFixed(3));
  const promFetchBaselineCpuPercentOfCore = Number((((promFetchBaselineCpuMsPer1kSeries * 1000) / 15_000) * 100).toFixed(2));
  return {
    promParseSamplesPerSec, promScrapeSamplesPerSec, promTargetsCpuPercentOfCore, promScrapeCpuMsPer1kSeries, promTargetsWithFetchCpuPercentOfCore,
    promFetchBaselineCpuMsPer1kSeries, promFetchBaselineCpuPercentOfCore,
  };
}
