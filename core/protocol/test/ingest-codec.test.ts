import { describe, expect, it } from 'vitest';
import { IngestRequest, IngestResponse } from '../src/gen/sextant/ingest/v1/ingest.js';
import { Event, TopologyUpdate } from '../src/gen/sextant/common/v1/common.js';
import { eventFromWire, eventToWire } from '../src/model-wire.js';
import { topologyFromWire, topologyToWire } from '../src/topology-wire.js';
import { IngestRequestDecoder, decodeIngestAck, encodeIngestAck, encodeIngestRequest } from '../src/ingest/ingest-codec.js';
import { ProtoWriter, WireFormatError } from '../src/ingest/protobuf-wire.js';
import { SequenceWindow } from '../src/ingest/sequence-window.js';

const descriptor = {
  metric: 'nginx.requests',
  unit: '{request}/s',
  type: 'rate' as const,
  kind: 'throughput' as const,
  resource: { 'host.name': 'web-1', 'container.id': 'abc', replicas: 3, canary: false },
  attributes: { state: 'active' },
};

function batchOf(n: number) {
  const series = new Uint32Array(n);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    series[i] = i % 7;
    timestamps[i] = 1_700_000_000_000 + i;
    values[i] = i * 1.5 - 3;
  }
  return { length: n, series, timestamps, values };
}

describe('sextant.ingest.v1 codec', () => {
  it('writes messages the generated protobuf code reads back field for field', () => {
    const w = new ProtoWriter(16);
    encodeIngestRequest(w, {
      sourceId: 'agent:web-1',
      sequence: 42,
      retainedFrom: 40,
      series: [{ localId: 3, descriptor }],
      batch: batchOf(10),
      from: 2,
      to: 9,
      events: [Event.encode(eventToWire({ type: 'deploy', timestamp: 1, title: 't', resource: {} })).finish()],
      topology: [TopologyUpdate.encode(topologyToWire({})).finish()],
    });
    const decoded = IngestRequest.decode(w.finish());
    expect(decoded.sourceId).toBe('agent:web-1');
    expect(decoded.sequence).toBe(42);
    expect(decoded.retainedFrom).toBe(40);
    expect(decoded.series[0]!.localId).toBe(3);
    expect(decoded.series[0]!.descriptor!.metric).toBe('nginx.requests');
    expect(decoded.series[0]!.descriptor!.resource['replicas']!.numberValue).toBe(3);
    expect(decoded.series[0]!.descriptor!.resource['canary']!.boolValue).toBe(false);
    expect(decoded.samples!.series).toEqual([2, 3, 4, 5, 6, 0, 1]);
    expect(decoded.samples!.values).toEqual([0, 1.5, 3, 4.5, 6, 7.5, 9]);
    expect(decoded.events.map(eventFromWire)).toEqual([{ type: 'deploy', timestamp: 1, title: 't', resource: {} }]);
    expect(decoded.topology).toHaveLength(1);
    expect(decoded.legacyEventsJson).toEqual([]);
  });

  it('reads what the generated code writes, including the descriptor and its attributes', () => {
    const bytes = IngestRequest.encode({
      sourceId: 's',
      sequence: 7,
      retainedFrom: 0,
      series: [
        {
          localId: 1,
          descriptor: {
            metric: 'm',
            unit: 'By',
            type: 'gauge',
            kind: '',
            description: 'd',
            resource: { 'host.name': { stringValue: 'h' } },
            attributes: { cpu: { numberValue: 2 } },
          },
        },
      ],
      samples: { series: [1, 1], timestamps: [10, 20], values: [0.5, Number.NaN] },
      legacyEventsJson: [],
      legacyTopologyJson: [],
      events: [],
      topology: [topologyToWire({ removeEntities: ['host:a'] })],
    }).finish();
    const msg = new IngestRequestDecoder().decode(bytes);
    expect(msg.sequence).toBe(7);
    expect(msg.series[0]!.descriptor).toEqual({ metric: 'm', unit: 'By', type: 'gauge', description: 'd', resource: { 'host.name': 'h' }, attributes: { cpu: 2 } });
    expect(msg.samples.length).toBe(2);
    expect(Array.from(msg.samples.timestamps.subarray(0, 2))).toEqual([10, 20]);
    expect(Number.isNaN(msg.samples.values[1]!)).toBe(true);
    expect(msg.topology.map((b) => topologyFromWire(TopologyUpdate.decode(b)))).toEqual([{ removeEntities: ['host:a'] }]);
  });

  it('still reads the JSON events and topology of agents older than 0.2 (fields 6 and 7, deprecated)', () => {
    const bytes = IngestRequest.encode({
      sourceId: 's', sequence: 1, retainedFrom: 0, series: [], samples: undefined, events: [], topology: [],
      legacyEventsJson: ['{"type":"deploy","timestamp":1,"title":"t","resource":{}}'],
      legacyTopologyJson: ['{"upsertEntities":[]}'],
    }).finish();
    const msg = new IngestRequestDecoder().decode(bytes);
    expect(msg.legacyEventsJson).toHaveLength(1);
    expect(msg.legacyTopologyJson).toEqual(['{"upsertEntities":[]}']);
    expect(msg.events).toEqual([]);
  });

  it('round-trips a large batch column for column', () => {
    const batch = batchOf(5000);
    const w = new ProtoWriter();
    encodeIngestRequest(w, { sourceId: 'a', sequence: 1, retainedFrom: 0, batch });
    const msg = new IngestRequestDecoder().decode(w.finish());
    expect(msg.samples.length).toBe(5000);
    expect(msg.samples.series.subarray(0, 5000)).toEqual(batch.series);
    expect(msg.samples.values.subarray(0, 5000)).toEqual(batch.values);
  });

  it('rejects malformed input with a clear error instead of garbage', () => {
    const d = new IngestRequestDecoder();
    expect(() => d.decode(Buffer.from([0x0a, 0x50, 0x41]))).toThrow(WireFormatError); // length past the end
    expect(() => d.decode(Buffer.from([0x10, 0xff, 0xff]))).toThrow(/truncated varint/);
    // columns of different lengths
    const bad = IngestRequest.encode({ sourceId: 's', sequence: 1, retainedFrom: 0, series: [], samples: { series: [1, 2], timestamps: [1], values: [1, 2] }, legacyEventsJson: [], legacyTopologyJson: [], events: [], topology: [] }).finish();
    expect(() => d.decode(bad)).toThrow(/differ in length/);
    // unknown metric type
    const badType = IngestRequest.encode({
      sourceId: 's', sequence: 1, retainedFrom: 0, legacyEventsJson: [], legacyTopologyJson: [], events: [], topology: [], samples: undefined,
      series: [{ localId: 0, descriptor: { metric: 'm', unit: '', type: 'histogram', kind: '', description: '', resource: {}, attributes: {} } }],
    }).finish();
    expect(() => d.decode(badType)).toThrow(/type "histogram"/);
  });

  it('encodes acks the generated code understands', () => {
    const ack = IngestResponse.decode(encodeIngestAck({ ackedSequence: 2 ** 40, maxMessageBytes: 4194304 }));
    expect(ack).toEqual({ ackedSequence: 2 ** 40, maxMessageBytes: 4194304, refusedSeries: 0, unknownSeriesSamples: 0, serverInstance: 0 });
    expect(decodeIngestAck(IngestResponse.encode({ ackedSequence: 99, maxMessageBytes: 0, refusedSeries: 0, unknownSeriesSamples: 0, serverInstance: 0 }).finish())).toEqual({ ackedSequence: 99, maxMessageBytes: 0, refusedSeries: 0, unknownSeriesSamples: 0, serverInstance: 0 });
  });

  it('adds refusal counts to acks without breaking readers that predate them', () => {
    const bytes = encodeIngestAck({ ackedSequence: 7, maxMessageBytes: 0, refusedSeries: 3, unknownSeriesSamples: 2 ** 33, serverInstance: 2 ** 40 + 5 });
    // an older agent skips the fields it does not know: it still reads the ack
    const { ackedSequence, maxMessageBytes } = IngestResponse.decode(bytes);
    expect({ ackedSequence, maxMessageBytes }).toEqual({ ackedSequence: 7, maxMessageBytes: 0 });
    expect(IngestResponse.decode(bytes)).toEqual({ ackedSequence: 7, maxMessageBytes: 0, refusedSeries: 3, unknownSeriesSamples: 2 ** 33, serverInstance: 2 ** 40 + 5 });
    expect(decodeIngestAck(bytes)).toEqual({ ackedSequence: 7, maxMessageBytes: 0, refusedSeries: 3, unknownSeriesSamples: 2 ** 33, serverInstance: 2 ** 40 + 5 });
  });
});

describe('SequenceWindow', () => {
  it('accepts each sequence once, in any order', () => {
    const w = new SequenceWindow(8);
    expect([1, 3, 2, 2, 1, 4, 3].map((s) => w.accept(s))).toEqual([true, true, true, false, false, true, false]);
    expect(w.contiguous).toBe(4);
  });

  it('keeps bounded memory when a sequence never arrives, and counts what it gave up', () => {
    const w = new SequenceWindow(4);
    for (let s = 2; s <= 6; s++) expect(w.accept(s)).toBe(true); // 1 is missing; window overflows at 5 entries
    expect(w.contiguous).toBe(6);
    expect(w.skipped).toBe(1);
    expect(w.accept(1)).toBe(false);
  });

  it('stops waiting for sequences the source dropped', () => {
    const w = new SequenceWindow(100);
    w.accept(1);
    w.accept(5);
    w.releaseBelow(4); // 2 and 3 will never come; 4 still may
    expect(w.contiguous).toBe(3);
    expect(w.accept(4)).toBe(true);
    expect(w.contiguous).toBe(5);
    expect(w.accept(6)).toBe(true);
  });

  it('forgets a sequence whose delivery failed, so its resend is accepted and the others stay duplicates', () => {
    const w = new SequenceWindow(100);
    for (let s = 1; s <= 5; s++) w.accept(s);
    w.forget(3);
    expect(w.contiguous).toBe(2);
    expect([4, 5, 3, 3, 6].map((s) => w.accept(s))).toEqual([false, false, true, false, true]);
    expect(w.contiguous).toBe(6);
    w.accept(8);
    w.forget(8);
    expect(w.accept(8)).toBe(true);
  });
});
