/**
 * The server half of agent-to-server ingest: a gRPC server speaking `sextant.ingest.v1.Ingest`
 * (Sextant agents) and `opentelemetry.proto.collector.metrics.v1.MetricsService/Export` (any
 * OpenTelemetry SDK or Collector), handing everything to one {@link IngestHandler}.
 *
 * Guarantees:
 * - Nothing is dropped silently. A message is either accepted (handed to the handler and
 *   acknowledged), recognised as a duplicate (counted, acknowledged, not handed on), or refused
 *   with a gRPC status and counted under a reason:
 *   UNAUTHENTICATED (missing/wrong token), RESOURCE_EXHAUSTED (oversized, queue full, rate limit;
 *   all retryable except oversized), INVALID_ARGUMENT (malformed).
 * - Refusals inside accepted messages (series over a limit, samples of unknown series) are counted
 *   per source and reported back to the agent in every ack (cumulative counts).
 * - De-duplication by (source_id, sequence) with O(dedupWindow) memory per source.
 * - The handler is never called concurrently with itself (Node's single thread) and never sees a
 *   sample of a series it was not told about first (onSeries before onBatch).
 */
import { Event as WireEvent, TopologyUpdate as WireTopologyUpdate } from '../gen/sextant/common/v1/common.js';
import { eventFromWire } from '../model-wire.js';
import { topologyFromWire } from '../topology-wire.js';
import { Server, status, type Metadata, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { Logger, SampleBatch, SelfCounter, SelfMetrics, SeriesDescriptor, SeriesId, SextantEvent, TopologyUpdate } from '@sextant/plugin-api';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { IngestRequestDecoder, encodeIngestAck, type DecodedIngestRequest, type SeriesDefinition } from './ingest-codec.js';
import { OtlpMetricsTranslator, encodeOtlpExportResponse } from './otlp-metrics.js';
import { WireFormatError } from './protobuf-wire.js';
import { SequenceWindow } from './sequence-window.js';
import { randomInt } from 'node:crypto';
import { secretsEqual } from '@sextant/plugin-kit';
import { bearerValues, hasValidToken, hostOf, tokenIndex, serverCredentials, type ServerTlsOptions } from './transport-security.js';

export const INGEST_METHOD_PATH = '/sextant.ingest.v1.Ingest/Ingest';
export const OTLP_METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

/**
 * Where the server delivers what it accepted. Called in order per source. `sourceId` is the
 * agent's own id, or `otlp:<peer host>` for OTLP senders.
 *
 * Series ids: `onSeries` may return the SeriesId the consumer assigned to the descriptor (e.g.
 * from its catalog); the server then REMAPS the batch's ids to those before `onBatch`. When
 * `onSeries` returns nothing, `onBatch` sees the source-local ids unchanged. When it returns
 * `null`, the consumer refuses the series (e.g. its own series cap is reached): the definition is
 * counted as `series-limit` and the series' samples as `unknown-series`, never delivered under
 * another id. Either way a batch only contains ids announced and accepted through `onSeries`.
 *
 * A handler may return a promise: until it settles the message counts against `maxQueue`, and new
 * messages are refused with RESOURCE_EXHAUSTED (retryable) while the queue is full. Handler errors
 * (thrown or rejected) are counted as `handler-error` and logged; the message stays accepted.
 */
export interface IngestHandler {
  onSeries(sourceId: string, localId: number, descriptor: SeriesDescriptor): SeriesId | null | void;
  /** The batch's arrays are reused after the call (or after the promise settles). */
  onBatch(sourceId: string, batch: SampleBatch): void | Promise<void>;
  /**
   * Acknowledge a message's samples only once the promise `onBatch` returned has resolved (a
   * consumer that holds them durably only then, e.g. a cluster member once they are in Redis). A
   * rejected promise, or a throw, is not acknowledged: the message's sequence is forgotten, the
   * stream ends with a retryable RESOURCE_EXHAUSTED (counted as `queue-full`) and the agent sends
   * the message again. Default false: a message is acknowledged once handed on.
   */
  readonly ackAfterHandled?: boolean;
  onEvents?(sourceId: string, events: SextantEvent[]): void | Promise<void>;
  onTopology?(sourceId: string, updates: TopologyUpdate[]): void | Promise<void>;
}

export interface IngestServerOptions {
  /** `host:port` to listen on; port 0 picks a free one (see {@link IngestServer.port}). */
  readonly address: string;
  /** TLS (recommended). Exactly one of `tls` and `insecureLoopback` must be given. */
  readonly tls?: ServerTlsOptions;
  /** Plain text, only on a loopback address (`sextant server --insecure-loopback`). */
  readonly insecureLoopback?: boolean;
  /** Accepted bearer tokens (at least 16 characters). Several allow rotation. */
  readonly tokens: string | readonly string[];
  readonly handler: IngestHandler;
  /** Largest message accepted, in bytes. Default 4 MiB. */
  readonly maxMessageBytes?: number;
  /** Messages whose handler promise has not settled yet, across all streams. Default 1024. */
  readonly maxQueue?: number;
  /** Share of `maxQueue` one stream may hold. Default a quarter of maxQueue (at least 1). */
  readonly maxQueuePerStream?: number;
  /** Messages per second one stream may send (burst of the same size). 0 = no limit (default). */
  readonly maxMessagesPerSecondPerStream?: number;
  /** Out-of-order sequences remembered per source. Default 1024. */
  readonly dedupWindow?: number;
  /**
   * Distinct series one source may define (label-explosion guard: one agent or OTLP sender cannot
   * fill the server). Further definitions are refused and counted as `series-limit`, their samples
   * as `unknown-series`, and the server logs it once a minute per source. Default 100,000.
   */
  readonly maxSeriesPerSource?: number;
  /**
   * Samples per second one source may send (token bucket, burst of two seconds' worth). A message
   * over the rate is refused with a retryable RESOURCE_EXHAUSTED before it is accepted, so the agent
   * keeps it and sends it again later: nothing is lost. 0 = no limit. Default 1,000,000.
   */
  readonly maxSamplesPerSecondPerSource?: number;
  /**
   * Distinct series all sources of one token (a tenant: each accepted token is one) may define
   * together, so a token holder cannot dodge maxSeriesPerSource by inventing source ids. Refusals
   * are counted as `series-limit`. Default: no limit beyond the consumer's own cap.
   */
  readonly maxSeriesPerToken?: number;
  /** Serve OTLP/gRPC metrics on the same port. Default true. */
  readonly otlp?: boolean;
  /** Whether OTLP senders must send the bearer token too. Default true. */
  readonly otlpRequireToken?: boolean;
  /** Self-metrics (e.g. the runtime's ctx.metrics): counters mirror {@link IngestServerStats}. */
  readonly metrics?: SelfMetrics;
  readonly logger?: Logger;
}

export type RejectReason =
  | 'unauthenticated'
  | 'oversized'
  | 'queue-full'
  | 'rate-limited'
  | 'malformed'
  | 'unknown-series'
  | 'series-limit'
  | 'otlp-points'
  | 'handler-error';

/** Counters since start. `received` = data messages and OTLP requests that arrived. */
export interface IngestServerStats {
  received: number;
  accepted: number;
  duplicates: number;
  /** Samples handed to onBatch. */
  samples: number;
  /** Refusals by reason (messages, except `unknown-series`/`series-limit`/`otlp-points`: samples). */
  rejected: Record<RejectReason, number>;
  sources: number;
  /** Sequences given up on because a source jumped further ahead than the dedup window. */
  skipped: number;
}

interface SourceState {
  readonly window: SequenceWindow;
  /** Sample-rate token bucket (see maxSamplesPerSecondPerSource). */
  sampleTokens?: number;
  sampleRefill?: number;
  /** localId -> consumer SeriesId; -1 = not announced. */
  remap: Int32Array;
  seriesCount: number;
  /** Index of the token (tenant) the source authenticated with; -1 when unknown (OTLP without token). */
  tenant: number;
  /** Refusals of this source's definitions and samples since start, reported back in every ack. */
  refusedSeries: number;
  unknownSeriesSamples: number;
  /** ackAfterHandled: sequences whose onBatch promise has not settled yet (ascending); acks stay below them. */
  unsettled?: number[];
  /** The stream this source last sent on (acks after a promise settles go there). */
  ackTo?: { readonly call: ServerDuplexStream<Buffer, Buffer>; readonly stream: StreamState };
}

interface StreamState {
  sourceId: string;
  /** Which accepted token the stream carries (its tenant). */
  readonly tenant: number;
  pending: number;
  tokens: number;
  lastRefill: number;
  ackScheduled: boolean;
  closed: boolean;
  readonly decoder: IngestRequestDecoder;
}

class RefusalError extends Error {
  constructor(
    readonly code: status,
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

const NO_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class IngestServer {
  private readonly server: Server;
  private readonly tokens: Buffer[];
  private readonly handler: IngestHandler;
  private readonly maxMessageBytes: number;
  private readonly maxQueue: number;
  private readonly maxQueuePerStream: number;
  private readonly ratePerStream: number;
  private readonly dedupWindow: number;
  private readonly maxSeriesPerSource: number;
  private readonly samplesPerSecondPerSource: number;
  private readonly maxSeriesPerToken: number;
  /** Series defined by all sources of one token (tenant), by token index. */
  private readonly tenantSeries = new Map<number, number>();
  /** `<what>\u0000<who>` -> when it was last logged (refusals are logged once a minute each). */
  private readonly warned = new Map<string, number>();
  private readonly otlpRequireToken: boolean;
  private readonly logger: Logger;
  private readonly sources = new Map<string, SourceState>();
  private readonly otlpTranslators = new Map<string, OtlpMetricsTranslator>();
  private readonly counters: IngestServerStats;
  private readonly selfCounters: Partial<Record<'received' | 'accepted' | 'duplicates' | 'samples' | 'rejected', SelfCounter>> = {};
  private readonly streams = new Set<ServerDuplexStream<Buffer, Buffer>>();
  private pendingTotal = 0;
  /** Sent in hello acks: agents re-announce their series only to a server they have not seen. */
  private readonly instance = randomInt(1, 2 ** 47);
  private boundPort = 0;
  private stopped = false;

  private constructor(private readonly options: IngestServerOptions) {
    this.tokens = bearerValues(options.tokens);
    this.handler = options.handler;
    this.maxMessageBytes = positiveInt(options.maxMessageBytes, 4 * 1024 * 1024, 'maxMessageBytes');
    this.maxQueue = positiveInt(options.maxQueue, 1024, 'maxQueue');
    this.maxQueuePerStream = positiveInt(options.maxQueuePerStream, Math.max(1, Math.floor(this.maxQueue / 4)), 'maxQueuePerStream');
    this.ratePerStream = options.maxMessagesPerSecondPerStream ?? 0;
    this.dedupWindow = positiveInt(options.dedupWindow, 1024, 'dedupWindow');
    this.maxSeriesPerSource = positiveInt(options.maxSeriesPerSource, 100_000, 'maxSeriesPerSource');
    this.maxSeriesPerToken = positiveInt(options.maxSeriesPerToken, Number.MAX_SAFE_INTEGER, 'maxSeriesPerToken');
    this.samplesPerSecondPerSource = options.maxSamplesPerSecondPerSource === 0 ? 0 : positiveInt(options.maxSamplesPerSecondPerSource, 1_000_000, 'maxSamplesPerSecondPerSource');
    this.otlpRequireToken = options.otlpRequireToken ?? true;
    this.logger = options.logger ?? NO_LOGGER;
    this.counters = {
      received: 0,
      accepted: 0,
      duplicates: 0,
      samples: 0,
      rejected: { unauthenticated: 0, oversized: 0, 'queue-full': 0, 'rate-limited': 0, malformed: 0, 'unknown-series': 0, 'series-limit': 0, 'otlp-points': 0, 'handler-error': 0 },
      sources: 0,
      skipped: 0,
    };
    if (options.metrics) {
      const m = options.metrics;
      this.selfCounters.received = m.counter('ingest_received_total', 'Ingest messages and OTLP requests received');
      this.selfCounters.accepted = m.counter('ingest_accepted_total', 'Ingest messages and OTLP requests accepted');
      this.selfCounters.duplicates = m.counter('ingest_duplicates_total', 'Ingest messages received again and not stored twice');
      this.selfCounters.samples = m.counter('ingest_samples_total', 'Samples handed to the pipeline');
      this.selfCounters.rejected = m.counter('ingest_rejected_total', 'Ingest messages or samples refused, by reason');
    }
    // Messages up to twice the limit reach our own check (counted, clear message); beyond that
    // grpc-js refuses them itself (also RESOURCE_EXHAUSTED, naming its limit) without buffering.
    this.server = new Server({
      'grpc.max_receive_message_length': this.maxMessageBytes * 2 + 1024,
      'grpc.max_concurrent_streams': 1000,
    });
    const raw = (b: Buffer): Buffer => b;
    this.server.register(INGEST_METHOD_PATH, this.onIngestStream.bind(this) as never, raw, raw, 'bidi');
    if (options.otlp ?? true) {
      this.server.register(OTLP_METRICS_EXPORT_PATH, this.onOtlpExport.bind(this) as never, raw, raw, 'unary');
    }
  }

  /** Validates the options, binds the address and starts serving. Rejects with a coded error. */
  static async start(options: IngestServerOptions): Promise<IngestServer> {
    const server = new IngestServer(options);
    const creds = serverCredentials(options.address, options.tls, options.insecureLoopback);
    server.boundPort = await new Promise<number>((resolve, reject) => {
      server.server.bindAsync(options.address, creds, (err, port) => {
        if (err) {
          reject(
            new SextantError(ErrorCode.START_FAILED, `ingest server cannot listen on ${options.address}: ${err.message}`, {
              hint: 'is another process using the port? pick another address or port 0',
              cause: err,
            }),
          );
        } else resolve(port);
      });
    });
    return server;
  }

  /** The bound TCP port. */
  get port(): number {
    return this.boundPort;
  }

  /** `host:port` clients should dial. */
  get address(): string {
    const host = hostOf(this.options.address);
    return `${host.includes(':') ? `[${host}]` : host}:${this.boundPort}`;
  }

  /** A snapshot of the counters. */
  stats(): IngestServerStats {
    let skipped = 0;
    for (const s of this.sources.values()) skipped += s.window.skipped;
    return { ...this.counters, rejected: { ...this.counters.rejected }, sources: this.sources.size, skipped };
  }

  /** Stops accepting, ends open streams, waits up to `graceMs` for calls to finish. Idempotent. */
  async shutdown(graceMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const call of this.streams) {
      try {
        call.end();
      } catch {
        // already gone
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // counters

  private count(what: 'received' | 'accepted' | 'duplicates' | 'samples', n = 1): void {
    this.counters[what] += n;
    this.selfCounters[what]?.add(n);
  }

  private reject(reason: RejectReason, n = 1): void {
    this.counters.rejected[reason] += n;
    this.selfCounters.rejected?.add(n, { reason });
  }

  /** Logs a refusal at most once a minute per kind and sender; the counters carry the numbers. */
  private warnOnce(what: string, who: string, message: string, fields: Record<string, unknown>): void {
    const key = `${what}\u0000${who}`;
    const now = Date.now();
    const last = this.warned.get(key);
    if (last !== undefined && now - last < 60_000) return;
    if (this.warned.size > 10_000) this.warned.clear();
    this.warned.set(key, now);
    this.logger.warn(message, { ...fields, refusedSoFar: this.counters.rejected[what as RejectReason] });
  }

  // -------------------------------------------------------------------------------------------
  // sextant.ingest.v1

  private onIngestStream(call: ServerDuplexStream<Buffer, Buffer>): void {
    const tenant = tokenIndex(call.metadata, this.tokens);
    if (tenant < 0) {
      this.reject('unauthenticated');
      const peer = call.getPeer();
      this.warnOnce('unauthenticated', peer, `refused an ingest stream from ${peer}: missing or wrong token`, { peer, hint: 'the agent must send one of the server\'s tokens (--token / server.token)' });
      call.emit('error', { code: status.UNAUTHENTICATED, details: 'missing or wrong ingest token (metadata "authorization: Bearer <token>")' });
      return;
    }
    const stream: StreamState = {
      sourceId: '',
      tenant,
      pending: 0,
      tokens: this.ratePerStream,
      lastRefill: performance.now(),
      ackScheduled: false,
      closed: false,
      decoder: new IngestRequestDecoder(),
    };
    this.streams.add(call);
    const close = (): void => {
      stream.closed = true;
      this.streams.delete(call);
    };
    call.on('data', (bytes: Buffer) => {
      if (stream.closed) return;
      try {
        this.onIngestMessage(call, stream, bytes);
      } catch (err) {
        close();
        if (err instanceof RefusalError) {
          this.reject(err.reason);
          call.emit('error', { code: err.code, details: err.message });
          return;
        }
        this.logger.error('ingest stream failed', { error: String(err) });
        call.emit('error', { code: status.INTERNAL, details: 'internal error in the ingest server' });
      }
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
  }

  private onIngestMessage(call: ServerDuplexStream<Buffer, Buffer>, stream: StreamState, bytes: Buffer): void {
    if (bytes.length > this.maxMessageBytes) {
      throw new RefusalError(
        status.RESOURCE_EXHAUSTED,
        'oversized',
        `message of ${bytes.length} bytes exceeds the server's maxMessageBytes of ${this.maxMessageBytes}; split batches below this limit`,
      );
    }
    if (this.ratePerStream > 0) {
      const now = performance.now();
      stream.tokens = Math.min(this.ratePerStream, stream.tokens + ((now - stream.lastRefill) / 1000) * this.ratePerStream);
      stream.lastRefill = now;
      if (stream.tokens < 1) {
        throw new RefusalError(
          status.RESOURCE_EXHAUSTED,
          'rate-limited',
          `stream sends more than ${this.ratePerStream} messages/s (maxMessagesPerSecondPerStream); batch samples into fewer messages and retry later`,
        );
      }
      stream.tokens -= 1;
    }
    if (this.pendingTotal >= this.maxQueue || stream.pending >= this.maxQueuePerStream) {
      throw new RefusalError(
        status.RESOURCE_EXHAUSTED,
        'queue-full',
        `ingest queue is full (${this.pendingTotal} of ${this.maxQueue} pending, ${stream.pending} of ${this.maxQueuePerStream} for this stream); retry with backoff`,
      );
    }
    let msg: DecodedIngestRequest;
    try {
      msg = stream.decoder.decode(bytes);
    } catch (err) {
      if (err instanceof WireFormatError) throw new RefusalError(status.INVALID_ARGUMENT, 'malformed', `malformed IngestRequest: ${err.message}`);
      throw err;
    }
    if (!msg.sourceId) throw new RefusalError(status.INVALID_ARGUMENT, 'malformed', 'IngestRequest without source_id');
    if (stream.sourceId && stream.sourceId !== msg.sourceId) {
      throw new RefusalError(status.INVALID_ARGUMENT, 'malformed', `source_id changed on one stream ("${stream.sourceId}" -> "${msg.sourceId}")`);
    }
    stream.sourceId = msg.sourceId;
    let source = this.sources.get(msg.sourceId);
    if (!source) {
      source = { window: new SequenceWindow(this.dedupWindow), remap: new Int32Array(64).fill(-1), seriesCount: 0, tenant: stream.tenant, refusedSeries: 0, unknownSeriesSamples: 0 };
      this.sources.set(msg.sourceId, source);
    }
    if (msg.retainedFrom > 0) source.window.releaseBelow(msg.retainedFrom);

    if (msg.sequence === 0) {
      // hello / control: announce series, answer with how far we got and our size limit
      this.defineSeries(msg.sourceId, source, msg.series);
      call.write(
        encodeIngestAck({
          ackedSequence: ackedOf(source),
          maxMessageBytes: this.maxMessageBytes,
          refusedSeries: source.refusedSeries,
          unknownSeriesSamples: source.unknownSeriesSamples,
          serverInstance: this.instance,
        }),
      );
      return;
    }
    if (this.samplesPerSecondPerSource > 0 && msg.samples.length > 0) this.takeSampleTokens(msg.sourceId, source, msg.samples.length);
    this.count('received');
    if (!source.window.accept(msg.sequence)) {
      this.count('duplicates');
      this.scheduleAck(call, stream, source);
      return;
    }
    this.count('accepted');
    this.defineSeries(msg.sourceId, source, msg.series);
    const batch = this.remapBatch(source, msg.samples);
    if (this.handler.ackAfterHandled && batch.length > 0) {
      source.ackTo = { call, stream };
      this.deliverBeforeAck(call, stream, msg.sourceId, source, msg.sequence, batch);
      this.deliver(stream, msg.sourceId, { length: 0, series: batch.series, timestamps: batch.timestamps, values: batch.values }, msg);
    } else this.deliver(stream, msg.sourceId, batch, msg);
    this.scheduleAck(call, stream, source);
  }

  /**
   * Charges a message's samples to its source's token bucket, or refuses the message (retryable:
   * the agent keeps it and sends it again after backing off).
   */
  private takeSampleTokens(sourceId: string, source: SourceState, samples: number): void {
    const rate = this.samplesPerSecondPerSource;
    const burst = 2 * rate;
    const now = performance.now();
    source.sampleTokens = Math.min(burst, (source.sampleTokens ?? burst) + ((now - (source.sampleRefill ?? now)) / 1000) * rate);
    source.sampleRefill = now;
    if (source.sampleTokens < Math.min(samples, burst)) {
      this.warnOnce('rate-limited', sourceId, `source ${sourceId} sends more than ${rate} samples/s; its messages are refused until it slows down (it retries them)`, { sourceId, hint: 'raise ingest.maxSamplesPerSecondPerSource, or send less often' });
      throw new RefusalError(status.RESOURCE_EXHAUSTED, 'rate-limited', `source ${sourceId} exceeds ${rate} samples/s (maxSamplesPerSecondPerSource); retry later`);
    }
    source.sampleTokens -= samples;
  }

  private defineSeries(sourceId: string, source: SourceState, defs: readonly SeriesDefinition[]): void {
    // Ids index the remap table: bound them so a sender cannot make the server allocate gigabytes.
    const maxLocalId = Math.max(1_048_576, 4 * this.maxSeriesPerSource);
    for (const def of defs) {
      const isNew = def.localId >= source.remap.length || source.remap[def.localId]! < 0;
      const tenantFull = isNew && source.tenant >= 0 && (this.tenantSeries.get(source.tenant) ?? 0) >= this.maxSeriesPerToken;
      if (tenantFull) {
        this.reject('series-limit');
        source.refusedSeries++;
        this.warnOnce('series-limit', `tenant\u0000${source.tenant}`, `the sources using token #${source.tenant + 1} reached their limit of ${this.maxSeriesPerToken} series together; new series are refused (latest: ${sourceId})`, {
          sourceId,
          hint: 'give each team its own token, remove high-cardinality attributes, or raise ingest.maxSeriesPerToken',
        });
        continue;
      }
      if (def.localId >= maxLocalId || (isNew && source.seriesCount >= this.maxSeriesPerSource)) {
        this.reject('series-limit');
        source.refusedSeries++;
        this.warnOnce('series-limit', sourceId, `source ${sourceId} reached its limit of ${this.maxSeriesPerSource} series; new series are refused (their samples are counted as unknown-series)`, {
          sourceId,
          hint: 'remove high-cardinality attributes at the source, or raise ingest.maxSeriesPerSource',
        });
        continue;
      }
      if (def.localId >= source.remap.length) {
        let size = source.remap.length * 2;
        while (size <= def.localId) size *= 2;
        const next = new Int32Array(Math.min(size, maxLocalId)).fill(-1);
        next.set(source.remap);
        source.remap = next;
      }
      const known = source.remap[def.localId]! >= 0;
      let assigned: SeriesId | null | void;
      try {
        assigned = this.handler.onSeries(sourceId, def.localId, def.descriptor);
      } catch (err) {
        this.reject('handler-error');
        source.refusedSeries++;
        this.logger.warn('ingest handler onSeries failed', { sourceId, error: String(err) });
        continue;
      }
      if (assigned === null) {
        this.reject('series-limit');
        source.refusedSeries++;
        this.warnOnce('series-limit', `${sourceId}\u0000consumer`, `the server refused a new series from ${sourceId} ("${def.descriptor.metric}"): its series store is full`, {
          sourceId,
          hint: 'raise store.maxSeries, or remove high-cardinality attributes at the sources',
        });
        continue;
      }
      if (!known) {
        source.seriesCount++;
        if (source.tenant >= 0) this.tenantSeries.set(source.tenant, (this.tenantSeries.get(source.tenant) ?? 0) + 1);
      }
      source.remap[def.localId] = typeof assigned === 'number' && assigned >= 0 ? assigned : def.localId;
    }
  }

  /** Remaps ids in place and compacts away samples of unannounced series. */
  private remapBatch(source: SourceState, batch: SampleBatch): SampleBatch {
    const { series, timestamps, values } = batch;
    const remap = source.remap;
    const n = batch.length;
    let out = 0;
    for (let i = 0; i < n; i++) {
      const local = series[i]!;
      const id = local < remap.length ? remap[local]! : -1;
      if (id < 0) continue;
      series[out] = id;
      if (out !== i) {
        timestamps[out] = timestamps[i]!;
        values[out] = values[i]!;
      }
      out++;
    }
    if (out < n) {
      this.reject('unknown-series', n - out);
      source.unknownSeriesSamples += n - out;
    }
    return out === n ? batch : { length: out, series, timestamps, values };
  }

  private deliver(stream: StreamState | undefined, sourceId: string, batch: SampleBatch, msg?: DecodedIngestRequest): void {
    if (batch.length > 0) {
      this.count('samples', batch.length);
      this.track(stream, sourceId, () => this.handler.onBatch(sourceId, batch));
    }
    if (!msg) return;
    if ((msg.events.length > 0 || msg.legacyEventsJson.length > 0) && this.handler.onEvents) {
      const events = [...this.decodeList(msg.events, (b) => eventFromWire(WireEvent.decode(b)), 'event'), ...this.parseJsonList<SextantEvent>(msg.legacyEventsJson, 'event')];
      if (events.length > 0) this.track(stream, sourceId, () => this.handler.onEvents!(sourceId, events));
    }
    if ((msg.topology.length > 0 || msg.legacyTopologyJson.length > 0) && this.handler.onTopology) {
      const updates = [...this.decodeList(msg.topology, (b) => topologyFromWire(WireTopologyUpdate.decode(b)), 'topology update'), ...this.parseJsonList<TopologyUpdate>(msg.legacyTopologyJson, 'topology')];
      if (updates.length > 0) this.track(stream, sourceId, () => this.handler.onTopology!(sourceId, updates));
    }
  }

  /** Embedded sextant.common.v1 messages; a malformed one is refused and counted, the others kept. */
  private decodeList<T>(items: readonly Uint8Array[], decode: (bytes: Uint8Array) => T, what: string): T[] {
    const out: T[] = [];
    for (const bytes of items) {
      try {
        out.push(decode(bytes));
      } catch {
        this.reject('malformed');
        this.logger.warn(`ingest: a malformed ${what}`, { bytes: bytes.length });
      }
    }
    return out;
  }

  /** The JSON fields 6 and 7 of agents older than 0.2 (deprecated). */

  private parseJsonList<T>(items: readonly string[], what: string): T[] {
    const out: T[] = [];
    for (const json of items) {
      try {
        const value = JSON.parse(json) as unknown;
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) out.push(value as T);
        else this.reject('malformed');
      } catch {
        this.reject('malformed');
        this.logger.warn(`ingest: ${what} is not valid JSON`, { length: json.length });
      }
    }
    return out;
  }

  /**
   * onBatch of a handler with ackAfterHandled: the message's sequence is acknowledged only once
   * the returned promise resolves; when it rejects (or onBatch throws) the sequence is forgotten and
   * the stream ends with a retryable refusal, so the agent sends the message again.
   */
  private deliverBeforeAck(call: ServerDuplexStream<Buffer, Buffer>, stream: StreamState, sourceId: string, source: SourceState, sequence: number, batch: SampleBatch): void {
    this.count('samples', batch.length);
    const refusal = (err: unknown) => `the server could not store this message (sequence ${sequence}): ${err instanceof Error ? err.message : String(err)}; retry`;
    let result: void | Promise<void>;
    try {
      result = this.handler.onBatch(sourceId, batch);
    } catch (err) {
      source.window.forget(sequence);
      throw new RefusalError(status.RESOURCE_EXHAUSTED, 'queue-full', refusal(err));
    }
    if (!result || typeof (result as Promise<void>).then !== 'function') return;
    const unsettled = (source.unsettled ??= []);
    let at = unsettled.length;
    while (at > 0 && unsettled[at - 1]! > sequence) at--;
    unsettled.splice(at, 0, sequence);
    this.pendingTotal++;
    stream.pending++;
    const settle = () => {
      this.pendingTotal--;
      stream.pending--;
      const i = unsettled.indexOf(sequence);
      if (i >= 0) unsettled.splice(i, 1);
    };
    (result as Promise<void>).then(
      () => {
        settle();
        const to = source.ackTo;
        if (to && !to.stream.closed) this.scheduleAck(to.call, to.stream, source);
      },
      (err: unknown) => {
        settle();
        source.window.forget(sequence);
        this.reject('queue-full');
        this.warnOnce('queue-full', sourceId, `ingest: a message of ${sourceId} was not stored and is not acknowledged; the agent sends it again`, { sourceId, error: String(err) });
        const to = source.ackTo ?? { call, stream };
        if (to.stream.closed) return;
        to.stream.closed = true;
        this.streams.delete(to.call);
        to.call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: refusal(err) });
      },
    );
  }

  /** Runs a handler call; a returned promise holds a queue slot until it settles. */
  private track(stream: StreamState | undefined, sourceId: string, fn: () => void | Promise<void>): void {
    let result: void | Promise<void>;
    try {
      result = fn();
    } catch (err) {
      this.reject('handler-error');
      this.logger.warn('ingest handler failed', { sourceId, error: String(err) });
      return;
    }
    if (!result || typeof (result as Promise<void>).then !== 'function') return;
    this.pendingTotal++;
    if (stream) stream.pending++;
    (result as Promise<void>).then(
      () => {
        this.pendingTotal--;
        if (stream) stream.pending--;
      },
      (err: unknown) => {
        this.pendingTotal--;
        if (stream) stream.pending--;
        this.reject('handler-error');
        this.logger.warn('ingest handler failed', { sourceId, error: String(err) });
      },
    );
  }

  /** Coalesces acks: at most one per turn of the event loop per stream. */
  private scheduleAck(call: ServerDuplexStream<Buffer, Buffer>, stream: StreamState, source: SourceState): void {
    if (stream.ackScheduled) return;
    stream.ackScheduled = true;
    setImmediate(() => {
      stream.ackScheduled = false;
      if (stream.closed) return;
      try {
        call.write(encodeIngestAck({ ackedSequence: ackedOf(source), maxMessageBytes: 0, refusedSeries: source.refusedSeries, unknownSeriesSamples: source.unknownSeriesSamples }));
      } catch {
        // the stream ended meanwhile; the agent resends after reconnecting
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // OTLP/gRPC metrics

  private onOtlpExport(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
    if (this.otlpRequireToken && !hasValidToken(call.metadata as Metadata, this.tokens)) {
      this.reject('unauthenticated');
      callback({ code: status.UNAUTHENTICATED, details: 'missing or wrong ingest token (metadata "authorization: Bearer <token>")' });
      return;
    }
    const tenant = tokenIndex(call.metadata as Metadata, this.tokens);
    const result = this.exportOtlp(`otlp:${hostOf(call.getPeer())}`, call.request, tenant >= 0 ? tenant : undefined);
    if (result.ok) callback(null, encodeOtlpExportResponse(result.rejectedPoints, result.message));
    else callback({ code: result.refusal === 'malformed' ? status.INVALID_ARGUMENT : status.RESOURCE_EXHAUSTED, details: result.message });
  }

  /**
   * Takes one OTLP `ExportMetricsServiceRequest` (protobuf bytes) from `sourceId`, for this
   * server's OTLP/gRPC service and for other transports of the same request (OTLP/HTTP, see
   * OtlpHttpReceiver). The caller has authenticated the sender. `refusal` says why nothing was
   * taken: `oversized`, `queue-full` (retryable) or `malformed`.
   */
  exportOtlp(sourceId: string, bytes: Uint8Array, tenant?: number): { ok: true; rejectedPoints: number; message: string } | { ok: false; refusal: 'oversized' | 'queue-full' | 'malformed'; message: string } {
    if (bytes.length > this.maxMessageBytes) {
      this.reject('oversized');
      return { ok: false, refusal: 'oversized', message: `OTLP request of ${bytes.length} bytes exceeds the server's maxMessageBytes of ${this.maxMessageBytes}; lower the exporter's batch size` };
    }
    if (this.pendingTotal >= this.maxQueue) {
      this.reject('queue-full');
      return { ok: false, refusal: 'queue-full', message: `ingest queue is full (${this.pendingTotal} of ${this.maxQueue} pending); retry with backoff` };
    }
    this.count('received');
    let translator = this.otlpTranslators.get(sourceId);
    if (!translator) {
      translator = new OtlpMetricsTranslator(this.maxSeriesPerSource);
      this.otlpTranslators.set(sourceId, translator);
    }
    let translation;
    try {
      translation = translator.translate(bytes);
    } catch (err) {
      this.reject('malformed');
      return { ok: false, refusal: 'malformed', message: `malformed ExportMetricsServiceRequest: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.count('accepted');
    let source = this.sources.get(sourceId);
    if (!source) {
      source = { window: new SequenceWindow(1), remap: new Int32Array(64).fill(-1), seriesCount: 0, tenant: tenant ?? -1, refusedSeries: 0, unknownSeriesSamples: 0 };
      this.sources.set(sourceId, source);
    }
    this.defineSeries(sourceId, source, translation.newSeries);
    this.deliver(undefined, sourceId, this.remapBatch(source, translation.batch));
    if (translation.rejectedPoints > 0) this.reject('otlp-points', translation.rejectedPoints);
    return { ok: true, rejectedPoints: translation.rejectedPoints, message: translation.rejectReasons.join('; ') };
  }

  /**
   * Whether an OTLP sender with this `authorization` header value (`Bearer <token>`) may export:
   * always when OTLP senders need no token, else when it carries one of the accepted tokens.
   */
  acceptsOtlpAuthorization(authorization: string | undefined): boolean {
    if (!this.otlpRequireToken) return true;
    return this.tenantOfAuthorization(authorization) >= 0;
  }

  /** The index of the accepted token in an `authorization` header value (the tenant), or -1. */
  tenantOfAuthorization(authorization: string | undefined): number {
    return this.tokens.findIndex((t) => secretsEqual(authorization, t));
  }
}

/** What a source may be told is safe: everything up to the window's contiguous sequence, below any message still being handled. */
function ackedOf(source: SourceState): number {
  const u = source.unsettled;
  return u && u.length > 0 ? Math.min(source.window.contiguous, u[0]! - 1) : source.window.contiguous;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `${name} must be a positive integer (got ${String(value)})`, { hint: `remove ${name} to use the default of ${fallback}` });
  }
  return value;
}
