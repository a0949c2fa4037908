/**
 * Shared pieces of the outbox tests: an HTTP receiver that can fail the way endpoints fail
 * (500s, refused connections, 400s) and dedups by idempotency key like a real receiver should,
 * a notifier that POSTs to it, a scripted in-process notifier, and incident updates.
 */
import { createServer, type Server } from 'node:http';
import { z } from 'zod';
import {
  createNotifierFactory,
  createPlugin,
  notifiersExtensionPoint,
  type DeliveryOutcome,
  type Incident,
  type IncidentUpdate,
  type Notification,
} from '@sextant/plugin-api';
import type { FakeClock } from '@sextant/testkit';
import type { Runtime } from '../src/index.js';

export type ReceiverMode = 'ok' | 'fail-500' | 'reject-400' | 'refuse';

export interface ReceivedRequest {
  readonly key: string;
  readonly incidentId: string;
  readonly sequence: number;
  readonly attempt: number;
  readonly status: number;
}

/** A webhook receiver on 127.0.0.1 that answers according to `mode`; `refuse` closes the port. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Keys answered with 2xx, first time only (what a deduplicating receiver acts on). */
  readonly accepted: ReceivedRequest[] = [];
  readonly duplicates: ReceivedRequest[] = [];
  private readonly seen = new Set<string>();
  private server: Server | undefined;
  private modeValue: ReceiverMode = 'ok';
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  get mode(): ReceiverMode {
    return this.modeValue;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        let parsed: { key?: string; incidentId?: string; sequence?: number; attempt?: number } = {};
        try {
          parsed = JSON.parse(body) as typeof parsed;
        } catch {
          res.writeHead(400).end('bad json');
          return;
        }
        const status = this.modeValue === 'fail-500' ? 500 : this.modeValue === 'reject-400' ? 400 : 200;
        const request: ReceivedRequest = { key: String(parsed.key), incidentId: String(parsed.incidentId), sequence: Number(parsed.sequence), attempt: Number(parsed.attempt), status };
        this.requests.push(request);
        if (status === 200) {
          if (this.seen.has(request.key)) this.duplicates.push(request);
          else {
            this.seen.add(request.key);
            this.accepted.push(request);
          }
        }
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.server = server;
  }

  async setMode(mode: ReceiverMode): Promise<void> {
    if (mode === this.modeValue) return;
    if (mode === 'refuse') await this.stop();
    else if (this.modeValue === 'refuse') await this.start(this.port);
    this.modeValue = mode;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A notifier that POSTs `{key, incidentId, sequence, attempt}`: 2xx ok, 429/5xx/network retryable, other 4xx not. */
export const httpPostFactory = createNotifierFactory({
  type: 'http-post',
  stability: 'development',
  description: 'test notifier posting JSON',
  configSchema: z.object({ url: z.string().url() }),
  defaults: {},
  create(ctx) {
    return {
      async deliver(n: Notification): Promise<DeliveryOutcome> {
        try {
          const res = await fetch(ctx.config.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': n.idempotencyKey },
            body: JSON.stringify({ key: n.idempotencyKey, incidentId: n.update.incident.id, sequence: n.update.sequence, attempt: n.attempt }),
            signal: AbortSignal.timeout(5000),
          });
          await res.text();
          if (res.ok) return { ok: true };
          return { ok: false, retryable: res.status === 429 || res.status >= 500, error: `HTTP ${res.status}` };
        } catch (e) {
          return { ok: false, retryable: true, error: (e as Error).message };
        }
      },
      shutdown() {},
    };
  },
});

export type Script = (n: Notification) => DeliveryOutcome | Promise<DeliveryOutcome>;

/** Behaviour of `scripted/<name>` notifiers, set by the test; every call is recorded. */
export const scripts = new Map<string, { script: Script; calls: Notification[] }>();

export function script(name: string, fn: Script): Notification[] {
  const calls: Notification[] = [];
  scripts.set(name, { script: fn, calls });
  return calls;
}

export const scriptedFactory = createNotifierFactory({
  type: 'scripted',
  stability: 'development',
  description: 'test notifier driven by a script',
  configSchema: z.object({ script: z.string() }),
  defaults: {},
  create(ctx) {
    return {
      async deliver(n: Notification): Promise<DeliveryOutcome> {
        const s = scripts.get(ctx.config.script);
        if (!s) return { ok: false, retryable: true, error: `no script ${ctx.config.script}` };
        s.calls.push(n);
        return s.script(n);
      },
      shutdown() {},
    };
  },
});

export const notifierPlugin = createPlugin({
  pluginId: 'outbox-test',
  deps: { notifiers: notifiersExtensionPoint },
  register: ({ notifiers }) => {
    notifiers.addFactory(httpPostFactory);
    notifiers.addFactory(scriptedFactory);
  },
});

export function incidentUpdate(id: string, sequence: number, overrides: Partial<Incident> = {}, extra: Partial<IncidentUpdate> = {}): IncidentUpdate {
  const t = Date.UTC(2026, 0, 1);
  return {
    change: sequence === 1 ? 'opened' : 'updated',
    sequence,
    incident: {
      id,
      title: `incident ${id}`,
      status: 'open',
      impact: 'infrastructure',
      severity: 'warning',
      openedAt: t,
      updatedAt: t + sequence,
      entities: ['service:web'],
      anomalyIds: [],
      eventIds: [],
      causes: [],
      timeline: [],
      suppressed: [],
      ...overrides,
    },
    ...extra,
  };
}

/** Advances the fake clock in steps, letting real I/O started by due attempts finish after each. */
export async function runFor(runtime: Runtime, clock: FakeClock, ms: number, stepMs = 1000): Promise<void> {
  await runtime.dispatcher.whenIdle();
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advanceAsync(Math.min(stepMs, ms - t));
    await runtime.dispatcher.whenIdle();
  }
}

/** Advances until nothing is pending (or `limitMs` of simulated time passed). */
export async function runUntilDelivered(runtime: Runtime, clock: FakeClock, limitMs: number, stepMs = 1000): Promise<void> {
  await runtime.dispatcher.whenIdle();
  for (let t = 0; t < limitMs && runtime.dispatcher.pending > 0; t += stepMs) {
    await clock.advanceAsync(stepMs);
    await runtime.dispatcher.whenIdle();
  }
}

/** Keys grouped by incident in the order given. */
export function sequencesByIncident(items: readonly { incidentId: string; sequence: number }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of items) {
    const list = out.get(i.incidentId) ?? [];
    list.push(i.sequence);
    out.set(i.incidentId, list);
  }
  return out;
}
