/**
 * `MetricWriter`: the series bookkeeping every polling collector does, in one copy — a series id
 * per metric spec and attribute values (created on first use, then reused), a `CounterRate` per
 * series for cumulative counters, and the sink's series limit (`SEXTANT_ERR_LIMIT_EXCEEDED`)
 * counted in `series_limited_total` instead of thrown.
 */
import {
  ErrorCode,
  formatError,
  isSextantError,
  type Attributes,
  type CollectorContext,
  type MetricKind,
  type MetricType,
  type SelfCounter,
  type SeriesId,
} from '@sextant/plugin-api';
import { CounterRate } from '@sextant/plugin-kit';

/**
 * What a collector's metrics table says about one metric. Each plugin's own spec type (with its
 * extra fields such as `read`, `fields`, `source`) is structurally one of these.
 */
export interface MetricSpec {
  readonly name: string;
  /** UCUM unit. */
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  /** Names of the point attributes that split the metric into series (documentation only). */
  readonly attributes?: readonly string[];
}

/** Point attributes of one series: names to string values. */
export type SeriesAttributes = Readonly<Record<string, string>>;

export interface MetricWriterOptions {
  /** The resource every series gets (what produced the data). */
  readonly resource: Attributes;
  /**
   * The counter that counts refused series. Default: `series_limited_total` created on
   * `ctx.metrics`. Pass your own when the collector also counts its own limits in it.
   */
  readonly seriesLimited?: SelfCounter;
  /**
   * The collector's own caps on groups of series (e.g. "at most 1000 per-stream series"), checked
   * before a new series is created, never for a known one. A new series that a cap `applies` to
   * while `max` of its series exist is refused: counted in `seriesLimited`, nothing written.
   */
  readonly limits?: readonly SeriesCap[];
}

/** A cap on the series of one group; see {@link MetricWriterOptions.limits}. */
export interface SeriesCap {
  readonly applies: (spec: MetricSpec, attributes: SeriesAttributes) => boolean;
  readonly max: number;
}

/** One series the writer created, for collectors that revisit their series (e.g. to write zeros). */
export interface KnownSeries {
  readonly attributes: SeriesAttributes;
  readonly id: SeriesId;
}

interface Entry extends KnownSeries {
  readonly metric: string;
}

/** The part of a collector context the writer uses. */
export type MetricWriterContext = Pick<CollectorContext<unknown>, 'sink' | 'metrics' | 'logger'>;

/**
 * Writes a collector's samples: `gauge()` as is, `rate()` as per-second rates of cumulative
 * counters. Never throws for a refused series; the sample is dropped and counted.
 *
 * Series are keyed by metric name and the attribute values by attribute name, so the order in
 * which a caller builds the attributes object does not matter.
 */
export class MetricWriter {
  /** Counts series refused by the sink's limit or by a cap; collectors may add their own refusals. */
  readonly seriesLimited: SelfCounter;
  private readonly series = new Map<string, Entry>();
  private rates = new Map<SeriesId, CounterRate>();
  private readonly warned = new Set<string>();
  /** Series created so far under each of `options.limits`, by index. */
  private readonly capped: number[];

  constructor(
    private readonly ctx: MetricWriterContext,
    private readonly options: MetricWriterOptions,
  ) {
    this.seriesLimited = options.seriesLimited ?? ctx.metrics.counter('series_limited_total', 'Series not created because a series limit was reached');
    this.capped = (options.limits ?? []).map(() => 0);
  }

  /** Writes `value` as is. Returns false when the series was refused. */
  gauge(spec: MetricSpec, attributes: SeriesAttributes, value: number, timestamp: number): boolean {
    const id = this.seriesOf(spec, attributes);
    if (id === undefined) return false;
    this.ctx.sink.sample(id, value, timestamp);
    return true;
  }

  /**
   * Feeds the cumulative `counterValue` read at `timestamp` (ms) to the series' `CounterRate` and
   * writes the per-second rate since the previous reading. Returns the rate written, or undefined
   * when there is none: first reading, a reset (the counter went back), a refused series.
   */
  rate(spec: MetricSpec, attributes: SeriesAttributes, counterValue: number, timestamp: number): number | undefined {
    const id = this.seriesOf(spec, attributes);
    if (id === undefined) return undefined;
    let rate = this.rates.get(id);
    if (!rate) this.rates.set(id, (rate = new CounterRate()));
    const perSecond = rate.update(counterValue, timestamp);
    if (perSecond !== undefined) this.ctx.sink.sample(id, perSecond, timestamp);
    return perSecond;
  }

  /**
   * Drops every counter baseline (call it when the server restarted or its statistics were reset),
   * so the next reading of each counter writes no rate instead of a negative or inflated one.
   * Series ids are kept.
   */
  forgetRates(): void {
    this.rates = new Map();
  }

  /** The series id for `spec` and `attributes`, created on first use; undefined when refused. */
  seriesOf(spec: MetricSpec, attributes: SeriesAttributes): SeriesId | undefined {
    const key = seriesKey(spec.name, attributes);
    const known = this.series.get(key);
    if (known !== undefined) return known.id;
    const caps = this.capsOf(spec, attributes);
    if (caps.some((i) => this.capped[i] >= this.options.limits![i].max)) {
      this.seriesLimited.add(1);
      return undefined;
    }
    try {
      const id = this.ctx.sink.series({
        metric: spec.name,
        unit: spec.unit,
        type: spec.type,
        ...(spec.kind ? { kind: spec.kind } : {}),
        description: spec.description,
        resource: this.options.resource,
        attributes: { ...attributes },
      });
      this.series.set(key, { metric: spec.name, attributes: { ...attributes }, id });
      for (const i of caps) this.capped[i]++;
      return id;
    } catch (error) {
      this.seriesLimited.add(1);
      // the limit is expected under label explosion and counted; anything else is a bug worth one line
      if ((!isSextantError(error) || error.code !== ErrorCode.LIMIT_EXCEEDED) && !this.warned.has(spec.name)) {
        this.warned.add(spec.name);
        this.ctx.logger.warn(`cannot create series ${spec.name}: ${formatError(error)}`);
      }
      return undefined;
    }
  }

  private capsOf(spec: MetricSpec, attributes: SeriesAttributes): number[] {
    const out: number[] = [];
    this.options.limits?.forEach((cap, i) => {
      if (cap.applies(spec, attributes)) out.push(i);
    });
    return out;
  }

  /** The series of `spec` created so far, in creation order. */
  known(spec: MetricSpec): KnownSeries[] {
    const out: KnownSeries[] = [];
    for (const entry of this.series.values()) if (entry.metric === spec.name) out.push({ attributes: entry.attributes, id: entry.id });
    return out;
  }

  /** How many series the writer created. */
  get size(): number {
    return this.series.size;
  }
}

function seriesKey(metric: string, attributes: SeriesAttributes): string {
  const names = Object.keys(attributes).sort();
  let key = metric;
  for (const name of names) key += `\u0000${name}\u0001${attributes[name]}`;
  return key;
}
