/**
 * The runtime side of one exporter instance: a bounded in-memory queue between the pipeline and
 * the exporter, so a slow or stuck exporter never blocks ingest.
 *
 * `offer*` copy what they are given (the pipeline reuses its arrays) and return at once. A drain
 * loop hands the exporter one chunk at a time and waits for its promise before the next. Samples
 * beyond `maxSamples` queued (and anomalies beyond `maxAnomalies`) are dropped on arrival and
 * counted in `sextant_exporter_dropped_total{instance, kind}`; an exporter that throws is marked
 * degraded through `fail` and its chunk is counted as dropped too.
 */
import { LEARNING_STATE_CODES, type Anomaly, type ExpectationColumns, type Exporter, type SampleBatch, type SeriesExpectation } from '@sextant/plugin-api';

export interface ExportQueueOptions {
  /** Most samples waiting for the exporter; default 200,000. */
  readonly maxSamples?: number;
  /** Most anomalies waiting; default 10,000. */
  readonly maxAnomalies?: number;
  /** Counts dropped items. */
  readonly onDrop: (kind: 'samples' | 'anomalies', count: number) => void;
  /** Marks the instance degraded with the error. */
  readonly fail: (error: unknown) => void;
}

/** A growable columnar chunk: samples plus aligned expectations. */
class Chunk implements SampleBatch, ExpectationColumns {
  length = 0;
  modelled = false;
  series = new Uint32Array(0);
  timestamps = new Float64Array(0);
  values = new Float64Array(0);
  expected = new Float64Array(0);
  lower = new Float64Array(0);
  upper = new Float64Array(0);
  state = new Uint8Array(0);

  reserve(n: number): void {
    if (n <= this.series.length) return;
    let cap = Math.max(1024, this.series.length);
    while (cap < n) cap *= 2;
    const grow = <T extends Uint32Array | Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const a = make(cap);
      a.set(old.subarray(0, this.length) as never);
      return a;
    };
    this.series = grow(this.series, (c) => new Uint32Array(c));
    this.timestamps = grow(this.timestamps, (c) => new Float64Array(c));
    this.values = grow(this.values, (c) => new Float64Array(c));
    this.expected = grow(this.expected, (c) => new Float64Array(c));
    this.lower = grow(this.lower, (c) => new Float64Array(c));
    this.upper = grow(this.upper, (c) => new Float64Array(c));
    this.state = grow(this.state, (c) => new Uint8Array(c));
  }
}

export class ExportQueue {
  private pending = new Chunk();
  private spare = new Chunk();
  private anomalies: Anomaly[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly maxSamples: number;
  private readonly maxAnomalies: number;

  constructor(
    readonly instanceId: string,
    private readonly exporter: Exporter,
    private readonly options: ExportQueueOptions,
  ) {
    this.maxSamples = options.maxSamples ?? 200_000;
    this.maxAnomalies = options.maxAnomalies ?? 10_000;
  }

  /** Samples waiting for the exporter. */
  get queuedSamples(): number {
    return this.pending.length;
  }

  /** Copies an accepted batch, with the modelling detector's expectation per sample when there is one. */
  offerSamples(batch: SampleBatch, expectationOf: ((series: number) => SeriesExpectation | undefined) | undefined): void {
    if (this.closed || batch.length === 0) return;
    const room = this.maxSamples - this.pending.length;
    const n = Math.min(batch.length, room);
    if (n < batch.length) this.options.onDrop('samples', batch.length - n);
    if (n <= 0) return;
    const c = this.pending;
    c.reserve(c.length + n);
    const at = c.length;
    c.series.set(batch.series.subarray(0, n), at);
    c.timestamps.set(batch.timestamps.subarray(0, n), at);
    c.values.set(batch.values.subarray(0, n), at);
    for (let i = 0; i < n; i++) {
      const e = expectationOf?.(batch.series[i]);
      const j = at + i;
      if (e && e.timestamp === batch.timestamps[i] && Number.isFinite(e.expected)) {
        c.expected[j] = e.expected;
        c.lower[j] = e.lower;
        c.upper[j] = e.upper;
        c.state[j] = LEARNING_STATE_CODES[e.state] ?? 0;
        c.modelled = true;
      } else {
        c.expected[j] = c.lower[j] = c.upper[j] = NaN;
        c.state[j] = 0;
      }
    }
    c.length += n;
    this.schedule();
  }

  offerAnomaly(anomaly: Anomaly): void {
    if (this.closed || !this.exporter.exportAnomalies) return;
    if (this.anomalies.length >= this.maxAnomalies) return this.options.onDrop('anomalies', 1);
    this.anomalies.push(anomaly);
    this.schedule();
  }

  /** Hands over what is queued, then stops taking more. Resolves when the exporter has returned. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.draining) await this.draining;
    this.closed = true;
    if (this.pending.length > 0 || this.anomalies.length > 0) await this.drain();
  }

  private schedule(): void {
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => {
        this.draining = undefined;
        // an offer that came between the loop's last check and here would otherwise wait for the next one
        if (!this.closed && (this.pending.length > 0 || this.anomalies.length > 0)) this.schedule();
      });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 || this.anomalies.length > 0) {
      if (this.anomalies.length > 0) {
        const batch = this.anomalies;
        this.anomalies = [];
        try {
          await this.exporter.exportAnomalies!(batch);
        } catch (e) {
          this.options.onDrop('anomalies', batch.length);
          this.options.fail(e);
        }
      }
      if (this.pending.length > 0) {
        const chunk = this.pending;
        this.pending = this.spare;
        this.spare = chunk;
        try {
          await this.exporter.exportSamples(chunk, chunk.modelled ? chunk : undefined);
        } catch (e) {
          this.options.onDrop('samples', chunk.length);
          this.options.fail(e);
        }
        chunk.length = 0;
        chunk.modelled = false;
      }
    }
  }
}
