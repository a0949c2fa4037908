/**
 * One authenticated connection to the API server, built with @kubernetes/client-node's KubeConfig
 * (kubeconfig file or in-cluster service account), and plain JSON requests over it. On a 401 the
 * credentials are loaded again (a rotated service-account token or an edited kubeconfig) before
 * the next attempt.
 */
import { KubeConfig } from '@kubernetes/client-node';
import fetch, { type RequestInit, type Response } from 'node-fetch';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { KubernetesConfig } from './config.js';

/** A failed API call, with the metav1.Status the server sent when it sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    /** For 429/503: seconds the server asked us to wait. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface WatchStream {
  /** Ends the stream; `onEnd` is not called after this. */
  close(): void;
}

export type ConfigSource = Pick<KubernetesConfig, 'auth' | 'kubeconfig' | 'context'>;

export function loadKubeConfig(source: ConfigSource): KubeConfig {
  const kc = new KubeConfig();
  const inCluster = source.auth === 'in-cluster' || (source.auth === 'auto' && !source.kubeconfig && !!process.env.KUBERNETES_SERVICE_HOST);
  try {
    if (inCluster) kc.loadFromCluster();
    else if (source.kubeconfig) kc.loadFromFile(source.kubeconfig);
    else kc.loadFromDefault();
    if (source.context) kc.setCurrentContext(source.context);
  } catch (e) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `kubernetes: cannot load ${inCluster ? 'the in-cluster service account' : `kubeconfig ${source.kubeconfig ?? '(default)'}`}: ${(e as Error).message}`, {
      hint: inCluster ? 'run inside a pod with a service account, or set auth: kubeconfig' : 'set kubeconfig: to a readable kubeconfig file, or run in a cluster with auth: in-cluster',
    });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, 'kubernetes: the kubeconfig has no current cluster', { hint: 'set current-context in the kubeconfig or context: in the collector config' });
  }
  return kc;
}

export class KubeConnection {
  private kc: KubeConfig;

  constructor(private readonly source: ConfigSource) {
    this.kc = loadKubeConfig(source);
  }

  get server(): string {
    return this.kc.getCurrentCluster()!.server;
  }

  /** Loads credentials again (after a 401). Keeps the old ones when the new load fails. */
  reloadCredentials(): boolean {
    try {
      this.kc = loadKubeConfig(this.source);
      return true;
    } catch {
      return false;
    }
  }

  private async init(method: string, signal?: AbortSignal, body?: unknown): Promise<RequestInit> {
    const init = (await this.kc.applyToFetchOptions({})) as RequestInit;
    init.method = method;
    const headers = (init.headers ?? {}) as Record<string, string>;
    headers.accept = 'application/json';
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    init.headers = headers;
    if (signal) init.signal = signal as NonNullable<RequestInit['signal']>;
    return init;
  }

  private url(path: string, query: Record<string, string | undefined> = {}): string {
    const u = new URL(this.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, v);
    return u.toString();
  }

  /** GET/POST/PUT one JSON document; non-2xx answers throw KubeApiError. */
  async request<T>(method: string, path: string, options: { query?: Record<string, string | undefined>; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query), await this.init(method, options.signal, options.body));
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new KubeApiError(0, 'ConnectionFailed', `cannot reach the API server at ${this.server}: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new KubeApiError(res.status, 'ParseFailed', `${method} ${path}: the API server answered ${res.status} with a body that is not JSON`);
      }
    }
    throw toApiError(res, text, `${method} ${path}`);
  }

  /**
   * Opens a watch; every line is parsed and handed to `onEvent`. `onEnd(error?)` runs once when the
   * stream ends (error undefined for a clean end by the server).
   */
  async watch(path: string, query: Record<string, string | undefined>, onEvent: (event: { type: string; object: any }) => void, onEnd: (error?: Error) => void): Promise<WatchStream> {
    const controller = new AbortController();
    let ended = false;
    const end = (e?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(e);
    };
    let res: Response;
    try {
      res = await fetch(this.url(path, { ...query, watch: 'true' }), await this.init('GET', controller.signal));
    } catch (e) {
      throw new KubeApiError(0, 'ConnectionFailed', `cannot reach the API server at ${this.server}: ${(e as Error).message}`);
    }
    if (!res.ok) throw toApiError(res, await res.text(), `watch ${path}`);
    const body = res.body;
    let buffer = '';
    body.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        let event: { type: string; object: any };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          end(new KubeApiError(200, 'ParseFailed', `watch ${path}: a line of the stream is not JSON`));
          controller.abort();
          return;
        }
        if (!ended) onEvent(event);
      }
      // A line longer than 16 MiB without a newline is not a watch event.
      if (buffer.length > 16 * 1024 * 1024) {
        end(new KubeApiError(200, 'ParseFailed', `watch ${path}: an event larger than 16 MiB`));
        controller.abort();
      }
    });
    body.on('end', () => end());
    body.on('error', (e: Error) => end(e.name === 'AbortError' ? undefined : e));
    return {
      close: () => {
        ended = true;
        controller.abort();
      },
    };
  }
}

function toApiError(res: Response, text: string, what: string): KubeApiError {
  let status: { reason?: string; message?: string; details?: { retryAfterSeconds?: number } } = {};
  try {
    status = JSON.parse(text) as typeof status;
  } catch {
    // not a Status
  }
  const retryHeader = Number(res.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : status.details?.retryAfterSeconds;
  return new KubeApiError(res.status, status.reason ?? res.statusText, `${what}: ${res.status} ${status.message ?? res.statusText}`, retryAfter);
}
