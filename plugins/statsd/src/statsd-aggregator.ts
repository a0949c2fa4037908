/**
 * Aggregates parsed StatsD lines between flushes and writes one set of series per flush.
 *
 * What each StatsD type becomes (the README's "Metric mapping" table says the same for users):
 * - `c` counter: `<name>` = sum of (value / sample rate) over the interval divided by its length
 *   in seconds (type `rate`, unit `{count}/s`); with `counters: total` or `both` also
 *   `<name>.total` = the running sum since the series was first seen (type `counter`). An idle
 *   counter reports 0 until it expires.
 * - `g` gauge: `<name>` = last value (type `gauge`); `+n`/`-n` add to it. Repeated while idle.
 * - `ms`/`h`/`d`: `<name>` with point attribute `quantile` = `p50`/`p90`/`p95`/`p99` from a DDSketch
 *   (relative accuracy {@link SKETCH_RELATIVE_ACCURACY}) of the interval's samples, each weighted
 *   by 1 / sample rate; `<name>.count` (samples in the interval, rate-corrected) and
 *   `<name>.sum`. An idle one reports count and sum 0 and no quantiles.
 * - `s` set: `<name>` = distinct members seen in the interval.
 *
 * Bounds: at most `maxSeries` distinct name+tags sets are tracked; lines for new ones beyond that
 * are refused and counted. A set that has seen no line for `expireAfterMs` is forgotten (its slot
 * freed). Each set keeps at most `maxSetMembers` members per interval.
 */
import { DDSketch } from '@datadog/sketches-js';
import { ErrorCode, isSextantError, type Attributes, type MetricKind, type MetricType, type SeriesId, type TelemetrySink } from '@sextant/plugin-api';
import { canonicalTags, tagsToAttributes, type ParsedLine } from './statsd-line.js';

export const SKETCH_RELATIVE_ACCURACY = 0.01;
export const QUANTILES: readonly (readonly [number, string])[] = [
  [0.5, 'p50'],
  [0.9, 'p90'],
  [0.95, 'p95'],
  [0.99, 'p99'],
];

export type CounterOutput = 'rate' | 'total' | 'both';

export interface StatsdAggregatorOptions {
  readonly prefix: string;
  readonly counters: CounterOutput;
  readonly maxSeries: number;
  readonly maxSetMembers: number;
  readonly expireAfterMs: number;
}

export interface StatsdAggregatorStats {
  /** Lines for a new name+tags set refused because `maxSeries` were tracked. */
  seriesLimited: number;
  /** Series the runtime refused (its per-instance series limit). */
  seriesRefused: number;
  /** Lines whose name+tags were seen before with another type. */
  typeConflicts: number;
  /** Set members not kept because the set had `maxSetMembers` this interval. */
  setMembersDropped: number;
  /** Lines refused because they would overflow a sum, total or gauge. */
  overflows: number;
}

/** `overflow`: the line would push a sum, total or gauge past the range of a double (it is not applied). */
export type RecordOutcome = 'ok' | 'series_limit' | 'type_conflict' | 'overflow';

type SlotKind = 'counter' | 'gauge' | 'timer' | 'set';

/** State of one name+tags set. Series ids are interned on first flush and cached. */
interface Slot {
  readonly kind: SlotKind;
  readonly type: ParsedLine['type'];
  readonly name: string;
  readonly attributes: Attributes;
  /** Counter: sum this interval. Gauge: current value. */
  value: number;
  /** Counter: running total. */
  total: number;
  /** Gauge: a value has been set. */
  hasValue: boolean;
  /** Timer: weighted count and sum this interval. */
  count: number;
  sum: number;
  sketch: DDSketch | undefined;
  members: Set<string> | undefined;
  lastSeen: number;
  /** Cached ids: [main, total|count, sum, ...quantiles]; -1 = not interned yet, -2 = refused. */
  readonly ids: SeriesId[];
}

const KIND_OF: Record<ParsedLine['type'], SlotKind> = { c: 'counter', g: 'gauge', ms: 'timer', h: 'timer', d: 'timer', s: 'set' };
/** `h` and `d` may be mixed under one name (both unitless); `ms` may not (its series are in ms). */
const HISTOGRAM_TYPES: ReadonlySet<string> = new Set(['h', 'd']);
const NOT_INTERNED = -1;
const REFUSED = -2;

export class StatsdAggregator {
  readonly stats: StatsdAggregatorStats = { seriesLimited: 0, seriesRefused: 0, typeConflicts: 0, setMembersDropped: 0, overflows: 0 };
  /** Slots by canonical key: name, or name + `\n` + sorted tags. */
  private readonly slots = new Map<string, Slot>();
  /**
   * Slots by the key as sent (tags in the sender's order): most lines hit here and skip sorting.
   * Bounded; cleared when full and whenever a slot expires (it re-fills from the canonical map).
   */
  private readonly aliases = new Map<string, Slot>();
  private lastFlush: number;

  constructor(
    private readonly options: StatsdAggregatorOptions,
    now: number,
  ) {
    this.lastFlush = now;
  }

  /** Distinct name+tags sets tracked now. */
  get size(): number {
    return this.slots.size;
  }

  /** Records one parsed line, or says why it was refused (also counted in `stats`). */
  record(line: ParsedLine, now: number): RecordOutcome {
    const rawKey = line.tagText.length === 0 ? line.name : `${line.name}\n${line.tagText}`;
    let slot = this.aliases.get(rawKey);
    if (slot === undefined) {
      const tags = canonicalTags(line.tagText);
      const key = tags.length === 0 ? line.name : `${line.name}\n${tags.join(',')}`;
      slot = this.slots.get(key);
      if (slot === undefined) {
        if (this.slots.size >= this.options.maxSeries) {
          this.stats.seriesLimited++;
          return 'series_limit';
        }
        slot = {
          kind: KIND_OF[line.type],
          type: line.type,
          name: this.options.prefix + line.name,
          attributes: tagsToAttributes(tags),
          value: 0,
          total: 0,
          hasValue: false,
          count: 0,
          sum: 0,
          sketch: undefined,
          members: undefined,
          lastSeen: now,
          ids: [NOT_INTERNED, NOT_INTERNED, NOT_INTERNED, NOT_INTERNED, NOT_INTERNED, NOT_INTERNED, NOT_INTERNED],
        };
        this.slots.set(key, slot);
      }
      if (this.aliases.size >= this.options.maxSeries * 4) this.aliases.clear();
      this.aliases.set(rawKey, slot);
    }
    if (slot.type !== line.type && !(HISTOGRAM_TYPES.has(slot.type) && HISTOGRAM_TYPES.has(line.type))) {
      this.stats.typeConflicts++;
      return 'type_conflict';
    }
    slot.lastSeen = now;
    const weight = 1 / line.sampleRate;
    switch (slot.kind) {
      case 'counter': {
        let next = slot.value;
        for (let i = 0; i < line.valueCount; i++) next += line.values[i] * weight;
        if (!Number.isFinite(next) || !Number.isFinite(slot.total + next)) return this.overflow();
        slot.value = next;
        break;
      }
      case 'gauge': {
        let next = slot.value;
        for (let i = 0; i < line.valueCount; i++) next = line.delta ? next + line.values[i] : line.values[i];
        if (!Number.isFinite(next)) return this.overflow();
        slot.value = next;
        slot.hasValue = true;
        break;
      }
      case 'timer': {
        let sum = slot.sum;
        for (let i = 0; i < line.valueCount; i++) sum += line.values[i] * weight;
        if (!Number.isFinite(sum) || !Number.isFinite(slot.count + weight * line.valueCount)) return this.overflow();
        const sketch = (slot.sketch ??= new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }));
        for (let i = 0; i < line.valueCount; i++) sketch.accept(line.values[i], weight);
        slot.count += weight * line.valueCount;
        slot.sum = sum;
        break;
      }
      case 'set': {
        const members = (slot.members ??= new Set());
        if (members.size < this.options.maxSetMembers) members.add(line.setMember);
        else if (!members.has(line.setMember)) this.stats.setMembersDropped++;
        break;
      }
    }
    return 'ok';
  }

  private overflow(): RecordOutcome {
    this.stats.overflows++;
    return 'overflow';
  }

  /**
   * Writes the interval's series, resets per-interval state and forgets sets idle for
   * `expireAfterMs`. `now` is the flush time; rates divide by the time since the previous flush.
   */
  flush(sink: TelemetrySink, resource: Attributes, now: number): void {
    const seconds = Math.max(now - this.lastFlush, 1) / 1000;
    this.lastFlush = now;
    for (const [key, slot] of this.slots) {
      switch (slot.kind) {
        case 'counter':
          slot.total += slot.value;
          if (this.options.counters !== 'total') this.write(sink, resource, slot, 0, '', 'rate', '{count}/s', 'throughput', slot.value / seconds);
          if (this.options.counters !== 'rate') this.write(sink, resource, slot, 1, '.total', 'counter', '{count}', 'throughput', slot.total);
          slot.value = 0;
          break;
        case 'gauge':
          if (slot.hasValue) this.write(sink, resource, slot, 0, '', 'gauge', '1', 'generic', slot.value);
          break;
        case 'timer': {
          const unit = slot.type === 'ms' ? 'ms' : '1';
          const kind: MetricKind = slot.type === 'ms' ? 'latency' : 'generic';
          if (slot.sketch && slot.count > 0) {
            for (let q = 0; q < QUANTILES.length; q++) this.write(sink, resource, slot, 3 + q, '', 'gauge', unit, kind, slot.sketch.getValueAtQuantile(QUANTILES[q][0]), QUANTILES[q][1]);
          }
          this.write(sink, resource, slot, 1, '.count', 'gauge', '{sample}', 'throughput', slot.count);
          this.write(sink, resource, slot, 2, '.sum', 'gauge', unit, 'generic', slot.sum);
          slot.sketch = undefined;
          slot.count = 0;
          slot.sum = 0;
          break;
        }
        case 'set':
          this.write(sink, resource, slot, 0, '', 'gauge', '{value}', 'generic', slot.members?.size ?? 0);
          slot.members = undefined;
          break;
      }
      if (now - slot.lastSeen >= this.options.expireAfterMs) {
        this.slots.delete(key);
        this.aliases.clear();
      }
    }
  }

  private write(sink: TelemetrySink, resource: Attributes, slot: Slot, index: number, suffix: string, type: MetricType, unit: string, kind: MetricKind, value: number, quantile?: string): void {
    let id = slot.ids[index];
    if (id === REFUSED) return;
    if (id === NOT_INTERNED) {
      try {
        id = sink.series({
          metric: slot.name + suffix,
          unit,
          type,
          kind,
          description: suffix ? `${DESCRIPTIONS[slot.kind]} (${suffix.slice(1)})` : DESCRIPTIONS[slot.kind],
          resource,
          attributes: quantile === undefined ? slot.attributes : { ...slot.attributes, quantile },
        });
      } catch (e) {
        if (!isSextantError(e) || e.code !== ErrorCode.LIMIT_EXCEEDED) throw e;
        slot.ids[index] = REFUSED;
        this.stats.seriesRefused++;
        return;
      }
      slot.ids[index] = id;
    }
    sink.sample(id, value);
  }
}

const DESCRIPTIONS: Record<SlotKind, string> = {
  counter: 'StatsD counter',
  gauge: 'StatsD gauge',
  timer: 'StatsD timer/histogram/distribution',
  set: 'StatsD set: distinct members per interval',
};
