/**
 * Interns series descriptors into small integer ids (docs/architecture.md, "Data model"). An id is assigned once per
 * distinct (metric, resource, attributes) and never reused while the runtime lives, so every
 * later structure (ring buffers, detector state) can be an array indexed by id.
 */
import { ErrorCode, SextantError, type Attributes, type SeriesCatalog, type SeriesDescriptor } from '@sextant/plugin-api';

function canonical(attrs: Attributes): string {
  const keys = Object.keys(attrs);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
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

const EMPTY: Attributes = Object.freeze({});

export class SeriesRegistry implements SeriesCatalog {
  private readonly byKey = new Map<string, number>();
  private readonly records: SeriesRecord[] = [];
  private readonly byMetric = new Map<string, number[]>();
  /**
   * One frozen copy per distinct resource (by its canonical form): thousands of series of one host
   * or container share it instead of holding a copy each.
   */
  private readonly resources = new Map<string, { readonly id: number; readonly resource: Attributes }>();

  constructor(private readonly maxSeries: number) {}

  get size(): number {
    return this.records.length;
  }

  /**
   * Returns the id for `descriptor`, creating it when new. Throws LIMIT_EXCEEDED when the runtime's
   * series limit is reached; callers count that as a drop.
   */
  intern(descriptor: SeriesDescriptor, source: string): number {
    const resourceKey = canonical(descriptor.resource);
    let shared = this.resources.get(resourceKey);
    const attributesKey = canonical(descriptor.attributes);
    // the resource by its number: a short key to hash and to keep
    let key = shared ? descriptor.metric + '\u0000' + shared.id + '\u0000' + attributesKey : '';
    if (shared) {
      const existing = this.byKey.get(key);
      if (existing !== undefined) return existing;
    }
    if (this.records.length >= this.maxSeries) {
      throw new SextantError(ErrorCode.LIMIT_EXCEEDED, `the runtime holds its limit of ${this.maxSeries} series; "${descriptor.metric}" from ${source} was refused`, {
        hint: 'raise store.maxSeries in sextant.yaml or remove high-cardinality attributes from the plugin config',
      });
    }
    if (!shared) {
      shared = { id: this.resources.size, resource: resourceKey === '' ? EMPTY : Object.freeze({ ...descriptor.resource }) };
      this.resources.set(resourceKey, shared);
      key = descriptor.metric + '\u0000' + shared.id + '\u0000' + attributesKey;
    }
    const id = this.records.length;
    const record: { -readonly [K in keyof SeriesRecord]: SeriesRecord[K] } = {
      id,
      source,
      metric: descriptor.metric,
      unit: descriptor.unit,
      type: descriptor.type,
      resource: shared.resource,
      attributes: attributesKey === '' ? EMPTY : Object.freeze({ ...descriptor.attributes }),
    };
    if (descriptor.kind) record.kind = descriptor.kind;
    if (descriptor.description) record.description = descriptor.description;
    this.records.push(record);
    this.byKey.set(key, id);
    let list = this.byMetric.get(descriptor.metric);
    if (!list) this.byMetric.set(descriptor.metric, (list = []));
    list.push(id);
    return id;
  }

  lookup(descriptor: Pick<SeriesDescriptor, 'metric' | 'resource' | 'attributes'>): number | undefined {
    const shared = this.resources.get(canonical(descriptor.resource));
    return shared && this.byKey.get(descriptor.metric + '\u0000' + shared.id + '\u0000' + canonical(descriptor.attributes));
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
