/**
 * OTLP/gRPC: the exporter's metrics reach Sextant's own OTLP/gRPC receiver (the IngestServer's
 * MetricsService/Export) with names, values and attributes intact; gRPC statuses are classified
 * (UNAUTHENTICATED final, a dead port retryable).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IngestServer, type IngestHandler } from '@sextant/protocol';
import { LEARNING_STATE_CODES, type SampleBatch, type SeriesDescriptor } from '@sextant/plugin-api';
import { Server, ServerCredentials, status as grpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { RecordingLogger, RecordingMetrics, freePort, resolveConfig, systemClock } from '@sextant/testkit';
import { IncidentLogsNotifier, OTLP_SIGNAL_METRICS, otlpLogsNotifierFactory } from '../src/index.js';
import { decodeLogsRequest, type DecodedLogRecord } from './otlp-schema.js';
import { startExporter, until } from './exporter-context.js';

const TOKEN = 'otlp-grpc-token-0123456789';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

class Stored implements IngestHandler {
  readonly descriptors = new Map<number, SeriesDescriptor>();
  readonly samples: { metric: string; attributes: SeriesDescriptor['attributes']; value: number }[] = [];
  private next = 1;
  onSeries(_s: string, _l: number, d: SeriesDescriptor): number {
    this.descriptors.set(this.next, d);
    return this.next++;
  }
  onBatch(_s: string, b: SampleBatch): void {
    for (let i = 0; i < b.length; i++) {
      const d = this.descriptors.get(b.series[i]!)!;
      this.samples.push({ metric: d.metric, attributes: d.attributes, value: b.values[i]! });
    }
  }
}

const SERIES: SeriesDescriptor[] = [{ metric: 'queue.depth', unit: '{message}', type: 'gauge', resource: { 'service.name': 'worker' }, attributes: { queue: 'orders' } }];
const T0 = 1_764_000_000_000;
const one = (value: number): SampleBatch => ({ length: 1, series: new Uint32Array([0]), timestamps: new Float64Array([T0]), values: new Float64Array([value]) });

describe('OTLP/gRPC', () => {
  it('delivers samples and signals to Sextant’s OTLP/gRPC receiver', async () => {
    const handler = new Stored();
    const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => ingest.shutdown(500));
    const x = await startExporter(SERIES, { protocol: 'grpc', endpoint: `http://127.0.0.1:${ingest.port}`, headers: { authorization: `Bearer ${TOKEN}` }, backoff: { initial: 10, max: 50 } });
    cleanups.push(() => x.exporter.shutdown());
    x.exporter.exportSamples(one(17), { expected: new Float64Array([12]), lower: new Float64Array([8]), upper: new Float64Array([16]), state: new Uint8Array([LEARNING_STATE_CODES.provisional]) });
    await until(() => handler.samples.length === 5 && x.metrics.counters.otlp_requests_sent_total === 1);
    expect(handler.samples).toEqual(
      expect.arrayContaining([
        { metric: 'queue.depth', attributes: { queue: 'orders' }, value: 17 },
        { metric: OTLP_SIGNAL_METRICS.expected, attributes: { queue: 'orders', 'sextant.metric': 'queue.depth' }, value: 12 },
        { metric: OTLP_SIGNAL_METRICS.upper, attributes: { queue: 'orders', 'sextant.metric': 'queue.depth' }, value: 16 },
        { metric: OTLP_SIGNAL_METRICS.state, attributes: { queue: 'orders', 'sextant.metric': 'queue.depth' }, value: LEARNING_STATE_CODES.provisional },
      ]),
    );
    expect(x.metrics.counters.otlp_requests_sent_total).toBe(1);
  });

  it('a wrong token is final (UNAUTHENTICATED: dropped and counted); a dead port is retried', async () => {
    const handler = new Stored();
    const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: TOKEN, handler });
    cleanups.push(() => ingest.shutdown(500));
    const wrong = await startExporter(SERIES, { protocol: 'grpc', endpoint: `http://127.0.0.1:${ingest.port}`, headers: { authorization: 'Bearer wrong-token-value' } });
    cleanups.push(() => wrong.exporter.shutdown());
    wrong.exporter.exportSamples(one(1), undefined);
    await until(() => wrong.metrics.counters.otlp_requests_rejected_total === 1);
    expect(wrong.statuses.at(-1)?.message).toContain('UNAUTHENTICATED');
    expect(wrong.statuses.at(-1)?.message).not.toContain('wrong-token-value');
    expect(handler.samples).toEqual([]);

    const dead = await startExporter(SERIES, { protocol: 'grpc', endpoint: `http://127.0.0.1:${await freePort()}`, backoff: { initial: 10, max: 50 } });
    cleanups.push(() => dead.exporter.shutdown());
    dead.exporter.exportSamples(one(1), undefined);
    await until(() => (dead.metrics.counters.otlp_request_failures_total ?? 0) >= 2);
    expect(dead.statuses.at(-1)?.message).toContain('UNAVAILABLE');
    expect(dead.exporter.pending.requests).toBe(1);
  });
});

describe('OTLP/gRPC logs', () => {
  it('delivers an incident record to a LogsService/Export server; its INVALID_ARGUMENT is final', async () => {
    const received: { records: DecodedLogRecord[]; authorization: unknown }[] = [];
    let refuseNext = false;
    const server = new Server();
    const identity = (b: Buffer) => b;
    server.addService(
      { Export: { path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
      {
        Export(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) {
          if (refuseNext) return callback({ code: grpcStatus.INVALID_ARGUMENT, details: 'bad record' });
          received.push({ records: decodeLogsRequest(new Uint8Array(call.request)), authorization: call.metadata.get('authorization')[0] });
          callback(null, Buffer.alloc(0));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    cleanups.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    const config = await resolveConfig(otlpLogsNotifierFactory, { protocol: 'grpc', endpoint: `http://127.0.0.1:${port}`, headers: { authorization: 'Bearer logs-token' } });
    const n = new IncidentLogsNotifier({ config, metrics: new RecordingMetrics(), logger: new RecordingLogger(), instanceId: 'otlp-logs/grpc', clock: systemClock, dataDir: undefined, signal: new AbortController().signal, status: { set: () => undefined } });
    cleanups.push(() => n.shutdown());
    const incident = { id: 'inc-9', title: 'Queue backs up', status: 'open' as const, impact: 'infrastructure' as const, severity: 'warning' as const, openedAt: T0, updatedAt: T0, entities: ['service:worker'], anomalyIds: [], eventIds: [], causes: [], timeline: [], suppressed: [] };
    expect(await n.deliver({ idempotencyKey: 'inc-9:1', attempt: 1, update: { change: 'opened', sequence: 1, incident } })).toMatchObject({ ok: true });
    expect(received[0]!.authorization).toBe('Bearer logs-token');
    expect(received[0]!.records[0]).toMatchObject({ eventName: 'sextant.incident', severityText: 'WARN', attributes: { 'sextant.incident.id': 'inc-9', 'sextant.incident.impact': 'infrastructure', 'sextant.incident.title': 'Queue backs up' } });
    refuseNext = true;
    expect(await n.deliver({ idempotencyKey: 'inc-9:2', attempt: 1, update: { change: 'updated', sequence: 2, incident } })).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('INVALID_ARGUMENT: bad record') });
  });
});
