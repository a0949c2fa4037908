/**
 * A small Docker Engine API client over a unix socket (node:http, no dependency). Works with
 * Docker and with Podman's Docker-compatible service (`podman system service`).
 *
 * - `connect()` reads `/version` and pins the API version: the engine's own `ApiVersion`, capped
 *   at {@link MAX_API_VERSION} (newer fields are not needed) and refused below
 *   {@link MIN_API_VERSION}.
 * - Socket errors become coded SextantErrors with a hint: a missing socket and a refused
 *   connection are CONNECTION_FAILED, permission denied is AUTH_FAILED.
 * - Responses larger than {@link MAX_RESPONSE_BYTES} are refused (a runaway engine cannot exhaust
 *   memory); bodies that are not JSON are PARSE_FAILED.
 */
import { request, type IncomingMessage } from 'node:http';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { EngineEvent, EngineInspect, EngineListEntry, EngineVersion } from './engine-types.js';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.43';
/** Upper bound of one response body (a list of thousands of containers stays far below). */
export const MAX_RESPONSE_BYTES = 64 * 2 ** 20;

export type EngineRuntime = 'docker' | 'podman';

function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

/** Turns a socket error into a coded error that says how to fix it. */
export function engineSocketError(socketPath: string, error: NodeJS.ErrnoException): SextantError {
  switch (error.code) {
    case 'ENOENT':
      return new SextantError(ErrorCode.CONNECTION_FAILED, `container engine socket ${socketPath} does not exist`, {
        hint: 'start the engine (dockerd, or `podman system service`) or set collectors.containers.socket / DOCKER_HOST=unix://<path>',
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
      return new SextantError(ErrorCode.AUTH_FAILED, `permission denied on container engine socket ${socketPath}`, {
        hint: 'run the agent as root or add its user to the group that owns the socket (usually `docker`)',
        cause: error,
      });
    case 'ECONNREFUSED':
      return new SextantError(ErrorCode.CONNECTION_FAILED, `nothing accepts connections on ${socketPath} (engine stopped?)`, {
        hint: 'start the container engine; the collector reconnects by itself',
        cause: error,
      });
    default:
      return new SextantError(ErrorCode.CONNECTION_FAILED, `container engine at ${socketPath}: ${error.message}`, { hint: 'check that the engine is running', cause: error });
  }
}

export class EngineClient {
  private apiPrefix = '';
  /** Negotiated API version, after connect(). */
  apiVersion = '';
  runtime: EngineRuntime = 'docker';
  engineVersion = '';

  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Reads /version and pins the API version. Throws coded errors. */
  async connect(signal?: AbortSignal): Promise<void> {
    const v = await this.getJson<EngineVersion>('/version', signal, false);
    const server = typeof v.ApiVersion === 'string' ? v.ApiVersion : MIN_API_VERSION;
    if (compareVersions(server, MIN_API_VERSION) < 0) {
      throw new SextantError(ErrorCode.CONNECTION_FAILED, `container engine speaks API ${server}; at least ${MIN_API_VERSION} is needed`, {
        hint: 'upgrade Docker to 1.12+ or Podman to 3+',
      });
    }
    this.apiVersion = compareVersions(server, MAX_API_VERSION) > 0 ? MAX_API_VERSION : server;
    this.apiPrefix = `/v${this.apiVersion}`;
    this.engineVersion = v.Version ?? '';
    const names = [v.Platform?.Name ?? '', ...(v.Components ?? []).map((c) => c.Name ?? '')].join(' ');
    this.runtime = /podman/i.test(names) ? 'podman' : 'docker';
  }

  listContainers(signal?: AbortSignal): Promise<EngineListEntry[]> {
    return this.getJson<EngineListEntry[]>('/containers/json?all=1', signal);
  }

  /** Inspects a container; undefined when it no longer exists (removed between list and inspect). */
  async inspect(id: string, signal?: AbortSignal): Promise<EngineInspect | undefined> {
    try {
      return await this.getJson<EngineInspect>(`/containers/${encodeURIComponent(id)}/json`, signal);
    } catch (e) {
      if (e instanceof SextantError && e.details.status === 404) return undefined;
      throw e;
    }
  }

  /** `/info` (NCPU, MemTotal, Name): host capacity as the engine sees it. */
  info(signal?: AbortSignal): Promise<{ NCPU?: number; MemTotal?: number; Name?: string }> {
    return this.getJson('/info', signal);
  }

  /**
   * Follows `/events` for containers until the stream ends (engine stopped, `signal` aborted).
   * Calls `onEvent` for every message and `onMalformed` for every line that is not JSON.
   * Resolves when the stream ends; rejects with a coded error when it cannot be opened.
   */
  followEvents(onEvent: (e: EngineEvent) => void, onMalformed: (line: string) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'] }));
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path: `${this.apiPrefix}/events?filters=${filters}`, method: 'GET', headers: { Host: 'engine' }, signal }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new SextantError(ErrorCode.CONNECTION_FAILED, `container engine refused the event stream (HTTP ${res.statusCode})`, { hint: 'check the engine logs' }));
          return;
        }
        onOpen?.();
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (buffer.length > MAX_RESPONSE_BYTES) buffer = '';
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            let parsed: unknown;
            try {
              parsed = JSON.parse(line);
            } catch {
              onMalformed(line);
              continue;
            }
            if (typeof parsed === 'object' && parsed !== null) onEvent(parsed as EngineEvent);
            else onMalformed(line);
          }
        });
        const done = () => resolve();
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (signal.aborted) resolve();
        else reject(engineSocketError(this.socketPath, e));
      });
      req.end();
    });
  }

  private getJson<T>(path: string, signal?: AbortSignal, versioned = true): Promise<T> {
    const fullPath = `${versioned ? this.apiPrefix : ''}${path}`;
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path: fullPath, method: 'GET', headers: { Host: 'engine' }, timeout: this.timeoutMs, signal }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            reject(new SextantError(ErrorCode.LIMIT_EXCEEDED, `container engine response to ${path} exceeds ${MAX_RESPONSE_BYTES} bytes`, { hint: 'reduce the number of containers or report a bug' }));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 404) {
            reject(new SextantError(ErrorCode.CONNECTION_FAILED, `container engine: ${path} not found`, { details: { status } }));
            return;
          }
          if (status < 200 || status >= 300) {
            reject(new SextantError(ErrorCode.CONNECTION_FAILED, `container engine answered HTTP ${status} to ${path}: ${text.slice(0, 200)}`, { hint: 'check the engine logs', details: { status } }));
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(new SextantError(ErrorCode.PARSE_FAILED, `container engine answered ${path} with something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`, { hint: 'is the socket really a Docker/Podman API socket?' }));
          }
        });
        res.on('error', (e) => reject(engineSocketError(this.socketPath, e)));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => reject(engineSocketError(this.socketPath, e)));
      req.end();
    });
  }
}
