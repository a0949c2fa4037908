/**
 * Child side of one instance's output: the Collect stream (samples, series definitions, events,
 * topology, status, logs, self-metrics) and the sink a child collector writes to.
 *
 * Output produced before the host opens the stream (in create() or start()) is queued, up to
 * {@link MAX_QUEUED_MESSAGES}; older messages are dropped and counted in `dropped_messages`.
 * Status, logs and metrics are sent on the next turn of the event loop, or with the next data
 * message if one comes first, so their order relative to data is kept.
 *
 * Samples are streamed as the plugin writes them, never held for a whole round: the sink sends a
 * message every {@link SAMPLES_PER_MESSAGE} samples, and `flush()` returns a promise that settles
 * once the stream takes more (gRPC's write() said no: wait for 'drain'), so a plugin that awaits
 * it is paced by the host instead of piling encoded messages up in memory.
 */
import type { Attributes, SelfMetrics, SeriesDescriptor, SeriesId, SextantEvent, StatusReporter, Logger, TelemetrySink, TopologyUpdate } from '@sextant/plugin-api';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { LogLevel, type CollectRequest, type CollectResponse, type LogRecord, type MetricUpdate, type PluginError, type SeriesDefinition, type StatusReport } from './gen/sextant/plugin/v1/plugin.js';
import { SampleColumnsWriter } from './sample-columns.js';
import type { Event as WireEvent, TopologyUpdate as WireTopologyUpdate } from './gen/sextant/common/v1/common.js';
import { eventToWire } from './model-wire.js';
import { attributesToWire, descriptorToWire, seriesIdentityKey } from './series-wire.js';
import { topologyToWire } from './topology-wire.js';

export const MAX_QUEUED_MESSAGES = 1024;
/** Samples per Collect message at most: a big round goes out in bounded chunks (8192 x 20 B = 160 KiB). */
export const SAMPLES_PER_MESSAGE = 8192;
const resolved = Promise.resolve();

export function emptyCollectResponse(): CollectResponse {
  return {
    series: [],
    samples: undefined,
    status: [],
    logs: [],
    metrics: [],
    completesRound: 0,
    roundError: undefined,
    droppedMessages: 0,
    events: [],
    topology: [],
  };
}

export class InstanceOutput {
  private stream: ServerWritableStream<CollectRequest, CollectResponse> | undefined;
  private queue: CollectResponse[] = [];
  private dropped = 0;
  private status: StatusReport[] = [];
  private logs: LogRecord[] = [];
  private metrics = new Map<string, MetricUpdate>();
  private sideScheduled = false;
  private closed = false;
  /** Set while the stream's buffer is full; settles on 'drain' (or when the stream goes away). */
  private drained: Promise<void> | undefined;
  private releaseDrain: (() => void) | undefined;

  attach(stream: ServerWritableStream<CollectRequest, CollectResponse>): void {
    if (this.closed) {
      stream.end();
      return;
    }
    this.stream?.end();
    this.release();
    this.stream = stream;
    const gone = () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.release();
    };
    stream.on('cancelled', gone);
    stream.on('close', gone);
    stream.on('error', gone);
    stream.on('drain', () => {
      if (this.stream === stream) this.release();
    });
    const queued = this.queue;
    this.queue = [];
    for (const message of queued) this.write(stream, message);
  }

  /**
   * Settles when the stream takes more output: at once while it does, else on its next 'drain'
   * (or when it is cancelled or closed, so a plugin never waits on a host that went away).
   */
  writable(): Promise<void> {
    return this.drained ?? resolved;
  }

  send(message: CollectResponse): void {
    if (this.closed) return;
    message.status.push(...this.status);
    message.logs.push(...this.logs);
    message.metrics.push(...this.metrics.values());
    this.status = [];
    this.logs = [];
    this.metrics.clear();
    if (this.dropped > 0 && this.stream) {
      message.droppedMessages = this.dropped;
      this.dropped = 0;
    }
    if (this.stream) {
      this.write(this.stream, message);
    } else {
      this.queue.push(message);
      if (this.queue.length > MAX_QUEUED_MESSAGES) {
        this.queue.shift();
        this.dropped++;
      }
    }
  }

  readonly statusReporter: StatusReporter = {
    set: (state, message, code) => {
      this.status.push({ state, message: message ?? '', code: code ?? '' });
      this.scheduleSide();
    },
  };

  readonly logger: Logger = {
    debug: (m, f) => this.log(LogLevel.LOG_LEVEL_DEBUG, m, f),
    info: (m, f) => this.log(LogLevel.LOG_LEVEL_INFO, m, f),
    warn: (m, f) => this.log(LogLevel.LOG_LEVEL_WARN, m, f),
    error: (m, f) => this.log(LogLevel.LOG_LEVEL_ERROR, m, f),
  };

  readonly selfMetrics: SelfMetrics = {
    counter: (name, description) => ({ add: (value, attributes) => this.metric(name, description, false, value, attributes) }),
    gauge: (name, description) => ({ set: (value, attributes) => this.metric(name, description, true, value, attributes) }),
  };

  /** Ends the stream after sending what is pending. */
  close(): void {
    if (this.closed) return;
    if (this.status.length || this.logs.length || this.metrics.size) this.send(emptyCollectResponse());
    this.closed = true;
    this.stream?.end();
    this.stream = undefined;
    this.release();
  }

  private write(stream: ServerWritableStream<CollectRequest, CollectResponse>, message: CollectResponse): void {
    if (!stream.write(message) && !this.drained) {
      this.drained = new Promise<void>((resolve) => (this.releaseDrain = resolve));
    }
  }

  private release(): void {
    const release = this.releaseDrain;
    this.drained = undefined;
    this.releaseDrain = undefined;
    release?.();
  }

  private log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.logs.push({ level, message: String(message), fieldsJson: fields ? safeJson(fields) : '' });
    this.scheduleSide();
  }

  private metric(name: string, description: string, gauge: boolean, value: number, attributes?: Attributes): void {
    if (!Number.isFinite(value)) return;
    const attributesKey = attributes ? JSON.stringify(Object.keys(attributes).sort().map((k) => [k, attributes[k]])) : '';
    const key = `${gauge ? 'g' : 'c'}\u0000${name}\u0000${attributesKey}`;
    const pending = this.metrics.get(key);
    if (pending && !gauge) pending.value += value;
    else this.metrics.set(key, { name, description, gauge, value, attributes: attributesToWire(attributes) });
    this.scheduleSide();
  }

  private scheduleSide(): void {
    if (this.sideScheduled || this.closed) return;
    this.sideScheduled = true;
    setImmediate(() => {
      this.sideScheduled = false;
      if (this.status.length || this.logs.length || this.metrics.size) this.send(emptyCollectResponse());
    });
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/**
 * The TelemetrySink of a child collector. Series ids are child-side (0, 1, 2, ... in order of first
 * use); the host maps them to its own. Absent timestamps travel as NaN so the host stamps them with
 * its clock, exactly as an in-process sink would.
 */
export class ChildCollectorSink implements TelemetrySink {
  private readonly ids = new Map<string, number>();
  private count = 0;
  private newSeries: SeriesDefinition[] = [];
  private readonly columns = new SampleColumnsWriter();
  private events: WireEvent[] = [];
  private topologyUpdates: WireTopologyUpdate[] = [];

  constructor(private readonly output: InstanceOutput) {}

  series(descriptor: SeriesDescriptor): SeriesId {
    const key = seriesIdentityKey(descriptor);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.count++;
      this.ids.set(key, id);
      this.newSeries.push({ id, descriptor: descriptorToWire(descriptor) });
    }
    return id;
  }

  sample(series: SeriesId, value: number, timestamp?: number): void {
    if (!(series >= 0 && series < this.count && Number.isInteger(series))) {
      throw new SextantError(ErrorCode.INTERNAL, `unknown series id ${series}`, { hint: 'use ids returned by sink.series()' });
    }
    this.columns.push(series, timestamp ?? Number.NaN, value);
    if (this.columns.length >= SAMPLES_PER_MESSAGE) this.send(0, undefined);
  }

  event(event: SextantEvent): void {
    this.events.push(eventToWire(event));
  }

  topology(update: TopologyUpdate): void {
    this.topologyUpdates.push(topologyToWire(update));
  }

  /**
   * Sends what was written. The promise (the contract's flush() returns nothing; awaiting it is an
   * option for plugins that write a lot) settles when the stream takes more: await it between
   * large writes and the plugin is paced by the host rather than buffered in this process.
   */
  flush(): Promise<void> {
    this.send(0, undefined);
    return this.output.writable();
  }

  /** Flushes and marks the end of Tick round `round` (with the error collect() threw, if any). */
  completeRound(round: number, error: PluginError | undefined): void {
    this.send(round, error);
  }

  private send(round: number, error: PluginError | undefined): void {
    if (round === 0 && this.columns.length === 0 && this.newSeries.length === 0 && this.events.length === 0 && this.topologyUpdates.length === 0) return;
    const message = emptyCollectResponse();
    message.series = this.newSeries;
    message.samples = this.columns.length > 0 ? this.columns.take() : undefined;
    message.events = this.events;
    message.topology = this.topologyUpdates;
    message.completesRound = round;
    message.roundError = error;
    this.newSeries = [];
    this.events = [];
    this.topologyUpdates = [];
    this.output.send(message);
  }
}
