/**
 * Benchmark of the nginx plugin's hot paths, wired into tools/bench by the integrator.
 * `run()` returns machine-readable figures:
 *
 * - nginxLogLinesPerSec: log lines parsed per second (default format: combined + timing), one core.
 * - nginxLogLinesAggregatedPerSec: parse + URL pattern + per-pattern and global histograms.
 * - nginxTailedLinesPerSec: the whole access-log path of a round: file read, UTF-8 decode, line
 *   split, parse, aggregate.
 * - stubStatusParsesPerSec: parseStubStatus on a real page.
 * - nginxCpuMsPerRoundIdle: CPU of one stub_status round (HTTP fetch over loopback + parse + write).
 * - nginxCpuMsPerRound1kLines / nginxCpuMsPerRound100kLines: CPU of one round that also tails
 *   1,000 (100 req/s at a 10 s interval) or 100,000 (10k req/s) new lines.
 */
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogAggregator } from '../src/access-log-aggregator.js';
import { DEFAULT_LOG_FORMAT, LogLineParser, ParsedLogLine } from '../src/log-format.js';
import { LogTailer } from '../src/log-tailer.js';
import { parseStubStatus } from '../src/stub-status.js';

const PATHS = ['/', '/api/users/{n}', '/api/orders/{n}/items', '/static/app.{n}.js', '/api/search?q={n}', '/health', '/api/carts/{uuid}'];
const STATUSES = [200, 200, 200, 200, 200, 200, 304, 301, 404, 500, 502];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'curl/8.5.0', 'kube-probe/1.30'];

/** `count` lines in the default format, deterministic, joined into ~1 MiB texts like the tailer's. */
export function generateLogText(count: number, seed = 1): string[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const texts: string[] = [];
  let lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(rand() * 100_000);
    const path = PATHS[n % PATHS.length].replace('{n}', String(n)).replace('{uuid}', `550e8400-e29b-41d4-a716-${String(n).padStart(12, '0')}`);
    const status = STATUSES[n % STATUSES.length];
    const rt = (rand() * rand() * 2).toFixed(3);
    const up = status === 304 ? '-' : (Number(rt) * 0.9).toFixed(3);
    lines.push(
      `10.${n % 256}.${(n >> 8) % 256}.7 - - [24/Nov/2026:18:53:38 +0000] "GET ${path} HTTP/1.1" ${status} ${n % 20_000} "https://shop.example/" "${AGENTS[n % AGENTS.length]}" ${rt} ${up}`,
    );
    if (lines.length === 5000) {
      texts.push(lines.join('\n'));
      lines = [];
    }
  }
  if (lines.length) texts.push(lines.join('\n'));
  return texts;
}

function forEachLine(texts: readonly string[], fn: (text: string, s: number, e: number) => void): number {
  let n = 0;
  for (const text of texts) {
    let s = 0;
    for (;;) {
      let e = text.indexOf('\n', s);
      if (e < 0) e = text.length;
      fn(text, s, e);
      n++;
      if (e >= text.length) break;
      s = e + 1;
    }
  }
  return n;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

export async function run(): Promise<Record<string, number>> {
  const LINES = 500_000;
  const texts = generateLogText(LINES);
  const parser = LogLineParser.compile(DEFAULT_LOG_FORMAT);
  const out = new ParsedLogLine();

  forEachLine(texts.slice(0, 10), (t, s, e) => parser.parse(t, s, e, out)); // warm-up
  // Throughput is measured in CPU time of this process, so a busy machine does not halve it.
  let ok = 0;
  let t0 = process.cpuUsage();
  forEachLine(texts, (t, s, e) => {
    if (parser.parse(t, s, e, out)) ok++;
  });
  const parseMs = cpuMs(t0);
  if (ok !== LINES) throw new Error(`bench: only ${ok} of ${LINES} generated lines parsed`);

  const agg = new AccessLogAggregator(parser, { topN: 10, maxRoutes: 1000, errorStatus: 500 });
  t0 = process.cpuUsage();
  forEachLine(texts, (t, s, e) => agg.consume(t, s, e));
  agg.takeRound();
  const aggMs = cpuMs(t0);

  const page = 'Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n';
  const STUB = 200_000;
  t0 = process.cpuUsage();
  for (let i = 0; i < STUB; i++) parseStubStatus(page);
  const stubMs = cpuMs(t0);

  const dir = await mkdtemp(join(tmpdir(), 'sextant-nginx-bench-'));
  const server = createServer((_req, res) => res.end(page));
  try {
    // a tailed round: file -> lines -> aggregate
    const file = join(dir, 'access.log');
    await writeFile(file, '');
    const tailer = new LogTailer(file, { fromStart: false, maxLineBytes: 16_384, maxReadBytes: 1 << 30 });
    await tailer.start();
    const sink = (t: string, s: number, e: number) => void agg.consume(t, s, e);
    await appendFile(file, texts.join('\n') + '\n');
    t0 = process.cpuUsage();
    const report = await tailer.poll(sink);
    agg.takeRound();
    const tailMs = cpuMs(t0);
    if (report.lines !== LINES) throw new Error(`bench: tailed ${report.lines} of ${LINES} lines`);

    const roundCpu = async (lines: number) => {
      const chunk = generateLogText(lines, 7).join('\n') + '\n';
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        await appendFile(file, chunk);
        const c = process.cpuUsage();
        await tailer.poll(sink);
        agg.takeRound();
        samples.push(cpuMs(c));
      }
      return samples.sort((a, b) => a - b)[2];
    };
    const cpu1k = await roundCpu(1000);
    const cpu100k = await roundCpu(100_000);
    await tailer.close();

    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/nginx_status`;
    for (let i = 0; i < 20; i++) parseStubStatus(await (await fetch(url)).text());
    const ROUNDS = 200;
    const c = process.cpuUsage();
    for (let i = 0; i < ROUNDS; i++) parseStubStatus(await (await fetch(url)).text());
    // the server runs in this process too: halve to attribute roughly the client's share
    const idleCpu = cpuMs(c) / ROUNDS / 2;

    return {
      nginxLogLinesPerSec: Math.round(LINES / (parseMs / 1000)),
      nginxLogLinesAggregatedPerSec: Math.round(LINES / (aggMs / 1000)),
      nginxTailedLinesPerSec: Math.round(LINES / (tailMs / 1000)),
      stubStatusParsesPerSec: Math.round(STUB / (stubMs / 1000)),
      nginxCpuMsPerRoundIdle: Math.round(idleCpu * 1000) / 1000,
      nginxCpuMsPerRound1kLines: Math.round((idleCpu + cpu1k) * 100) / 100,
      nginxCpuMsPerRound100kLines: Math.round((idleCpu + cpu100k) * 100) / 100,
    };
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
