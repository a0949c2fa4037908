/**
 * Event receiver throughput on its own port (`npm run build && node tools/bench/dist/main.js --only
 * receiver`): requests per second of an authenticated 1 KiB JSON POST that becomes 8 events, and of
 * a refused one (wrong token, answered before the body is read). One process drives the receiver
 * over loopback with 16 keep-alive connections, so the figures include the client's cost. The same
 * receiver mounted on the API server is measured by the runtime's HTTP benchmark.
 */
import { Agent, request } from 'node:http';
import type { CollectorContext, SextantEvent } from '@sextant/plugin-api';
import { createEventReceiver, parseJsonBody, type ReceiverConfig } from '../src/event-receiver.js';

const TOKEN = 'bench-token-0123456789abcdef';
const CONNECTIONS = 16;

async function drive(port: number, headers: Record<string, string>, body: Buffer, total: number, expect: number): Promise<[number, number]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === expect ? resolve() : reject(new Error(`HTTP ${res.statusCode}, expected ${expect}`))));
      });
      // A refusal may close the connection before the body is sent.
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve() : reject(e)));
      req.end(body);
    });
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  sent = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return [Math.round(total / seconds), Math.round(total / ((used.user + used.system) / 1e6))];
}

/** `<name>RequestsPerSec` (wall clock) and `<name>RequestsPerCpuSec` (per second of this process's CPU, client included: steadier on a shared machine). */
function pair(name: string, [perSec, perCpuSec]: [number, number]): Record<string, number> {
  return { [`${name}RequestsPerSec`]: perSec, [`${name}RequestsPerCpuSec`]: perCpuSec };
}

export async function run(): Promise<Record<string, number>> {
  let events = 0;
  const noop = () => undefined;
  const ctx = {
    instanceId: 'events-bench',
    config: { listen: '127.0.0.1:0', token: TOKEN, maxBodyBytes: 1024 * 1024 },
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    clock: { now: () => Date.now() },
    status: { set: noop },
    metrics: { counter: () => ({ add: noop }), gauge: () => ({ set: noop }) },
    sink: { event: () => void events++, flush: noop, series: () => 0, sample: noop, topology: noop },
    signal: new AbortController().signal,
    dataDir: undefined,
  } as unknown as CollectorContext<ReceiverConfig>;
  const receiver = createEventReceiver(ctx, {
    tool: 'Bench',
    parse(request) {
      const body = parseJsonBody(request, 'Bench') as { events: { node: string }[] };
      return { events: body.events.map((e): SextantEvent => ({ type: 'config.run', timestamp: Date.now(), title: `run on ${e.node}`, resource: { 'host.name': e.node }, source: 'bench' })) };
    },
  });
  await receiver.start?.();
  const port = (receiver as unknown as { address(): { port: number } }).address().port;
  const payload = Buffer.from(JSON.stringify({ events: Array.from({ length: 8 }, (_, i) => ({ node: `web-${i}`, status: 'success', pad: 'x'.repeat(90) })) }));
  const json = { 'content-type': 'application/json' };
  try {
    return {
      ...pair('receiverAccepted', await drive(port, { ...json, authorization: `Bearer ${TOKEN}` }, payload, 10_000, 202)),
      ...pair('receiverRefused', await drive(port, { ...json, authorization: 'Bearer wrong-token-wrong-token-wro' }, payload, 5000, 401)),
    };
  } finally {
    await receiver.shutdown?.();
  }
}
