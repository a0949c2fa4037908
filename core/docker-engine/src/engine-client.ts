/**
 * A small Docker Engine API client (node:http/https, no dependency) over a unix socket or TCP
 * (optionally TLS, as `dockerd --tlsverify` serves it). Works with Docker and with Podman's
 * Docker-compatible service (`podman system service`).
 *
 * - `connect()` reads `/version` and pins the API version: the engine's own `ApiVersion`, capped
 *   at {@link MAX_API_VERSION} (newer fields are not needed) and refused below
 *   {@link MIN_API_VERSION}.
 * - Socket errors become coded SextantErrors with a hint: a missing socket and a refused
 *   connection are CONNECTION_FAILED, permission denied is AUTH_FAILED.
 * - Responses larger than {@link MAX_RESPONSE_BYTES} are refused (a runaway engine cannot exhaust
 *   memory); bodies that are not JSON are PARSE_FAILED.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { EngineEvent, EngineInfo, EngineInspect, EngineListEntry, EngineVersion, SwarmNode, SwarmService, SwarmTask } from './engine-types.js';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.43';
/** Upper bound of one response body (a list of thousands of containers stays far below). */
export const MAX_RESPONSE_BYTES = 64 * 2 ** 20;

export type EngineRuntime = 'docker' | 'podman';

/**
 * Where the engine listens. A string is a unix socket path (`/var/run/docker.sock`, also
 * `unix:///...`) or `tcp://host:port`; TLS needs the object form with PEM contents.
 */
export type EngineEndpoint = string | { readonly socketPath: string } | EngineTcpEndpoint;

export interface EngineTcpEndpoint {
  readonly host: string;
  readonly port: number;
  /** PEM texts; with `tls` the client speaks HTTPS and verifies the engine against `ca`. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

/** Options of {@link EngineClient.followEvents}. */
export interface FollowEventsOptions {
  /** `filters` of `/events`, e.g. `{ type: ['service', 'node'] }`. Default: containers only. */
  readonly filters?: Readonly<Record<string, readonly string[]>>;
  /** Replay buffered events from this engine time on: `<seconds>.<nanoseconds>` (inclusive). */
  readonly since?: string;
  /** Called once the engine accepted the stream, with its `Date` header (ms) when present. */
  readonly onOpen?: (engineDateMs: number | undefined) => void;
}

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
        hint: 'start the engine (dockerd, or `podman system service`) or set the plugin\'s `socket` option / DOCKER_HOST=unix://<path>',
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
      return new SextantError(ErrorCode.AUTH_FAILED, `permission denied on container engine socket ${socketPath}`, {
        hint: 'run the agent as root or add its user to the group that owns the socket (usually `docker`)',
        cause: error,
      });
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new SextantError(ErrorCode.AUTH_FAILED, `the engine at ${socketPath} presented a certificate that does not verify: ${error.message}`, {
        hint: 'give the CA that signed the engine certificate (tls.ca) and connect by a name or address the certificate lists',
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

/** True when `e` is the engine saying it is not a swarm manager (HTTP 503 on the cluster endpoints). */
export function isNotSwarmManager(e: unknown): boolean {
  return e instanceof SextantError && e.details.swarm === 'not-manager';
}

export class EngineClient {
  private apiPrefix = '';
  /** Negotiated API version, after connect(). */
  apiVersion = '';
  runtime: EngineRuntime = 'docker';
  engineVersion = '';
  /** The socket path, or `host:port` for TCP: what error messages name. */
  readonly socketPath: string;
  private readonly base: RequestOptions;
  /** `Host` header: the TCP endpoint (TLS verifies the certificate against it), a placeholder on a socket. */
  private readonly hostHeader: string;
  private readonly request: typeof httpRequest;

  constructor(
    endpoint: EngineEndpoint,
    private readonly timeoutMs = 5_000,
    /** Upper bound of one response body; a swarm of 10,000 tasks answers /tasks with ~30 MB. */
    private readonly maxResponseBytes = MAX_RESPONSE_BYTES,
  ) {
    const ep: { socketPath: string } | EngineTcpEndpoint = typeof endpoint === 'string' ? parseEndpoint(endpoint) : endpoint;
    if ('socketPath' in ep) {
      this.socketPath = ep.socketPath;
      this.base = { socketPath: ep.socketPath };
      this.hostHeader = 'engine';
      this.request = httpRequest;
    } else {
      this.socketPath = `${ep.host}:${ep.port}`;
      const tls = ep.tls;
      this.base = tls ? ({ host: ep.host, port: ep.port, ca: tls.ca, cert: tls.cert, key: tls.key } as RequestOptions) : { host: ep.host, port: ep.port };
      this.hostHeader = ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
      this.request = (tls ? httpsRequest : httpRequest) as typeof httpRequest;
    }
  }

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

  /** `/info`: host capacity as the engine sees it (NCPU, MemTotal) and the local swarm state. */
  info(signal?: AbortSignal): Promise<EngineInfo> {
    return this.getJson('/info', signal);
  }

  /** `/nodes` (managers only; a worker answers 503, see {@link isNotSwarmManager}). */
  listNodes(signal?: AbortSignal): Promise<SwarmNode[]> {
    return this.getJson('/nodes', signal);
  }

  /** `/services?status=true`: with running/desired task counts on API 1.41+. */
  listServices(signal?: AbortSignal): Promise<SwarmService[]> {
    return this.getJson(`/services${compareVersions(this.apiVersion || MIN_API_VERSION, '1.41') >= 0 ? '?status=true' : ''}`, signal);
  }

  /** `/tasks`, optionally filtered (`{ service: [...] }`, `{ 'desired-state': ['running'] }`). */
  listTasks(filters?: Readonly<Record<string, readonly string[]>>, signal?: AbortSignal): Promise<SwarmTask[]> {
    return this.getJson(`/tasks${filters ? `?filters=${encodeURIComponent(JSON.stringify(filters))}` : ''}`, signal);
  }

  /**
   * Follows `/events` until the stream ends (engine stopped, `signal` aborted). Calls `onEvent`
   * for every message and `onMalformed` for every line that is not a JSON object. Resolves when
   * the stream ends; rejects with a coded error when it cannot be opened. Resuming without loss
   * is {@link ResumableEventStream}'s job.
   */
  followEvents(
    onEvent: (e: EngineEvent) => void,
    onMalformed: (line: string) => void,
    signal: AbortSignal,
    onOpenOrOptions?: (() => void) | FollowEventsOptions,
  ): Promise<void> {
    const options: FollowEventsOptions = typeof onOpenOrOptions === 'function' ? { onOpen: onOpenOrOptions } : (onOpenOrOptions ?? {});
    const filters = encodeURIComponent(JSON.stringify(options.filters ?? { type: ['container'] }));
    const since = options.since !== undefined ? `&since=${encodeURIComponent(options.since)}` : '';
    return new Promise((resolve, reject) => {
      const req = this.request({ ...this.base, path: `${this.apiPrefix}/events?filters=${filters}${since}`, method: 'GET', headers: { Host: this.hostHeader }, signal }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new SextantError(ErrorCode.CONNECTION_FAILED, `container engine refused the event stream (HTTP ${res.statusCode})`, { hint: 'check the engine logs', details: { status: res.statusCode } }));
          return;
        }
        const date = Date.parse(String(res.headers.date ?? ''));
        options.onOpen?.(Number.isFinite(date) ? date : undefined);
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (buffer.length > this.maxResponseBytes) {
            onMalformed(buffer.slice(0, 80));
            buffer = '';
          }
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
      const req = this.request({ ...this.base, path: fullPath, method: 'GET', headers: { Host: this.hostHeader }, timeout: this.timeoutMs, signal }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxResponseBytes) {
            req.destroy();
            reject(new SextantError(ErrorCode.LIMIT_EXCEEDED, `container engine response to ${path} exceeds ${this.maxResponseBytes} bytes`, { hint: 'raise the response limit or report a bug' }));
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
          if (status === 503 && /swarm manager|not part of a swarm/i.test(text)) {
            reject(
              new SextantError(ErrorCode.CONNECTION_FAILED, `container engine at ${this.socketPath} is not a swarm manager: ${engineMessage(text)}`, {
                hint: 'point the swarm plugin at a manager (the agents on workers still report their own containers)',
                details: { status, swarm: 'not-manager' },
              }),
            );
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

/** The `message` of an engine error body (`{"message":"..."}`), else the text's start. */
function engineMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m.slice(0, 200);
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

/** `unix:///run/docker.sock`, `/run/docker.sock` or `tcp://host:2375` as an endpoint object. */
export function parseEndpoint(text: string): { socketPath: string } | EngineTcpEndpoint {
  if (text.startsWith('tcp://') || text.startsWith('http://')) {
    const url = new URL(text.replace(/^tcp:/, 'http:'));
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) };
  }
  return { socketPath: text.replace(/^unix:\/\//, '') };
}

/**
 * The engine socket to use: the configured one (`unix://` prefix allowed), else `DOCKER_HOST` when
 * it names a unix socket, else Docker's default `/var/run/docker.sock`.
 */
export function resolveEngineSocket(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (configured) return configured.replace(/^unix:\/\//, '');
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost?.startsWith('unix://')) return dockerHost.slice('unix://'.length);
  return '/var/run/docker.sock';
}
