/** The wire encodings: columnar samples and the sextant.common.v1 messages, including malformed and non-finite input. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SampleColumnsWriter, readSampleColumns } from '../src/sample-columns.js';
import { descriptorFromWire, descriptorToWire } from '../src/series-wire.js';
import { SampleColumns } from '../src/gen/sextant/plugin/v1/plugin.js';
import { Anomaly, Event, IncidentUpdate, Notification, TopologyUpdate } from '../src/gen/sextant/common/v1/common.js';
import { anomalyFromWire, anomalyInputFromWire, anomalyToWire, eventFromWire, eventToWire, incidentUpdateFromWire, incidentUpdateToWire, notificationFromWire, notificationToWire } from '../src/model-wire.js';
import { topologyFromWire, topologyToWire } from '../src/topology-wire.js';

describe('sample columns', () => {
  it('round-trip any samples through protobuf bytes, NaN and Infinity included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2 ** 32 - 1), fc.double(), fc.double()), { maxLength: 700 }), (samples) => {
        const writer = new SampleColumnsWriter();
        for (const [s, t, v] of samples) writer.push(s, t, v);
        const decoded = readSampleColumns(SampleColumns.decode(SampleColumns.encode(writer.take()).finish()))!;
        expect(decoded.length).toBe(samples.length);
        expect(Array.from(decoded.series.subarray(0, decoded.length))).toEqual(samples.map((x) => x[0]));
        expect(Array.from(decoded.timestamps.subarray(0, decoded.length))).toEqual(samples.map((x) => x[1]));
        expect(Array.from(decoded.values.subarray(0, decoded.length))).toEqual(samples.map((x) => x[2]));
        expect(writer.length).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('reads unaligned buffers correctly', () => {
    const writer = new SampleColumnsWriter();
    writer.push(7, 1.5, -2.25);
    const cols = writer.take();
    const shift = (b: Buffer) => Buffer.from(Buffer.concat([Buffer.alloc(3), b]).subarray(3));
    const odd = { count: 1, series: shift(cols.series), timestamps: Buffer.concat([Buffer.alloc(1), cols.timestamps]).subarray(1), values: shift(cols.values) };
    const decoded = readSampleColumns(odd)!;
    expect([decoded.series[0], decoded.timestamps[0], decoded.values[0]]).toEqual([7, 1.5, -2.25]);
  });

  it('refuses columns whose byte lengths do not match the count, instead of reading past them', () => {
    const writer = new SampleColumnsWriter();
    writer.push(1, 2, 3);
    const cols = writer.take();
    expect(readSampleColumns({ ...cols, count: 2 })).toBeUndefined();
    expect(readSampleColumns({ ...cols, values: cols.values.subarray(0, 5) })).toBeUndefined();
    expect(readSampleColumns({ ...cols, count: 2 ** 31 })).toBeUndefined();
  });
});

describe('structured values (sextant.common.v1 messages)', () => {
  const incident = {
    id: 'inc-1',
    title: 'web errors',
    status: 'resolved' as const,
    impact: 'user' as const,
    severity: 'critical' as const,
    openedAt: 1000,
    updatedAt: 2000,
    resolvedAt: 3000,
    entities: ['service:web'],
    anomalyIds: ['a1'],
    eventIds: [],
    causes: [{ entity: 'service:db', score: 0.8, summary: 'db slow', evidence: ['latency x3'] }],
    timeline: [{ timestamp: 1000, kind: 'anomaly' as const, message: 'errors', ref: 'a1' }, { timestamp: 1500, kind: 'note' as const, message: 'n' }],
    suppressed: [{ reason: 'duplicate', detail: 'd', count: 2 }],
  };

  it('keep NaN and infinities in anomalies, which JSON turned into null', () => {
    const anomaly = { seriesId: 7, detector: 'baseline', kind: 'spike' as const, timestamp: 5, value: Number.POSITIVE_INFINITY, expected: Number.NaN, lower: Number.NEGATIVE_INFINITY, upper: Number.NaN, score: 1, severity: 'warning' as const, message: 'm' };
    const back = anomalyInputFromWire(Anomaly.decode(Anomaly.encode(anomalyToWire(anomaly)).finish()));
    expect(back).toEqual(anomaly);
    expect(back.expected).toBeNaN();
    expect(back.lower).toBe(Number.NEGATIVE_INFINITY);
    const full = { ...anomaly, id: 'a1', metric: 'http.errors', resource: { 'service.name': 'web' }, attributes: { code: 500 }, peerGroup: 'service:web' };
    expect(anomalyFromWire(Anomaly.decode(Anomaly.encode(anomalyToWire(full)).finish()))).toEqual(full);
  });

  it('round-trip events, incident updates and notifications with optional fields absent or present', () => {
    const bare = { type: 'deploy', timestamp: 1, title: 't', resource: {} };
    const rich = { id: 'e1', type: 'deploy', timestamp: 1, title: 't', resource: { 'service.name': 'web' }, attributes: {}, severity: 'info' as const, source: 'api' };
    for (const e of [bare, rich]) expect(eventFromWire(Event.decode(Event.encode(eventToWire(e)).finish()))).toEqual(e);
    const update = { change: 'resolved' as const, sequence: 3, incident, notify: false, reason: 'quiet' };
    const open = { change: 'opened' as const, sequence: 1, incident: { ...incident, status: 'open' as const, resolvedAt: undefined } };
    delete (open.incident as { resolvedAt?: number }).resolvedAt;
    for (const u of [update, open]) expect(incidentUpdateFromWire(IncidentUpdate.decode(IncidentUpdate.encode(incidentUpdateToWire(u)).finish()))).toEqual(u);
    const n = { idempotencyKey: 'inc-1:3', update, attempt: 2, url: 'https://sextant.example/i/inc-1' };
    expect(notificationFromWire(Notification.decode(Notification.encode(notificationToWire(n)).finish()))).toEqual(n);
  });

  it('refuse an incident update or a notification without its incident (callers count it)', () => {
    expect(incidentUpdateFromWire(IncidentUpdate.decode(new Uint8Array(0)))).toBeUndefined();
    expect(notificationFromWire(Notification.decode(new Uint8Array(0)))).toBeUndefined();
  });

  it('round-trip topology updates, leaving out empty lists', () => {
    const u = { upsertEntities: [{ id: 'host:a', type: 'host', name: 'a', attributes: { cores: 4, up: true } }], removeEdges: [{ from: 'x', to: 'y', type: 'calls' }] };
    expect(topologyFromWire(TopologyUpdate.decode(TopologyUpdate.encode(topologyToWire(u)).finish()))).toEqual(u);
  });

  it('carry series descriptors with typed attributes', () => {
    const d = { metric: 'm', unit: 'By', type: 'gauge' as const, kind: 'memory' as const, resource: { 'container.id': 'abc', pid: 7 }, attributes: { up: true, state: 'used' } };
    expect(descriptorFromWire(descriptorToWire(d))).toEqual(d);
    expect(descriptorFromWire(undefined)).toBeUndefined();
  });
});
