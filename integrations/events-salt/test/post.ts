/** A raw HTTP POST for receiver tests: resolves on the response even if the server stops reading the body. */
import { request } from 'node:http';

export interface PostResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export function post(port: number, body: string | Buffer, headers: Record<string, string> = {}, options: { method?: string; chunked?: boolean } = {}): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(data.length) }), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
        res.on('error', reject);
      },
    );
    req.on('error', () => {
      /* the server may close the connection before the whole body was sent (413, 401) */
    });
    if (options.chunked) {
      for (let i = 0; i < data.length; i += 64 * 1024) req.write(data.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(data);
  });
}
