/**
 * A strict OTLP/HTTP stand-in receiver following the OTLP/HTTP contract: POST only, path
 * `/v1/logs` or `/v1/metrics`, `content-type: application/x-protobuf`, optional gzip; answers
 * with scripted statuses (then 200 with an empty protobuf response) and keeps accepted bodies.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { encodeResponse } from './otlp-schema.js';

export interface StandInReceiver {
  readonly endpoint: string;
  /** Accepted (decompressed) bodies per path. */
  readonly accepted: { path: string; body: Uint8Array }[];
  /** Every answer given, in order, per request. */
  readonly answers: { path: string; status: number }[];
  /** Statuses to answer next (then 200). Each entry may carry a Retry-After value. */
  readonly script: { status: number; retryAfter?: string; partial?: { rejected: number; message: string } }[];
  close(): Promise<void>;
}

export async function startStandIn(): Promise<StandInReceiver> {
  const accepted: StandInReceiver['accepted'] = [];
  const answers: StandInReceiver['answers'] = [];
  const script: StandInReceiver['script'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const valid = req.method === 'POST' && (path === '/v1/logs' || path === '/v1/metrics') && req.headers['content-type'] === 'application/x-protobuf';
      const step = valid ? (script.shift() ?? { status: 200 }) : { status: 415 };
      answers.push({ path, status: step.status });
      if (step.status === 200) {
        const raw = Buffer.concat(chunks);
        accepted.push({ path, body: new Uint8Array(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw) });
        res.setHeader('content-type', 'application/x-protobuf');
        res.end(encodeResponse(step.partial));
        return;
      }
      if (step.retryAfter !== undefined) res.setHeader('retry-after', step.retryAfter);
      res.statusCode = step.status;
      res.setHeader('content-type', 'text/plain');
      res.end(`status ${step.status}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted,
    answers,
    script,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
