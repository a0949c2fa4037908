/** A bare HTTPS client for protocol-level assertions against the stand-in (trusts its certificate). */
import { request } from 'node:https';
import type { KubeStandin } from '../src/index.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export function call(standin: KubeStandin, path: string, options: { token?: string | null; method?: string; body?: unknown; contentType?: string } = {}): Promise<RawResponse> {
  const url = new URL(path, standin.url);
  const token = options.token === undefined ? standin.adminToken : options.token;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: standin.caCert,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload ? { 'content-type': options.contentType ?? 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // watch streams: several JSON lines
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Reads watch events (one JSON object per line) until `until` says stop; then closes the stream. */
export function watchEvents(standin: KubeStandin, path: string, until: (events: any[]) => boolean, token?: string): Promise<any[]> {
  const url = new URL(path, standin.url);
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    const req = request(url, { ca: standin.caCert, headers: { authorization: `Bearer ${token ?? standin.adminToken}` } }, (res) => {
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
          if (until(events)) {
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
      res.on('end', () => resolve(events));
      res.on('error', () => resolve(events));
    });
    req.on('error', (e) => (events.length ? resolve(events) : reject(e)));
    req.end();
  });
}
