/**
 * GET /api/v1/stream: server-sent events for the web UI, so new anomalies, incidents, events and
 * sample counts appear without a reload. One message per line pair (`event: <kind>`, `data: <json>`):
 *
 *   hello     { now }                                    once, on connect
 *   tick      { now, series, samples, samplesPerSecond }  every `tickMs` (also the keep-alive);
 *             `samples` since the last tick, `samplesPerSecond` over the last 30 s (collectors
 *             write in bursts every interval, so a per-tick rate would jump between 0 and peaks)
 *   anomaly   the stored anomaly, as GET /api/v1/anomalies returns it
 *   incident  { change, notify, reason?, incident }      every published incident change
 *   event     the stored event, as GET /api/v1/events returns it
 *
 * `now` is the runtime's clock (ms), so relative time ranges in the UI agree with the server.
 * The stream subscribes to the pipeline only while at least one client is connected. A client that
 * cannot keep up (more than `maxBufferedBytes` unsent) is disconnected — the browser's EventSource
 * reconnects and reloads — rather than letting its buffer grow without bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from '../runtime/runtime.js';

const RATE_WINDOW_MS = 30_000;

export interface LiveStreamOptions {
  /** Interval of `tick` messages, ms. Default 2000. */
  readonly tickMs?: number;
  /** Most concurrent clients; more are refused with 503. Default 64. */
  readonly maxClients?: number;
  /** Unsent bytes after which a slow client is dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
}

export class LiveStream {
  private readonly clients = new Set<ServerResponse>();
  private unsubscribe: (() => void)[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private samples = 0;
  /** (wall ms, samples) per tick over the last RATE_WINDOW_MS, for samplesPerSecond. */
  private recent: { at: number; samples: number }[] = [];
  private startedAt = 0;
  private readonly tickMs: number;
  private readonly maxClients: number;
  private readonly maxBuffered: number;

  constructor(private readonly runtime: Runtime, options: LiveStreamOptions = {}) {
    this.tickMs = options.tickMs ?? 2000;
    this.maxClients = options.maxClients ?? 64;
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Handles one GET /api/v1/stream request; the response stays open until the client leaves. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= this.maxClients) {
      const body = JSON.stringify({ error: { code: 'SEXTANT_ERR_LIMIT_EXCEEDED', message: `too many live clients (${this.maxClients})`, hint: 'close other Sextant tabs, or poll the API instead' } });
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '10' });
      res.end(body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    if (this.clients.size === 1) this.start();
    this.write(res, 'hello', { now: this.runtime.clock.now() });
    const leave = () => {
      if (!this.clients.delete(res)) return;
      if (this.clients.size === 0) this.stop();
    };
    req.on('close', leave);
    res.on('close', leave);
    res.on('error', leave);
  }

  /** Ends every client's stream (server shutdown). */
  close(): void {
    for (const res of [...this.clients]) res.end();
    this.clients.clear();
    this.stop();
  }

  private start(): void {
    const pipeline = this.runtime.pipeline;
    this.samples = 0;
    this.recent = [];
    this.startedAt = Date.now();
    this.unsubscribe = [
      pipeline.observe((batch) => void (this.samples += batch.length)),
      pipeline.onAnomaly((anomaly) => this.broadcast('anomaly', anomaly)),
      pipeline.onIncident((update) => this.broadcast('incident', { change: update.change, notify: update.notify !== false, ...(update.reason ? { reason: update.reason } : {}), incident: update.incident })),
      pipeline.onEvent((event) => this.broadcast('event', event)),
    ];
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  private stop(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const wall = Date.now();
    const samples = this.samples;
    this.samples = 0;
    this.recent.push({ at: wall, samples });
    while (this.recent.length && this.recent[0].at <= wall - RATE_WINDOW_MS) this.recent.shift();
    const seconds = Math.max(0.001, (wall - Math.max(this.startedAt, wall - RATE_WINDOW_MS)) / 1000);
    const inWindow = this.recent.reduce((sum, r) => sum + r.samples, 0);
    this.broadcast('tick', { now: this.runtime.clock.now(), series: this.runtime.registry.size, samples, samplesPerSecond: Math.round((inWindow / seconds) * 10) / 10 });
  }

  private broadcast(kind: string, data: unknown): void {
    if (this.clients.size === 0) return;
    let text: string;
    try {
      text = `event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
    } catch {
      return;
    }
    for (const res of this.clients) this.send(res, text);
  }

  private write(res: ServerResponse, kind: string, data: unknown): void {
    this.send(res, `event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private send(res: ServerResponse, text: string): void {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > this.maxBuffered) {
      // Too slow: drop it; EventSource reconnects and the page reloads what it shows.
      res.destroy();
      return;
    }
    res.write(text);
  }
}
