/**
 * The live feed: one EventSource on GET /api/v1/stream for the whole page. Views subscribe to the
 * message types they show; the browser reconnects by itself when the server goes away, and the
 * feed reports whether it is connected (the banner and the "live" dot read it).
 */
import type { StreamMessages } from './api-types.js';

type Kind = keyof StreamMessages;
type Listener<K extends Kind> = (message: StreamMessages[K]) => void;

const listeners: { [K in Kind]: Set<Listener<K>> } = { hello: new Set(), tick: new Set(), anomaly: new Set(), incident: new Set(), event: new Set() };
const statusListeners = new Set<(connected: boolean) => void>();
let source: EventSource | undefined;
let connected = false;
/** Server clock minus this browser's clock, ms; known after the first message. */
let clockOffset: number | undefined;

function setConnected(value: boolean): void {
  if (value === connected) return;
  connected = value;
  for (const l of statusListeners) l(value);
}

function open(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('./api/v1/stream');
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false);
  for (const kind of Object.keys(listeners) as Kind[]) {
    source.addEventListener(kind, (e) => {
      let data: unknown;
      try {
        data = JSON.parse((e as MessageEvent<string>).data);
      } catch {
        return;
      }
      if ((kind === 'hello' || kind === 'tick') && typeof (data as { now?: unknown }).now === 'number') clockOffset = (data as { now: number }).now - Date.now();
      for (const l of listeners[kind]) (l as (m: unknown) => void)(data);
    });
  }
}

export function subscribe<K extends Kind>(kind: K, listener: Listener<K>): () => void {
  open();
  listeners[kind].add(listener);
  return () => listeners[kind].delete(listener);
}

/**
 * The server's "now" (ms). Relative times ("3 min ago") and timeline ends use it, because the
 * server's clock is what stamps samples and incidents. Undefined until the stream has said hello.
 */
export function serverNow(): number | undefined {
  return clockOffset === undefined ? undefined : Date.now() + clockOffset;
}

export function liveConnected(): boolean {
  return connected;
}

export function onLiveStatus(listener: (connected: boolean) => void): () => void {
  open();
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}
