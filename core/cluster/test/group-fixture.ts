/** The group-correlation tests' parts: a webhook receiver, members with the API and a notifier, helpers. */
import { createServer, type Server } from 'node:http';
import analysisPlugin from '@sextant/analysis/plugin';
import type { Incident, SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';
import { startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { ClusterMember, type ClusterMemberOptions } from '../src/index.js';
import webhookPlugin from './fixtures/webhook-test-plugin.js';

export const TOKEN = 'group-test-token-0123456789';

export interface Received {
  readonly key: string;
  readonly change: string;
  readonly incident: string;
  readonly reason: string;
  /** The member that delivered it, and when it arrived. */
  readonly member: string;
  readonly attempt: number;
  at: number;
}

/** A local HTTP receiver: records every POSTed notification. */
export async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        received.push({ ...(JSON.parse(body) as Received), at: Date.now() });
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((r) => server.close(() => r())) };
}

/** Threshold rules on `checkout.latency`-like metrics: a sample above 500 is an anomaly. */
export const DETECTORS = { threshold: { rules: [{ metric: 'svc.latency', above: 500 }] } };
export const CORRELATORS = { incidents: {} };

export interface GroupMember {
  readonly id: string;
  readonly rt: TestRuntime;
  readonly member: ClusterMember;
  /** Base URL of this member's API. */
  readonly api: string;
  send(source: string, samples: readonly { descriptor: SeriesDescriptor; t: number; v: number }[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startGroupMember(redisUrl: string, id: string, hookUrl: string, options: Partial<Omit<ClusterMemberOptions, 'runtime' | 'store'>> = {}): Promise<GroupMember> {
  const rt = await startTestRuntime({
    plugins: [analysisPlugin, webhookPlugin],
    config: { detectors: {}, correlators: {}, notifiers: { 'test-webhook/ops': { url: hookUrl } }, server: { token: TOKEN } },
    api: true,
  });
  const member = await ClusterMember.start({
    runtime: rt.runtime,
    store: redisUrl,
    detectors: DETECTORS,
    correlators: CORRELATORS,
    memberId: id,
    leaseMs: 10_000,
    heartbeatMs: 500,
    checkpointMs: 1000,
    pollMs: 20,
    ...options,
  }).catch(async (e: unknown) => {
    await rt.stop();
    throw e;
  });
  const localIds = new Map<string, number>();
  return {
    id,
    rt,
    member,
    api: rt.url!,
    async send(source, samples) {
      const n = samples.length;
      const batch = { length: 0, series: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
      for (const s of samples) {
        const key = `${source}\u0000${seriesKey(s.descriptor)}`;
        let sid = localIds.get(key);
        if (sid === undefined) {
          const assigned = member.ingestHandler.onSeries(source, localIds.size, s.descriptor);
          if (assigned === null) continue;
          localIds.set(key, (sid = assigned));
        }
        batch.series[batch.length] = sid;
        batch.timestamps[batch.length] = s.t;
        batch.values[batch.length] = s.v;
        batch.length++;
      }
      await member.ingestHandler.onBatch(source, batch);
    },
    async stop() {
      await member.stop();
      await rt.stop();
    },
  };
}

export function latency(service: string, host: string): SeriesDescriptor {
  return { metric: 'svc.latency', unit: 'ms', type: 'gauge', resource: { 'service.name': service, 'host.name': host }, attributes: {} };
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

export async function incidentsOf(api: string): Promise<Incident[]> {
  return (await getJson<{ incidents: Incident[] }>(`${api}/api/v1/incidents`)).body.incidents;
}
