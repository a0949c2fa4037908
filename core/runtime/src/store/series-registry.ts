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

/** FNV-1a over the UTF-16 code units of `s`. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** The murmur3 finaliser: spreads every input bit over the output. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A hash of a set of attributes that does not depend on their order (the same equality as `canonical`). */
function hashAttributes(attrs: Attributes): number {
  let h = 0;
  for (const k in attrs) {
    if (!Object.hasOwn(attrs, k)) continue;
    h = (h + mix(hashString(k) ^ Math.imul(hashString(String(attrs[k])), 0x9e3779b1))) | 0;
  }
  return h;
}

/** Whether two attribute sets are equal as `canonical` sees them (same keys, same values as strings). */
function sameAttributes(stored: Attributes, given: Attributes): boolean {
  if (stored === given) return true;
  let n = 0;
  for (const k in given) {
    if (!Object.hasOwn(given, k)) continue;
    if (!Object.hasOwn(stored, k) || String(stored[k]) !== String(given[k])) return false;
    n++;
  }
  return n === Object.keys(stored).length;
}

/** Hash -> one id, or several when hashes collide (then each is compared). Kept as Smi keys and values. */
type HashIndex = Map<number, number | number[]>;

function indexAdd(index: HashIndex, hash: number, id: number): void {
  const at = index.get(hash);
  if (at === undefined) index.set(hash, id);
  else if (typeof at === 'number') index.set(hash, [at, id]);
  else at.push(id);
}

function indexFind(index: HashIndex, hash: number, matches: (id: number) => boolean): number | undefined {
  const at = index.get(hash);
  if (at === undefined) return undefined;
  if (typeof at === 'number') return matches(at) ? at : undefined;
  for (const id of at) if (matches(id)) return id;
  return undefined;
}

/**
 * Memory per series (measured at 10k series of distinct containers with strings fresh from the
 * wire, as an agent sends them): one record object, one entry in a hash index (a 30-bit hash, so a
 * small integer key; collisions are compared attribute by attribute), and the strings it does not
 * share. Metric names, units, kinds, sources and attribute keys and values are interned, so a
 * thousand series of one host hold one copy of "host.name" and of its value; each distinct resource
 * is one frozen object all its series share. No per-series key string is built or kept.
 */
export class SeriesRegistry implements SeriesCatalog {
  private readonly records: SeriesRecord[] = [];
  private readonly byHash: HashIndex = new Map();
  private readonly byMetric = new Map<string, number[]>();
  /** One frozen copy per distinct resource: thousands of series of one host or container share it. */
  private readonly resources: Attributes[] = [];
  private readonly resourceByHash: HashIndex = new Map();
  /** One copy of each metric name, unit, source, attribute key and value seen. */
  private readonly strings = new Map<string, string>();

  constructor(private readonly maxSeries: number) {}

  get size(): number {
    return this.records.length;
  }

  private intern1(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  /** A frozen copy of `attrs` with interned keys (and string values when `values`). */
  private copyAttributes(attrs: Attributes, values: boolean): Attributes {
    const out: Record<string, Attributes[string]> = {};
    let any = false;
    for (const k in attrs) {
      if (!Object.hasOwn(attrs, k)) continue;
      const v = attrs[k];
      out[this.intern1(k)] = values && typeof v === 'string' ? this.intern1(v) : v;
      any = true;
    }
    return any ? Object.freeze(out) : EMPTY;
  }

  private findResource(resource: Attributes, hash: number): number | undefined {
    return indexFind(this.resourceByHash, hash, (r) => sameAttributes(this.resources[r], resource));
  }

  private find1(descriptor: Pick<SeriesDescriptor, 'metric' | 'attributes'>, resourceIndex: number, hash: number): number | undefined {
    const resource = this.resources[resourceIndex];
    return indexFind(this.byHash, hash, (id) => {
      const r = this.records[id];
      return r.resource === resource && r.metric === descriptor.metric && sameAttributes(r.attributes, descriptor.attributes);
    });
  }

  /**
   * Returns the id for `descriptor`, creating it when new. Throws LIMIT_EXCEEDED when the runtime's
   * series limit is reached; callers count that as a drop.
   */
  intern(descriptor: SeriesDescriptor, source: string): number {
    const resourceHash = hashAttributes(descriptor.resource) & 0x3fffffff;
    let resourceIndex = this.findResource(descriptor.resource, resourceHash);
    const attributesHash = hashAttributes(descriptor.attributes);
    const hash = mix(hashString(descriptor.metric) ^ Math.imul(resourceHash + 1, 0x27d4eb2f) ^ mix(attributesHash)) & 0x3fffffff;
    if (resourceIndex !== undefined) {
      const existing = this.find1(descriptor, resourceIndex, hash);
      if (existing !== undefined) return existing;
    }
    if (this.records.length >= this.maxSeries) {
      throw new SextantError(ErrorCode.LIMIT_EXCEEDED, `the runtime holds its limit of ${this.maxSeries} series; "${descriptor.metric}" from ${source} was refused`, {
        hint: 'raise store.maxSeries in sextant.yaml or remove high-cardinality attributes from the plugin config',
      });
    }
    if (resourceIndex === undefined) {
      resourceIndex = this.resources.length;
      this.resources.push(this.copyAttributes(descriptor.resource, true));
      indexAdd(this.resourceByHash, resourceHash, resourceIndex);
    }
    const id = this.records.length;
    const metric = this.intern1(descriptor.metric);
    const src = this.intern1(source);
    const unit = this.intern1(descriptor.unit);
    const type = this.intern1(descriptor.type) as SeriesRecord['type'];
    const resource = this.resources[resourceIndex];
    const attributes = this.copyAttributes(descriptor.attributes, false);
    // one literal per shape (no property added later): the record stays one small object
    const record: { -readonly [K in keyof SeriesRecord]: SeriesRecord[K] } = descriptor.kind
      ? { id, source: src, metric, unit, type, resource, attributes, kind: this.intern1(descriptor.kind) as SeriesRecord['kind'] }
      : { id, source: src, metric, unit, type, resource, attributes };
    if (descriptor.description) record.description = this.intern1(descriptor.description);
    this.records.push(record);
    indexAdd(this.byHash, hash, id);
    let list = this.byMetric.get(metric);
    if (!list) this.byMetric.set(metric, (list = []));
    list.push(id);
    return id;
  }

  lookup(descriptor: Pick<SeriesDescriptor, 'metric' | 'resource' | 'attributes'>): number | undefined {
    const resourceHash = hashAttributes(descriptor.resource) & 0x3fffffff;
    const resourceIndex = this.findResource(descriptor.resource, resourceHash);
    if (resourceIndex === undefined) return undefined;
    const hash = mix(hashString(descriptor.metric) ^ Math.imul(resourceHash + 1, 0x27d4eb2f) ^ mix(hashAttributes(descriptor.attributes))) & 0x3fffffff;
    return this.find1(descriptor, resourceIndex, hash);
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
