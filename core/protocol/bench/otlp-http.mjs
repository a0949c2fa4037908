// OTLP/HTTP receiver throughput: requests/s and requests per CPU-second of the receiving process
// (utime+stime from /proc/PID/stat), for small protobuf and JSON requests (10 gauge points each),
// 16 requests in flight over keep-alive. Build core/protocol first, then:
//   node core/protocol/bench/otlp-http.mjs [seconds per case, default 8]   (BENCH_NODE_ARGS: node flags of the server)
// Prints one JSON object.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import { otlpJsonToProtobuf } from '../dist/ingest/index.js';

const TOKEN = 'bench-token-0123456789abcdef';
const seconds = Number(process.argv[2] ?? 8);
const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), fileURLToPath(new URL('./otlp-http-server.mjs', import.meta.url))], { env: { ...process.env, TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
const address = await new Promise((resolve, reject) => {
  child.stdout.once('data', (d) => resolve(String(d).trim()));
  child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const cpu = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime+stime in clock ticks (100/s)
};

const now = String(Date.now() * 1e6);
const points = Array.from({ length: 10 }, (_, i) => ({ attributes: [{ key: 'i', value: { intValue: String(i) } }], timeUnixNano: now, asDouble: i }));
const json = JSON.stringify({ resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] }, scopeMetrics: [{ metrics: [{ name: 'bench.gauge', gauge: { dataPoints: points } }] }] }] });
const proto = otlpJsonToProtobuf(JSON.parse(json));
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

async function measure(type, body) {
  const [host, port] = address.split(':');
  const headers = { 'content-type': type, authorization: `Bearer ${TOKEN}`, 'content-length': Buffer.byteLength(body) };
  const send = () =>
    new Promise((resolve, reject) => {
      const req = request({ host, port, path: '/v1/metrics', method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < 500; i++) await send(); // warm-up
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const c0 = cpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (performance.now() < end) {
      await send();
      done++;
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const used = cpu() - c0;
  return { perSec: Math.round(done / wall), perCpuSec: Math.round(done / used) };
}

try {
  const p = await measure('application/x-protobuf', proto);
  const j = await measure('application/json', json);
  console.log(JSON.stringify({ otlpHttpProtobufRequestsPerSec: p.perSec, otlpHttpProtobufRequestsPerCpuSec: p.perCpuSec, otlpHttpJsonRequestsPerSec: j.perSec, otlpHttpJsonRequestsPerCpuSec: j.perCpuSec }));
} finally {
  child.kill('SIGTERM');
  agent.destroy();
}
