/**
 * HTTP API throughput (`npm run bench -- --only http`): requests per
 * second of `GET /api/v1/series?limit=100` (1,000 series known), `GET /healthz`, `GET /metrics`,
 * `POST /api/v1/events` (token, JSON body) and a receiver mounted at `/ingest/<name>/` through
 * `coreServices.httpRouter` (token check and JSON parse of a 1 KiB body, like an events-* receiver).
 * One process drives the server over loopback with 16 keep-alive connections, so the figures
 * include the client's cost; compare them on one machine only.
 */
import { request, Agent } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { validateRuntimeConfig } from '../src/config/runtime-config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { ApiServer } from '../src/http/api-server.js';
import type { IngestRoutes } from '../src/http/ingest-routes.js';

const TOKEN = 'bench-token-0123456789abcdef';
const CONNECTIONS = 16;

interface Call {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

/** Requests per second over `total` calls, `CONNECTIONS` in flight. Throws on an unexpected status. */
async function drive(port: number, call: Call, total: number, expect: number): Promise<[number, number]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: call.method, path: call.path, agent, headers: { ...call.headers, ...(call.body ? { 'content-length': String(call.body.length) } : {}) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === expect ? resolve() : reject(new Error(`${call.method} ${call.path}: HTTP ${res.statusCode}, expected ${expect}`))));
      });
      req.on('error', reject);
      req.end(call.body);
    });
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker)); // warm-up round
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
  const loaded = validateRuntimeConfig({ server: { token: TOKEN }, interval: '1h' });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.issues));
  const runtime = await Runtime.load({ config: { ...loaded.config, plugins: { ...loaded.config.plugins, discover: false } }, log: { level: 'silent' } });
  await runtime.start();
  for (let i = 0; i < 1000; i++) runtime.registry.intern({ metric: 'bench.metric', unit: '1', type: 'gauge', resource: { 'host.name': `h${i}` }, attributes: {} }, 'bench');
  const routes = (runtime as Runtime & { readonly http?: IngestRoutes }).http;
  const expected = Buffer.from(TOKEN);
  routes?.mount('bench-receiver', {
    bodyLimit: 1024 * 1024,
    precheck: (r) => {
      const given = Buffer.from(String(r.headers['x-sextant-token'] ?? ''));
      return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : { status: 401, body: { error: 'token' } };
    },
    handle: (r) => {
      const events = (JSON.parse(r.body.toString('utf8')) as { events: unknown[] }).events;
      return { status: 202, body: { accepted: events.length } };
    },
  });
  const api = new ApiServer(runtime, { host: '127.0.0.1', port: 0, token: TOKEN, logger: runtime.logger, ui: false });
  await api.listen();
  const port = (api.app.server.address() as AddressInfo).port;
  const json = { 'content-type': 'application/json' };
  const event = Buffer.from(JSON.stringify({ type: 'deploy', title: 'checkout 2.1', resource: { 'service.name': 'checkout' } }));
  const payload = Buffer.from(JSON.stringify({ events: Array.from({ length: 8 }, (_, i) => ({ node: `web-${i}`, status: 'success', pad: 'x'.repeat(90) })) }));
  try {
    return {
      ...pair('apiSeries', await drive(port, { method: 'GET', path: '/api/v1/series?limit=100' }, 3000, 200)),
      ...pair('apiHealthz', await drive(port, { method: 'GET', path: '/healthz' }, 10_000, 200)),
      ...pair('apiMetrics', await drive(port, { method: 'GET', path: '/metrics' }, 3000, 200)),
      ...pair('apiPostEvent', await drive(port, { method: 'POST', path: '/api/v1/events', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: event }, 5000, 201)),
      ...(routes ? pair('mountedReceiver', await drive(port, { method: 'POST', path: '/ingest/bench-receiver/', headers: { ...json, 'x-sextant-token': TOKEN }, body: payload }, 10_000, 202)) : {}),
    };
  } finally {
    await api.close();
    await runtime.stop();
  }
}
