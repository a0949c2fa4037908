/**
 * The TelemetrySink one collector instance writes to. Samples accumulate in a reusable columnar
 * batch and reach the pipeline on flush(). A per-instance series limit guards against label
 * explosions: the first refusal is logged and sets the instance degraded, every refused sample is
 * counted as dropped (reason `series_limit`).
 */
import { ErrorCode, SextantError, type Clock, type SeriesDescriptor, type SextantEvent, type TelemetrySink, type TopologyUpdate } from '@sextant/plugin-api';
import type { Pipeline } from '../pipeline/pipeline.js';
import { MutableBatch } from '../store/mutable-batch.js';

/** Returned by series() when the limit refused a descriptor; samples to it are counted and dropped. */
export const REFUSED_SERIES = 0xffffffff;

export class CollectorSink implements TelemetrySink {
  private readonly batch = new MutableBatch(256);
  private readonly owned = new Set<number>();
  private refusedSamples = 0;
  private warnedLimit = false;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly source: string,
    private readonly clock: Clock,
    private readonly maxSeries: number,
    private readonly onLimit: (message: string) => void,
  ) {}

  /** Series this instance created. */
  get seriesCount(): number {
    return this.owned.size;
  }

  series(descriptor: SeriesDescriptor): number {
    if (typeof descriptor?.metric !== 'string' || descriptor.metric.length === 0) {
      throw new SextantError(ErrorCode.VALUE_REJECTED, `${this.source}: a series needs a metric name`);
    }
    const existing = this.pipeline.registry.lookup(descriptor);
    if (existing !== undefined) {
      this.owned.add(existing);
      return existing;
    }
    if (this.owned.size >= this.maxSeries) {
      if (!this.warnedLimit) {
        this.warnedLimit = true;
        this.onLimit(`${ErrorCode.LIMIT_EXCEEDED}: ${this.source} reached its limit of ${this.maxSeries} series (last refused: ${descriptor.metric}); raise store.maxSeriesPerInstance or reduce attribute cardinality`);
      }
      return REFUSED_SERIES;
    }
    try {
      const id = this.pipeline.registry.intern(descriptor, this.source);
      this.owned.add(id);
      return id;
    } catch (e) {
      if (!this.warnedLimit) {
        this.warnedLimit = true;
        this.onLimit((e as Error).message);
      }
      return REFUSED_SERIES;
    }
  }

  sample(series: number, value: number, timestamp?: number): void {
    if (series === REFUSED_SERIES || !this.owned.has(series)) {
      this.refusedSamples++;
      return;
    }
    this.batch.push(series, timestamp ?? this.clock.now(), value);
  }

  event(event: SextantEvent): void {
    this.pipeline.ingestEvent(event, this.source);
  }

  topology(update: TopologyUpdate): void {
    this.pipeline.applyTopology(update);
  }

  flush(): void {
    if (this.refusedSamples > 0) {
      this.pipeline.recordDrop('series_limit', this.refusedSamples, this.source);
      this.refusedSamples = 0;
    }
    if (this.batch.length === 0) return;
    this.pipeline.ingest(this.batch, this.source);
    this.batch.clear();
  }
}
