/**
 * A raw HTTP client for tests of event receivers. Unlike `fetch`, it resolves with the response
 * even when the server answers and closes before the whole body was sent (413, 401), and it can
 * send a body chunked (no Content-Length) to test limits enforced while streaming.
 */
import { request } from 'node:http';

export interface ReceiverResponse {
  readonly status: number;
  /** The JSON body, or `{}` when the body was empty. Rejects when it is not JSON. */
  readonly body: Record<string, unknown>;
}

export interface PostToReceiverOptions {
  /** Default POST. */
  readonly method?: string;
  /** Send in 64 KiB chunks with `Transfer-Encoding: chunked` instead of a Content-Length. */
  readonly chunked?: boolean;
}

/**
 * Sends `body` to `http://127.0.0.1:<port>/` with `Content-Type: application/json` unless `headers`
 * says otherwise.
 */
export function postToReceiver(port: number, body: string | Buffer, headers: Record<string, string> = {}, options: PostToReceiverOptions = {}): Promise<ReceiverResponse> {
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
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
          } catch (e) {
            reject(e);
          }
        });
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
