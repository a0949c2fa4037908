/**
 * Interns series descriptors into small integer ids (docs/architecture.md, "Data model"). An id is assigned once per
 * distinct (metric, resource, attributes) and never reused while the runtime lives, so every
 * later structure (ring buffers, detector state) can be an array indexed by id.
 */
import { ErrorCode, SextantError, type Attributes, type SeriesCatalog, type SeriesDescriptor } from '@sextant/plugin-api';

function canonical(attrs: Attributes): string {
  const keys = Object.keys(attrs);
  if (keys.length === 0) return '';
  keys.sort();
  let s = '';
  for (const k of keys) s += `${k}\u0001${String(attrs[k])}\u0002`;
  return s;
}

/** The identity of a series as one string. */
export function seriesKey(d: Pick<SeriesDescriptor, 'metric' | 'resource' | 'attributes'>): string {
  return `${d.metric}\u0000${canonical(d.resource)}\u0000${canonical(d.attributes)}`;
}

export interface SeriesRecord extends SeriesDescriptor {
  readonly id: number;
  /** Who first reported it (`<plugin>/<instance>` or an agent source id). */
  readonly source: string;
}

export class SeriesRegistry implements SeriesCatalog {
  private readonly byKey = new Map<string, number>();
  private readonly records: SeriesRecord[] = [];
  private readonly byMetric = new Map<string, number[]>();

  constructor(private readonly maxSeries: number) {}

  get size(): number {
    return this.records.length;
  }

  /**
   * Returns the id for `descriptor`, creating it when new. Throws LIMIT_EXCEEDED when the runtime's
   * series limit is reached; callers count that as a drop.
   */
  intern(descriptor: SeriesDescriptor, source: string): number {
    const key = seriesKey(descriptor);
    const existing = this.byKey.get(key);
    if (existing !== undefined) return existing;
    if (this.records.length >= this.maxSeries) {
      throw new SextantError(ErrorCode.LIMIT_EXCEEDED, `the runtime holds its limit of ${this.maxSeries} series; "${descriptor.metric}" from ${source} was refused`, {
        hint: 'raise store.maxSeries in sextant.yaml or remove high-cardinality attributes from the plugin config',
      });
    }
    const id = this.records.length;
    const record: SeriesRecord = {
      id,
      source,
      metric: descriptor.metric,
      unit: descriptor.unit,
      type: descriptor.type,
      ...(descriptor.kind ? { kind: descriptor.kind } : {}),
      ...(descriptor.description ? { description: descriptor.description } : {}),
      resource: Object.freeze({ ...descriptor.resource }),
      attributes: Object.freeze({ ...descriptor.attributes }),
    };
    this.records.push(record);
    this.byKey.set(key, id);
    let list = this.byMetric.get(descriptor.metric);
    if (!list) this.byMetric.set(descriptor.metric, (list = []));
    list.push(id);
    return id;
  }

  lookup(descriptor: Pick<SeriesDescriptor, 'metric' | 'resource' | 'attributes'>): number | undefined {
    return this.byKey.get(seriesKey(descriptor));
  }

  describe(id: number): SeriesRecord | undefined {
    return this.records[id];
  }

  /**
   * Series matching a metric name (exact, or a prefix ending in `*`) and attribute filters that
   * may match resource or point attributes.
   */
  find(filter: { metric?: string; match?: Attributes; limit?: number; after?: number } = {}): SeriesRecord[] {
    const out: SeriesRecord[] = [];
    const after = filter.after ?? -1;
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    let candidates: Iterable<SeriesRecord>;
    if (filter.metric && !filter.metric.endsWith('*')) {
      candidates = (this.byMetric.get(filter.metric) ?? []).map((id) => this.records[id]);
    } else {
      const prefix = filter.metric?.slice(0, -1);
      candidates = prefix === undefined ? this.records : this.records.filter((r) => r.metric.startsWith(prefix));
    }
    for (const r of candidates) {
      if (r.id <= after) continue;
      if (filter.match && !Object.entries(filter.match).every(([k, v]) => String(r.resource[k] ?? r.attributes[k]) === String(v))) continue;
      out.push(r);
      if (out.length >= limit) break;
    }
    return out;
  }

  all(): readonly SeriesRecord[] {
    return this.records;
  }
}
