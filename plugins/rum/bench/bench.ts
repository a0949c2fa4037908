/**
 * Benchmark of the collect endpoint, wired into tools/bench (`npm run bench -- --only rum`).
 * `run()` returns machine-readable figures:
 *
 * - rumBeaconsPerSec: beacons through the intake on one core — JSON parse, validation, replay
 *   check, aggregation into page sketches, sessions and commerce counters — without sockets.
 *   Beacons are what the snippet sends: a page view, navigation timing, 3 vitals, sometimes an
 *   add_to_cart or a purchase; 50 pages, 5,000 sessions.
 * - rumHttpBeaconsPerCpuSec: the same kind of beacons POSTed over loopback HTTP (keep-alive, 16 in
 *   flight) by a client in a child process, per CPU-second of the server process: the figure the
 *   ">= 10,000 beacons/s per core" goal is measured with. rumHttpBeaconsPerSec: wall-clock rate
 *   (client and server share the machine's cores).
 * - rumFlushMs: one collection round (quantiles of 50 pages x 7 timings, sessions, commerce).
 * - snippetGzipBytes / snippetModuleGzipBytes: the built snippet, minified and gzipped.
 */
import { readFileSync } from 'node:fs';
import type { Attributes, SeriesDescriptor, TelemetrySink } from '@sextant/plugin-api';
import { BeaconIntake } from '../src/beacon-intake.js';
import { CollectEndpoint } from '../src/collect-endpoint.js';
import { rumConfigDefaults, type RumConfig } from '../src/config.js';
import { RumAggregator } from '../src/rum-aggregator.js';
import { SNIPPET_DIR, SNIPPET_PATHS } from '../src/snippet-assets.js';

const ORIGIN = 'https://shop.example.com';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

function config(): RumConfig {
  return {
    ...(rumConfigDefaults as RumConfig),
    sessionWindow: 30 * 60_000,
    allowedOrigins: [ORIGIN],
    rateLimit: { perSecond: 1e6, burst: 1e7 },
  };
}

/** `count` distinct beacon bodies (unique page-load ids, so none is a replay). */
function beacons(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const ev: unknown[] = [{ t: 'view' }, { t: 'nav', dcl: 200 + (i % 500), load: 400 + (i % 900) }, { t: 'vital', n: 'TTFB', v: 50 + (i % 300) }, { t: 'vital', n: 'FCP', v: 300 + (i % 700) }, { t: 'vital', n: 'LCP', v: 600 + (i % 2000) }];
    if (i % 10 === 0) ev.push({ t: 'ec', n: 'add_to_cart', value: 29.99, currency: 'EUR', items: 1 });
    if (i % 40 === 0) ev.push({ t: 'ec', n: 'purchase', value: 59.98, currency: 'EUR', tid: `T-${i}`, items: 2 });
    out.push(JSON.stringify({ v: 1, sid: `session${String(i % 5000).padStart(6, '0')}`, pid: `page${String(i).padStart(10, '0')}`, seq: 0, page: `/page-${i % 50}`, ev }));
  }
  return out;
}

const nullSink: TelemetrySink = {
  series: (() => {
    let n = 0;
    return (_d: SeriesDescriptor) => n++;
  })(),
  sample() {},
  event() {},
  topology() {},
  flush() {},
};

function intakeFigures(): { rumBeaconsPerSec: number; rumFlushMs: number } {
  const bodies = beacons(200_000);
  const agg = new RumAggregator({ maxPages: 200, sampleRate: 1, sessionWindowMs: 30 * 60_000, maxSessions: 200_000, defaultCurrency: 'USD' }, 0);
  const intake = new BeaconIntake(config(), agg);
  const now = Date.now();
  for (let i = 0; i < 20_000; i++) intake.ingest(bodies[i], now); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 20_000; i < bodies.length; i++) {
    if (intake.admit(ORIGIN, UA, now) === undefined) intake.ingest(bodies[i], now);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const f0 = process.hrtime.bigint();
  agg.flush(nullSink, {} as Attributes, now + 60_000);
  const flushMs = Number(process.hrtime.bigint() - f0) / 1e6;
  return { rumBeaconsPerSec: Math.round((bodies.length - 20_000) / secs), rumFlushMs: Math.round(flushMs * 100) / 100 };
}

/**
 * The client runs in a child process (its own CPU), so this process's CPU time is the server's:
 * node:http parsing, CORS and origin checks, body read, intake and aggregation.
 */
const CLIENT = `
const http = require('node:http');
const [port, count, inFlight] = process.argv.slice(1).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
const headers = { origin: 'https://shop.example.com', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0', 'content-type': 'text/plain' };
let next = 0, failed = 0;
function body(i) {
  return JSON.stringify({ v: 1, sid: 'session' + String(i % 5000).padStart(6, '0'), pid: 'page' + String(i).padStart(10, '0'), seq: 0, page: '/page-' + (i % 50),
    ev: [{ t: 'view' }, { t: 'nav', dcl: 200 + (i % 500), load: 400 + (i % 900) }, { t: 'vital', n: 'TTFB', v: 50 + (i % 300) }, { t: 'vital', n: 'FCP', v: 300 + (i % 700) }, { t: 'vital', n: 'LCP', v: 600 + (i % 2000) }]
      .concat(i % 40 === 0 ? [{ t: 'ec', n: 'purchase', value: 59.98, currency: 'EUR', tid: 'T-' + i }] : []) });
}
function worker() {
  return new Promise((done) => {
    const step = () => {
      if (next >= count) return done();
      const b = body(next++);
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/rum/v1/collect', agent, headers: { ...headers, 'content-length': Buffer.byteLength(b) } }, (res) => {
        if (res.statusCode !== 204) failed++;
        res.resume();
        res.on('end', step);
      });
      req.on('error', () => { failed++; step(); });
      req.end(b);
    };
    step();
  });
}
Promise.all(Array.from({ length: inFlight }, worker)).then(() => { process.stdout.write(String(failed)); agent.destroy(); });
`;

async function httpFigures(): Promise<{ rumHttpBeaconsPerCpuSec: number; rumHttpBeaconsPerSec: number }> {
  const { spawn } = await import('node:child_process');
  const agg = new RumAggregator({ maxPages: 200, sampleRate: 1, sessionWindowMs: 30 * 60_000, maxSessions: 200_000, defaultCurrency: 'USD' }, Date.now());
  const intake = new BeaconIntake(config(), agg);
  const endpoint = new CollectEndpoint(intake, { script: Buffer.from(''), module: Buffer.from('') }, { listen: '127.0.0.1:0', maxBodyBytes: 65536, now: Date.now });
  await endpoint.listen();
  const port = endpoint.address()!.port;
  const count = 100_000;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const failed = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, String(port), String(count), '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`bench client exited with ${code}`))));
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await endpoint.close();
  if (failed > 0) throw new Error(`${failed} beacons were refused during the HTTP benchmark`);
  return { rumHttpBeaconsPerCpuSec: Math.round(count / ((cpu.user + cpu.system) / 1e6)), rumHttpBeaconsPerSec: Math.round(count / secs) };
}

function snippetFigures(): Record<string, number> {
  try {
    const size = JSON.parse(readFileSync(new URL('size.json', SNIPPET_DIR), 'utf8')) as { files: Record<string, { gzipBytes: number }> };
    return { snippetGzipBytes: size.files['sextant-rum.js'].gzipBytes, snippetModuleGzipBytes: size.files['sextant-rum.mjs'].gzipBytes };
  } catch {
    return {};
  }
}

export async function run(): Promise<Record<string, number>> {
  return { ...intakeFigures(), ...(await httpFigures()), ...snippetFigures() };
}
