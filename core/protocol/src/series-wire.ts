/** SeriesDescriptor <-> its protobuf form (attributes as a map of typed values). */
import type { Attributes, MetricKind, MetricType, SeriesDescriptor } from '@sextant/plugin-api';
import type { AttributeValue, SeriesDescriptor as WireSeriesDescriptor } from './gen/sextant/common/v1/common.js';

export function attributesToWire(attributes: Attributes | undefined): { [key: string]: AttributeValue } {
  const out: { [key: string]: AttributeValue } = {};
  for (const [k, v] of Object.entries(attributes ?? {})) {
    if (typeof v === 'string') out[k] = { stringValue: v, numberValue: undefined, boolValue: undefined };
    else if (typeof v === 'number') out[k] = { stringValue: undefined, numberValue: v, boolValue: undefined };
    else if (typeof v === 'boolean') out[k] = { stringValue: undefined, numberValue: undefined, boolValue: v };
  }
  return out;
}

export function attributesFromWire(attributes: { [key: string]: AttributeValue } | undefined): Attributes {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(attributes ?? {})) {
    if (v.stringValue !== undefined) out[k] = v.stringValue;
    else if (v.numberValue !== undefined) out[k] = v.numberValue;
    else if (v.boolValue !== undefined) out[k] = v.boolValue;
  }
  return out;
}

export function descriptorToWire(d: SeriesDescriptor): WireSeriesDescriptor {
  return {
    metric: d.metric,
    unit: d.unit,
    type: d.type,
    kind: d.kind ?? '',
    description: d.description ?? '',
    resource: attributesToWire(d.resource),
    attributes: attributesToWire(d.attributes),
  };
}

export function descriptorFromWire(w: WireSeriesDescriptor | undefined): SeriesDescriptor | undefined {
  if (!w || !w.metric) return undefined;
  return {
    metric: w.metric,
    unit: w.unit,
    type: w.type as MetricType,
    ...(w.kind ? { kind: w.kind as MetricKind } : {}),
    ...(w.description ? { description: w.description } : {}),
    resource: attributesFromWire(w.resource),
    attributes: attributesFromWire(w.attributes),
  };
}

/** A key equal for equal descriptors (metric + resource + attributes, order-independent). */
export function seriesIdentityKey(d: SeriesDescriptor): string {
  const sorted = (a: Attributes | undefined) => JSON.stringify(Object.keys(a ?? {}).sort().map((k) => [k, a![k]]));
  return `${d.metric}\u0000${sorted(d.resource)}\u0000${sorted(d.attributes)}`;
}
