/**
 * Where the stats come from: the stats page over HTTP (`<stats uri>;csv;norefresh`) or the stats
 * socket (`show stat`, `show info`). Both give the same CSV. Every failure is a
 * {@link SextantError} that names the fix; replies are capped in size and time.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/** Far above the stats of a few thousand servers (~1 KiB per row). */
export const MAX_REPLY_BYTES = 16 * 1024 * 1024;

export interface StatsCsv {
  /** Column names from the `# pxname,svname,...` header. */
  readonly columns: readonly string[];
  /** Data rows with exactly as many fields as the header. */
  readonly rows: readonly (readonly string[])[];
  /** Rows with a different number of fields. */
  readonly rejectedRows: number;
}

/** Parses `show stat` CSV. Throws SEXTANT_ERR_PARSE_FAILED when the text has no CSV header. */
export function parseStatsCsv(text: string, where: string): StatsCsv {
  const lines = text.split('\n');
  const header = lines[0]?.replace(/\r$/, '');
  if (!header || !header.startsWith('# pxname,svname,')) {
    throw new SextantError(ErrorCode.PARSE_FAILED, `the stats from ${where} are not HAProxy CSV (first line ${JSON.stringify((header ?? '').slice(0, 60))})`, {
      hint: 'point url at the page of "stats uri" (e.g. http://host:8404/stats) or socket at a "stats socket"',
    });
  }
  const columns = header.slice(2).split(',');
  const rows: string[][] = [];
  let rejectedRows = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') continue;
    const fields = line.split(',');
    if (fields.length === columns.length) rows.push(fields);
    else rejectedRows++;
  }
  return { columns, rows, rejectedRows };
}

/** Parses `show info` (`Name: value` lines). */
export function parseInfo(text: string): Map<string, string> {
  const info = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) info.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return info;
}

function connectionError(error: unknown, where: string, what: string): SextantError {
  if (error instanceof SextantError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOENT' || code === 'EACCES') {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot open the HAProxy stats socket ${where} (${String(code)})`, {
      hint: code === 'EACCES' ? 'run the agent as a user that may open the socket (stats socket ... mode 660 group <agent group>)' : 'is HAProxy running with "stats socket <path>" in its global section? check socket',
      cause: error,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot resolve the host of ${where}`, { hint: 'check the host name in url', cause: error });
  if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `TLS with ${where} failed (${code})`, { hint: 'use a certificate the agent trusts, or rejectUnauthorized: false for testing', cause: error });
  }
  return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach ${what} at ${where} (${typeof code === 'string' ? code : message})`, {
    hint: `is HAProxy running with its stats ${what === 'the stats page' ? 'page (stats enable / stats uri)' : 'socket'} at ${where}?`,
    cause: error,
  });
}

function readCapped(stream: IncomingMessage | import('node:net').Socket, where: string, onDone: (error: SextantError | undefined, text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REPLY_BYTES) {
      stream.destroy();
      onDone(new SextantError(ErrorCode.PARSE_FAILED, `the stats from ${where} are larger than ${MAX_REPLY_BYTES} bytes`, { hint: 'is this HAProxy? limit the proxies reported with the proxies option' }), '');
      return;
    }
    chunks.push(chunk);
  });
  stream.on('end', () => onDone(undefined, Buffer.concat(chunks).toString('utf8')));
}

export interface HttpSourceOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly timeoutMs: number;
  readonly rejectUnauthorized: boolean;
}

/** GETs the CSV stats page. */
export function fetchStatsPage(options: HttpSourceOptions, signal?: AbortSignal): Promise<string> {
  const url = new URL(options.url);
  const where = `${url.protocol}//${url.host}${url.pathname.replace(/;csv;norefresh$/, '')}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: SextantError | undefined, text = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(text);
    };
    const auth = options.username !== undefined ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}` : undefined;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers: { accept: 'text/csv, text/plain', ...(auth ? { authorization: auth } : {}) }, rejectUnauthorized: options.rejectUnauthorized, signal, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 401 || status === 403) {
        res.resume();
        finish(new SextantError(ErrorCode.AUTH_FAILED, `the stats page ${where} refused the credentials (HTTP ${status})`, { hint: 'set username/password to a "stats auth" user of that page' }));
        return;
      }
      if (status !== 200) {
        res.resume();
        finish(new SextantError(status === 404 ? ErrorCode.CONFIG_INVALID : ErrorCode.COLLECT_FAILED, `the stats page ${where} answered HTTP ${status}`, { hint: status === 404 ? 'url must be the "stats uri" of a section with "stats enable", e.g. http://host:8404/stats' : 'see the HAProxy log' }));
        return;
      }
      readCapped(res, where, finish);
      res.on('error', (error) => finish(connectionError(error, where, 'the stats page')));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(new SextantError(ErrorCode.COLLECT_FAILED, `the stats page ${where} did not answer within ${options.timeoutMs} ms`, { hint: 'is this the stats page? raise timeout if HAProxy is just far away' }));
    }, options.timeoutMs);
    req.on('error', (error) => finish(connectionError(error, where, 'the stats page')));
    req.end();
  });
}

/** Sends one command to the stats socket and returns the whole reply (the socket closes after it). */
export function querySocket(path: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: SextantError | undefined, text = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(text);
    };
    const socket = connect({ path });
    socket.on('connect', () => socket.write(`${command}\n`));
    readCapped(socket, path, finish);
    socket.on('error', (error) => finish(connectionError(error, path, 'the stats socket')));
    const timer = setTimeout(() => finish(new SextantError(ErrorCode.COLLECT_FAILED, `the stats socket ${path} did not answer "${command}" within ${timeoutMs} ms`, { hint: 'is this an HAProxy stats socket?' })), timeoutMs);
  });
}
