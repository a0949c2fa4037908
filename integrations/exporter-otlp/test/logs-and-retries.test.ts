/**
 * Anomalies (exporter) and incident updates (notifier) as OTLP log records, decoded by a stand-in
 * receiver with this package's own schema; and the retry policy: 503 then 200 loses nothing,
 * 429's Retry-After is honoured, 400 is dropped and counted, a dead port keeps everything queued,
 * a partial_success is counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingLogger, RecordingMetrics, freePort, resolveConfig, systemClock } from '@sextant/testkit';
import type { Anomaly, Incident, SeriesDescriptor } from '@sextant/plugin-api';
import { ANOMALY_EVENT_NAME, INCIDENT_EVENT_NAME, IncidentLogsNotifier, SEVERITY_NUMBER, otlpLogsNotifierFactory } from '../src/index.js';
import { startExporter, until } from './exporter-context.js';
import { decodeLogsRequest } from './otlp-schema.js';
import { startStandIn } from './otlp-receiver-stand-in.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const SERIES: SeriesDescriptor[] = [{ metric: 'shop.orders', unit: '{order}', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: { region: 'eu' } }];
const T0 = 1_764_000_000_000;

const anomaly: Anomaly = {
  id: 'anom-7', seriesId: 0, metric: 'shop.orders', resource: { 'service.name': 'shop' }, attributes: { region: 'eu' },
  detector: 'baseline', kind: 'dip', timestamp: T0, value: 3, expected: 40, lower: 35, upper: 45, score: 0.97, severity: 'warning', message: 'shop.orders fell to 3 (expected 35..45)',
};

async function standIn() {
  const s = await startStandIn();
  cleanups.push(() => s.close());
  return s;
}

async function exporterTo(endpoint: string, extra: Record<string, unknown> = {}) {
  const x = await startExporter(SERIES, { endpoint, backoff: { initial: 10, max: 200 }, ...extra });
  cleanups.push(() => x.exporter.shutdown());
  return x;
}

function send(x: Awaited<ReturnType<typeof exporterTo>>, value: number): void {
  x.exporter.exportSamples({ length: 1, series: new Uint32Array([0]), timestamps: new Float64Array([T0 + value]), values: new Float64Array([value]) }, undefined);
}

describe('anomalies as OTLP log records', () => {
  it('sends one log record per anomaly with the documented fields', async () => {
    const s = await standIn();
    const x = await exporterTo(s.endpoint, { compression: 'none' });
    x.exporter.exportAnomalies([anomaly]);
    await until(() => s.accepted.some((a) => a.path === '/v1/logs'));
    const [record] = decodeLogsRequest(s.accepted.find((a) => a.path === '/v1/logs')!.body);
    expect(record).toMatchObject({
      resource: { 'service.name': 'shop' },
      scope: '@sextant/exporter-otlp',
      timeNano: BigInt(T0) * 1_000_000n,
      severityNumber: SEVERITY_NUMBER.WARN,
      severityText: 'WARN',
      body: 'shop.orders fell to 3 (expected 35..45)',
      eventName: ANOMALY_EVENT_NAME,
      attributes: {
        region: 'eu',
        'sextant.anomaly.id': 'anom-7',
        'sextant.metric': 'shop.orders',
        'sextant.detector': 'baseline',
        'sextant.anomaly.kind': 'dip',
        'sextant.anomaly.score': 0.97,
        'sextant.anomaly.value': 3,
        'sextant.expected': 40,
        'sextant.band.lower': 35,
        'sextant.band.upper': 45,
      },
    });
    expect(record!.observedTimeNano).toBeGreaterThan(0n);
    // the score also goes out as a metric
    expect(s.accepted.some((a) => a.path === '/v1/metrics')).toBe(true);
  });
});

describe('odd anomalies', () => {
  it('an anomaly without a finite score or expectation still becomes a log record, without the missing fields and without a score point', async () => {
    const s = await standIn();
    const x = await exporterTo(s.endpoint);
    x.exporter.exportAnomalies([{ ...anomaly, id: 'anom-nan', score: NaN, expected: NaN, lower: NaN, upper: Infinity, timestamp: -5 }]);
    await until(() => s.accepted.length === 1);
    expect(s.accepted.map((a) => a.path)).toEqual(['/v1/logs']);
    const [record] = decodeLogsRequest(s.accepted[0]!.body);
    expect(record!.timeNano).toBe(0n);
    expect(Object.keys(record!.attributes)).not.toContain('sextant.expected');
    expect(Object.keys(record!.attributes)).not.toContain('sextant.band.upper');
    expect(Object.keys(record!.attributes)).not.toContain('sextant.anomaly.score');
    expect(record!.attributes['sextant.anomaly.id']).toBe('anom-nan');
    expect(x.metrics.counters.otlp_points_queued_total ?? 0).toBe(0);
  });
});

describe('incidents as OTLP log records (otlp-logs notifier)', () => {
  const incident: Incident = {
    id: 'inc-42', title: 'Checkout orders dropped', status: 'open', impact: 'business', severity: 'critical',
    openedAt: T0, updatedAt: T0 + 60_000, entities: ['service:shop', 'service:db'], anomalyIds: ['anom-7', 'anom-8'], eventIds: ['ev-1'],
    causes: [{ entity: 'service:db', score: 0.81, summary: 'db latency rose 2 min before orders fell', evidence: ['anom-8'] }],
    timeline: [], suppressed: [],
  };

  async function notifier(endpoint: string) {
    const config = await resolveConfig(otlpLogsNotifierFactory, { endpoint });
    const n = new IncidentLogsNotifier({ config, metrics: new RecordingMetrics(), logger: new RecordingLogger(), instanceId: 'otlp-logs/test', clock: systemClock, dataDir: undefined, signal: new AbortController().signal, status: { set: () => undefined } });
    cleanups.push(() => n.shutdown());
    return n;
  }

  it('delivers an incident update with id, status, impact, severity, title and likely cause', async () => {
    const s = await standIn();
    const n = await notifier(s.endpoint);
    const outcome = await n.deliver({ idempotencyKey: 'inc-42:1', attempt: 1, url: 'http://sextant.example/incidents/inc-42', update: { change: 'opened', sequence: 1, incident, reason: 'new anomaly on service:shop' } });
    expect(outcome).toMatchObject({ ok: true });
    const [record] = decodeLogsRequest(s.accepted[0]!.body);
    expect(record).toMatchObject({
      resource: { 'service.name': 'sextant' },
      timeNano: BigInt(T0 + 60_000) * 1_000_000n,
      severityNumber: SEVERITY_NUMBER.ERROR,
      eventName: INCIDENT_EVENT_NAME,
      body: '[opened] Checkout orders dropped (likely cause: service:db)',
      attributes: {
        'sextant.incident.id': 'inc-42',
        'sextant.incident.change': 'opened',
        'sextant.incident.sequence': 1,
        'sextant.incident.status': 'open',
        'sextant.incident.impact': 'business',
        'sextant.incident.severity': 'critical',
        'sextant.incident.title': 'Checkout orders dropped',
        'sextant.incident.entities': 'service:shop,service:db',
        'sextant.incident.anomaly_count': 2,
        'sextant.incident.likely_cause': 'service:db',
        'sextant.incident.likely_cause.score': 0.81,
        'sextant.incident.likely_cause.summary': 'db latency rose 2 min before orders fell',
        'sextant.incident.reason': 'new anomaly on service:shop',
        'sextant.incident.url': 'http://sextant.example/incidents/inc-42',
        'sextant.idempotency_key': 'inc-42:1',
      },
    });
  });

  it('classifies answers for the runtime’s retries: 503 with Retry-After retryable, 400 final, dead port retryable', async () => {
    const s = await standIn();
    s.script.push({ status: 503, retryAfter: '7' }, { status: 400 });
    const n = await notifier(s.endpoint);
    const update = { idempotencyKey: 'inc-42:2', attempt: 1, update: { change: 'resolved' as const, sequence: 2, incident: { ...incident, status: 'resolved' as const, resolvedAt: T0 + 120_000 } } };
    expect(await n.deliver(update)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000, error: expect.stringContaining('503') });
    expect(await n.deliver(update)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('400: status 400') });
    const dead = await notifier(`http://127.0.0.1:${await freePort()}`);
    expect(await dead.deliver(update)).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('retry policy and queue', () => {
  it('503 then 200: retried in order, nothing lost', async () => {
    const s = await standIn();
    s.script.push({ status: 503 }, { status: 502 });
    const x = await exporterTo(s.endpoint);
    send(x, 1);
    send(x, 2);
    await until(() => x.metrics.counters.otlp_requests_sent_total === 2);
    expect(s.answers.map((a) => a.status)).toEqual([503, 502, 200, 200]);
    expect(s.accepted).toHaveLength(2);
    expect(x.metrics.counters.otlp_request_failures_total).toBe(2);
    expect(x.metrics.counters.otlp_requests_sent_total).toBe(2);
    expect(x.statuses.map((st) => st.state)).toEqual(['degraded', 'degraded', 'ok']);
    expect(x.exporter.pending).toEqual({ requests: 0, bytes: 0 });
  });

  it('honours Retry-After of a 429 (capped by backoff.max)', async () => {
    const s = await standIn();
    s.script.push({ status: 429, retryAfter: '1' });
    const x = await exporterTo(s.endpoint, { backoff: { initial: 10, max: '5s' } });
    const started = Date.now();
    send(x, 1);
    await until(() => s.accepted.length === 1);
    // a functional lower bound: the retry did not come before the receiver allowed it
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(x.metrics.counters.otlp_request_failures_total).toBe(1);
  });

  it('400: dropped, counted and reported, never retried; the next request goes through', async () => {
    const s = await standIn();
    s.script.push({ status: 400 });
    const x = await exporterTo(s.endpoint);
    send(x, 1);
    send(x, 2);
    await until(() => s.accepted.length === 1);
    expect(s.answers.map((a) => a.status)).toEqual([400, 200]);
    expect(x.metrics.counters.otlp_requests_rejected_total).toBe(1);
    expect(x.statuses[0]).toMatchObject({ state: 'degraded', message: expect.stringContaining('refused a request (dropped, not retried)') });
  });

  it('a partial_success is counted as rejected points', async () => {
    const s = await standIn();
    s.script.push({ status: 200, partial: { rejected: 1, message: 'bad attribute' } });
    const x = await exporterTo(s.endpoint);
    send(x, 1);
    await until(() => x.metrics.counters.otlp_items_rejected_total === 1);
    expect(x.statuses.at(-1)).toMatchObject({ state: 'degraded', message: expect.stringContaining('rejected 1 of its points: bad attribute') });
  });

  it('dead port: keeps retrying with everything queued', async () => {
    const port = await freePort();
    const x = await exporterTo(`http://127.0.0.1:${port}`, { backoff: { initial: 10, max: 50 } });
    send(x, 1);
    send(x, 2);
    await until(() => (x.metrics.counters.otlp_request_failures_total ?? 0) >= 3);
    expect(x.statuses.at(-1)).toMatchObject({ state: 'degraded', message: expect.stringMatching(/ECONNREFUSED; \d+ bytes queued, retrying/) });
    expect(x.exporter.pending.requests).toBe(2);
  });

  it('shutdown is safe twice, without start, and while a dead receiver is being retried', async () => {
    const idle = await startExporter(SERIES, { endpoint: 'http://127.0.0.1:9' });
    await idle.exporter.shutdown();
    await idle.exporter.shutdown();
    const x = await exporterTo(`http://127.0.0.1:${await freePort()}`, { backoff: { initial: '1m', max: '1m' } });
    send(x, 1);
    await until(() => (x.metrics.counters.otlp_request_failures_total ?? 0) >= 1);
    // the retry wait (1 minute) is cut short by shutdown
    await x.exporter.shutdown();
    expect(x.exporter.pending.requests).toBe(1);
  });

  it('a full queue drops the oldest waiting requests and counts them', async () => {
    const port = await freePort();
    const x = await exporterTo(`http://127.0.0.1:${port}`, { queueMaxBytes: 64 << 10, compression: 'none' });
    const rows = 2000;
    for (let k = 0; k < 10; k++) {
      x.exporter.exportSamples({ length: rows, series: new Uint32Array(rows), timestamps: new Float64Array(rows).fill(T0 + k), values: new Float64Array(rows).fill(k) }, undefined);
    }
    // every request is either still queued or counted as dropped: none vanishes silently
    const dropped = x.metrics.counters.otlp_queue_dropped_total ?? 0;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + x.exporter.pending.requests).toBe(10);
    // the bound holds for the waiting requests; only the one being sent may come on top
    expect(x.exporter.pending.requests).toBeLessThanOrEqual(2);
    expect(x.metrics.gauges.otlp_queue_bytes).toBe(x.exporter.pending.bytes);
  });
});
