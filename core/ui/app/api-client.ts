/**
 * The UI's only way to the server: `fetch` against the same origin, JSON in and out, the write
 * token from sessionStorage, and a connection state the banner shows ("API unreachable, retrying").
 *
 * Contract: `get()` never throws for a network failure, a 5xx or a request that gets no answer
 * within REQUEST_TIMEOUT_MS on its own — it retries with backoff (1 s, 2 s, 4 s, ... capped at 15 s;
 * `backoffDelayMs` of `@sextant/plugin-kit`, no jitter: one browser tab is not a crowd)
 * and reports `down` meanwhile; a 4xx is an answer and is thrown as ApiError at once (with the
 * server's code, message and hint). While a request has been waiting longer than SLOW_MS the state
 * says so (`slowSince`), so a slow server is told apart from a dead one.
 */
import { backoffDelayMs } from '@sextant/plugin-kit/backoff';

export const SLOW_MS = 3000;
const RETRY_BACKOFF = { initialMs: 1000, maxMs: 15_000, jitter: 0 } as const;
export const REQUEST_TIMEOUT_MS = 30_000;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export type ConnectionState = { readonly up: true; readonly slowSince?: number } | { readonly up: false; readonly reason: string; readonly retryAt: number };

const TOKEN_KEY = 'sextant.token';
const listeners = new Set<(s: ConnectionState) => void>();
let state: ConnectionState = { up: true };

export function connectionState(): ConnectionState {
  return state;
}

export function onConnectionChange(listener: (s: ConnectionState) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setState(next: ConnectionState): void {
  if (next.up && state.up && next.slowSince === state.slowSince) return;
  state = next;
  for (const l of listeners) l(state);
}

/** Start times of requests in flight; a once-a-second check turns the oldest into `slowSince`. */
const inflight = new Set<{ readonly startedAt: number }>();
let slowCheck: ReturnType<typeof setInterval> | undefined;

function checkSlow(): void {
  let oldest = Number.POSITIVE_INFINITY;
  for (const r of inflight) oldest = Math.min(oldest, r.startedAt);
  if (!state.up) return;
  const slowSince = Date.now() - oldest > SLOW_MS ? oldest : undefined;
  setState(slowSince === undefined ? { up: true } : { up: true, slowSince });
  if (inflight.size === 0 && slowCheck !== undefined) {
    clearInterval(slowCheck);
    slowCheck = undefined;
  }
}

function track(): () => void {
  const entry = { startedAt: Date.now() };
  inflight.add(entry);
  slowCheck ??= setInterval(checkSlow, 1000);
  return () => {
    inflight.delete(entry);
    checkSlow();
  };
}

export function storedToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function storeToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled (private mode): the token lives for this page only.
  }
}

/** Resolves after `ms`, or at once when a retry is requested with `retryNow()`. */
const sleepers = new Set<() => void>();
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      sleepers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    sleepers.add(wake);
  });
}

/** Wakes every request waiting to retry. */
export function retryNow(): void {
  for (const wake of [...sleepers]) wake();
}

async function readError(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; hint?: string } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // Not JSON (a proxy's error page): fall back to the status line.
  }
  return new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText, body.error?.hint);
}

/** GET a JSON resource, retrying while the server is unreachable or failing. */
export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    const done = track();
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    try {
      const res = await fetch(path, { headers: { accept: 'application/json' }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      if (res.ok) {
        const body = (await res.json()) as T;
        done();
        setState({ up: true });
        return body;
      }
      const error = await readError(res);
      done();
      if (res.status < 500) {
        setState({ up: true });
        throw error;
      }
      reason = `${res.status}: ${error.message}`;
    } catch (e) {
      done();
      if (e instanceof ApiError) throw e;
      if (signal?.aborted) throw e;
      reason = timeout.aborted ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : 'the server does not answer';
    }
    const delay = backoffDelayMs(attempt + 1, RETRY_BACKOFF);
    setState({ up: false, reason, retryAt: Date.now() + delay });
    await pause(delay);
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
  }
}

/** POST JSON with the stored token. Throws ApiError for every non-2xx (401: token missing or wrong). */
export async function post<T>(path: string, body: unknown): Promise<T> {
  return write<T>('POST', path, body);
}

/** DELETE with the stored token (ends a silence). Throws ApiError for every non-2xx. */
export async function remove<T>(path: string): Promise<T> {
  return write<T>('DELETE', path);
}

async function write<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const token = storedToken();
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'the server does not answer; nothing was changed', 'check that sextant is running and try again');
  }
  if (!res.ok) throw await readError(res);
  setState({ up: true });
  return (await res.json()) as T;
}

/** A sentence for a person, for an ApiError or anything else thrown. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'The token is missing or wrong (it may have expired). Enter the server token above and try again.';
    if (e.status === 403) return `Writes are disabled on this server: ${e.message}.${e.hint ? ` ${e.hint}` : ''}`;
    return `${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
  }
  return (e as Error)?.message ?? String(e);
}
