/**
 * Benchmark of the StatsD intake, wired into tools/bench (`npm run bench -- --only statsd`).
 * `run()` returns machine-readable figures, all on one core and without sockets:
 *
 * - statsdParseLinesPerSec: lines through {@link parseStatsdLine} alone.
 * - statsdIngestLinesPerSec: lines through the intake as the listener hands them over — packets
 *   of ~20 lines split, parsed, recorded into the metric+tag sets they make (`statsdTrackedSeries`: counters, gauges, timers with
 *   sketches, sets); the "lines parsed per second per core" figure.
 * - statsdFlushMs: one flush of those sets (4 quantiles per timer) into a sink.
 * - statsdUdpLinesPerCpuSec: the same packets sent over loopback UDP by a child process to a
 *   real listener + intake, lines taken in per CPU-second of this (the receiving) process:
 *   datagram reads included. statsdUdpLinesReceived / statsdUdpLinesSent: what arrived (UDP may
 *   drop under load; drops are not counted as work).
 */
import { spawn } from 'node:child_process';
import type { SeriesDescriptor, TelemetrySink } from '@sextant/plugin-api';
import { StatsdListener } from '../src/statsd-listener.js';
import { StatsdAggregator } from '../src/statsd-aggregator.js';
import { StatsdIntake } from '../src/statsd-intake.js';
import { newParsedLine, parseStatsdLine } from '../src/statsd-line.js';

/** Lines a typical service sends: tagged counters and timers, some gauges and sets. */
function lines(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const route = `/api/v1/item${i % 100}`;
    switch (i % 5) {
      case 0:
      case 1:
        out.push(`http.requests:1|c|#route:${route},status:${200 + (i % 3)},env:prod`);
        break;
      case 2:
        out.push(`http.latency:${(i % 997) * 0.37 + 1}|ms|@0.5|#route:${route},env:prod`);
        break;
      case 3:
        out.push(`worker.queue_depth:${i % 50}|g|#queue:q${i % 100}`);
        break;
      default:
        out.push(`users.active:user${i % 5000}|s|#site:s${i % 100}`);
    }
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

function perSecond(n: number, t0: bigint): number {
  return Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9));
}

export async function run(): Promise<Record<string, number>> {
  const all = lines(200_000);
  const out = newParsedLine();
  for (let i = 0; i < 20_000; i++) parseStatsdLine(all[i], out); // warm-up
  let t0 = process.hrtime.bigint();
  for (let round = 0; round < 5; round++) for (let i = 0; i < all.length; i++) parseStatsdLine(all[i], out);
  const statsdParseLinesPerSec = perSecond(all.length * 5, t0);

  const packets: string[] = [];
  for (let i = 0; i < all.length; i += 20) packets.push(all.slice(i, i + 20).join('\n'));
  const aggregator = new StatsdAggregator({ prefix: '', counters: 'rate', maxSeries: 100_000, maxSetMembers: 100_000, expireAfterMs: 300_000 }, 0);
  const intake = new StatsdIntake(aggregator, undefined, () => 0, 65_536);
  for (let i = 0; i < 1000; i++) intake.ingest(packets[i]); // warm-up
  t0 = process.hrtime.bigint();
  for (let round = 0; round < 5; round++) for (const p of packets) intake.ingest(p);
  const statsdIngestLinesPerSec = perSecond(all.length * 5, t0);

  const f0 = process.hrtime.bigint();
  aggregator.flush(nullSink, { 'host.name': 'bench' }, 10_000);
  const statsdFlushMs = Math.round((Number(process.hrtime.bigint() - f0) / 1e6) * 100) / 100;
  return { statsdParseLinesPerSec, statsdIngestLinesPerSec, statsdFlushMs, statsdTrackedSeries: aggregator.size, ...(await udpFigures(packets)) };
}

/** Sends `packets` (rounds times) from a child process, paced in bursts of 32 a millisecond apart so the receiver is measured, not the drops. */
const SENDER = `
const dgram = require('node:dgram');
const [port, rounds] = process.argv.slice(1).map(Number);
let packets = '';
process.stdin.on('data', (c) => (packets += c));
process.stdin.on('end', () => {
  const list = packets.split('\\u0000');
  const s = dgram.createSocket('udp4');
  let i = 0;
  const total = list.length * rounds;
  const burst = () => {
    let inFlight = 0;
    for (let k = 0; k < 32 && i < total; k++, i++) {
      inFlight++;
      s.send(list[i % list.length], port, '127.0.0.1', () => {
        if (--inFlight === 0) (i < total ? setTimeout(burst, 1) : s.close());
      });
    }
  };
  burst();
});
`;

async function udpFigures(packets: string[]): Promise<Record<string, number>> {
  const aggregator = new StatsdAggregator({ prefix: '', counters: 'rate', maxSeries: 100_000, maxSetMembers: 100_000, expireAfterMs: 300_000 }, 0);
  const intake = new StatsdIntake(aggregator, undefined, () => 0, 65_536);
  const listener = new StatsdListener(
    { listen: '127.0.0.1:0', udp: true, tcp: false, maxPacketBytes: 65_536, maxConnections: 1, udpReceiveBufferBytes: 8 * 1024 * 1024 },
    { onText: (t) => intake.ingest(t), onOversize: () => {} },
  );
  await listener.listen();
  const rounds = 3;
  const linesSent = packets.length * 20 * rounds;
  try {
    const cpu0 = process.cpuUsage();
    const child = spawn(process.execPath, ['-e', SENDER, String(listener.address()!.port), String(rounds)], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.stdin.end(packets.join('\u0000'));
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise((r) => setTimeout(r, 200)); // drain what is still queued
    const cpu = process.cpuUsage(cpu0);
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    return { statsdUdpLinesPerCpuSec: Math.round(intake.totals.lines / cpuSec), statsdUdpLinesReceived: intake.totals.lines, statsdUdpLinesSent: linesSent };
  } finally {
    await listener.close();
  }
}
