/**
 * A minimal client of memcached's text protocol for one command, `stats`: one persistent TCP
 * connection, one request in flight, a reply read until its `END` line. Keys and values never pass
 * through it. Every failure is a {@link SextantError}; the socket is dropped after any failure
 * and opened again by the next request.
 */
import { connect, type Socket } from 'node:net';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { MemcachedEndpoint } from './config.js';

/** A `stats` reply is ~3 KiB; anything this large is not memcached. */
export const MAX_REPLY_BYTES = 256 * 1024;

export interface StatsReply {
  /** `STAT name value` lines, by name (the value as sent). */
  readonly stats: Map<string, string>;
  /** Lines that were neither `STAT name value` nor `END`. */
  readonly rejectedLines: number;
}

/** Parses the text of a `stats` reply (everything up to and including `END`). */
export function parseStats(text: string): StatsReply {
  const stats = new Map<string, string>();
  let rejectedLines = 0;
  for (const line of text.split('\r\n')) {
    if (line === '' || line === 'END') continue;
    const match = /^STAT ([\x21-\x7e]{1,128}) ([\x20-\x7e]{0,1024})$/.exec(line);
    if (match) stats.set(match[1]!, match[2]!);
    else rejectedLines++;
  }
  return { stats, rejectedLines };
}

export class MemcachedStatsClient {
  private socket: Socket | undefined;
  private busy = false;

  constructor(
    private readonly endpoint: MemcachedEndpoint,
    private readonly timeoutMs: number,
  ) {}

  private get where(): string {
    return this.endpoint.host.includes(':') ? `[${this.endpoint.host}]:${this.endpoint.port}` : `${this.endpoint.host}:${this.endpoint.port}`;
  }

  /** True while a connection is open (for tests and status). */
  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  async stats(signal?: AbortSignal): Promise<StatsReply> {
    if (this.busy) throw new SextantError(ErrorCode.COLLECT_FAILED, `a stats request to memcached at ${this.where} is still running`, { hint: 'raise interval or lower timeout' });
    this.busy = true;
    try {
      const socket = this.socket && !this.socket.destroyed ? this.socket : await this.open();
      return await this.request(socket, signal);
    } catch (error) {
      this.close();
      throw error;
    } finally {
      this.busy = false;
    }
  }

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.endpoint.host, port: this.endpoint.port, noDelay: true });
      const timer = setTimeout(() => fail(new SextantError(ErrorCode.CONNECTION_FAILED, `connecting to memcached at ${this.where} timed out after ${this.timeoutMs} ms`, { hint: 'is the host reachable? check endpoint and firewalls' })), this.timeoutMs);
      const fail = (error: unknown) => {
        clearTimeout(timer);
        socket.destroy();
        reject(classifySocketError(error, this.endpoint, this.where));
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        // later errors surface through the pending request (or are dropped while idle)
        socket.on('error', () => {});
        socket.once('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  private request(socket: Socket, signal?: AbortSignal): Promise<StatsReply> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      /** The last 7 bytes received: enough to see `\r\nEND\r\n` across chunk boundaries. */
      let recent = '';
      const done = (error?: SextantError, reply?: StatsReply) => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(reply!);
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          done(new SextantError(ErrorCode.PARSE_FAILED, `memcached at ${this.where} sent more than ${MAX_REPLY_BYTES} bytes without ending its stats reply`, { hint: 'is this a memcached server? check endpoint' }));
          return;
        }
        // the terminator can only be at the end of what arrived so far
        recent = (recent + chunk.toString('latin1', Math.max(0, chunk.length - 7))).slice(-7);
        if (recent.endsWith('\r\nEND\r\n') || (size === 5 && recent === 'END\r\n')) {
          done(undefined, parseStats(Buffer.concat(chunks).toString('latin1')));
          return;
        }
        const head = chunks[0]!.toString('latin1', 0, Math.min(chunks[0]!.length, 64));
        if (/^(ERROR|CLIENT_ERROR|SERVER_ERROR)/.test(head) && recent.endsWith('\r\n')) {
          const line = Buffer.concat(chunks).toString('latin1').split('\r\n')[0]!.slice(0, 200);
          done(new SextantError(/auth/i.test(line) ? ErrorCode.AUTH_FAILED : ErrorCode.COLLECT_FAILED, `memcached at ${this.where} refused stats: ${line}`, {
            hint: /auth/i.test(line) ? 'the server requires SASL authentication (binary protocol), which this collector does not speak; monitor it through a listener without -S' : 'check that stats is allowed on this server',
          }));
          return;
        }
        if (!/^(STAT |END|E|C|S)/.test(head)) {
          done(new SextantError(ErrorCode.PARSE_FAILED, `memcached at ${this.where} answered stats with something else (${JSON.stringify(head.slice(0, 40))})`, { hint: 'is this a memcached server? check endpoint' }));
        }
      };
      const onClose = () => done(new SextantError(ErrorCode.CONNECTION_FAILED, `memcached at ${this.where} closed the connection`, { hint: 'the server restarted or dropped the connection (idle timeout, max connections)' }));
      const onError = (error: unknown) => done(classifySocketError(error, this.endpoint, this.where));
      const onAbort = () => done(new SextantError(ErrorCode.COLLECT_FAILED, `stats request to memcached at ${this.where} aborted`));
      const timer = setTimeout(() => done(new SextantError(ErrorCode.COLLECT_FAILED, `memcached at ${this.where} did not answer stats within ${this.timeoutMs} ms`, { hint: 'the server is overloaded or not memcached; raise timeout if it is just far away' })), this.timeoutMs);
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.write('stats\r\n');
    });
  }

  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }
}

export function classifySocketError(error: unknown, endpoint: MemcachedEndpoint, where: string): SextantError {
  if (error instanceof SextantError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot resolve memcached host "${endpoint.host}"`, { hint: 'check the host name in endpoint', cause: error });
  return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach memcached at ${where} (${typeof code === 'string' ? code : message})`, {
    hint: `is memcached running and listening on ${where}? check endpoint (and memcached's -l listen address)`,
    cause: error,
  });
}
