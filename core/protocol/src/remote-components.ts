/**
 * Host-side proxies: factories and components that look local to the runtime but run in a plugin
 * child. One proxy instance per configured instance; it survives child restarts (the supervisor
 * re-attaches it to the new process).
 */
import { Metadata, status as grpcStatus, type ClientDuplexStream, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  ErrorCode,
  SextantError,
  formatError,
  type Anomaly,
  type Attributes,
  type BaseContext,
  type Collector,
  type CollectorContext,
  type ComponentFactory,
  type Correlator,
  type CorrelatorContext,
  type DeliveryOutcome,
  type Detector,
  type DetectorContext,
  type ExtensionKind,
  type FeedbackRecord,
  type FeedbackVerdict,
  type HealthState,
  type Notification,
  type Notifier,
  type NotifierContext,
  type SampleBatch,
  type SelfCounter,
  type SeriesCatalog,
  type SeriesExpectation,
  type SeriesId,
  type SextantEvent,
  type StandardSchemaV1,
  type Stability,
} from '@sextant/plugin-api';
import { kindToWire } from './component-kind.js';
import {
  LogLevel,
  type CollectResponse,
  type CorrelateRequest,
  type CorrelateResponse,
  type DetectRequest,
  type DetectResponse,
  type PluginError,
  type SeriesDefinition,
} from './gen/sextant/plugin/v1/plugin.js';
import { errorFromWire } from './plugin-error.js';
import type { PluginProcess } from './plugin-process.js';
import { readSampleColumns } from './sample-columns.js';
import { ExpectationStore } from './expectation-columns.js';
import { feedbackRecordFromWire } from './feedback-wire.js';
import { attributesFromWire, attributesToWire, descriptorFromWire, descriptorToWire } from './series-wire.js';
import { topologyFromWire, topologyOf, topologyToWire } from './topology-wire.js';
import type { TopologyUpdate as WireTopologyUpdate } from './gen/sextant/common/v1/common.js';
import type { PluginSupervisor, SupervisedInstance } from './supervisor.js';
import { fromJsonText, toJsonText } from './json-text.js';
import { anomalyInputFromWire, anomalyToWire, eventFromWire, eventToWire, incidentUpdateFromWire, notificationToWire } from './model-wire.js';

/** A factory as the child's Describe reported it. */
export interface RemoteFactoryDescription {
  readonly kind: ExtensionKind;
  readonly type: string;
  readonly stability: Stability;
  readonly description: string;
  readonly defaults: Record<string, unknown>;
  readonly configJsonSchema: Record<string, unknown> | undefined;
}

const UNARY_DEADLINE_MS = 30_000;

function deadline(ms = UNARY_DEADLINE_MS): { deadline: Date } {
  return { deadline: new Date(Date.now() + ms) };
}

let instanceSequence = 0;

/** Everything the proxies of every kind share: identity, Configure/Start/Shutdown, the output stream. */
abstract class RemoteInstance<TCtx extends BaseContext<unknown>> implements SupervisedInstance {
  readonly remoteId: string;
  protected proc: PluginProcess | undefined;
  private output: ClientReadableStream<CollectResponse> | undefined;
  private started = false;
  private closed = false;
  /** Child series id -> host series id (-1: rejected by the host sink). */
  protected seriesMap = new Int32Array(64).fill(-1);
  private readonly metricCache = new Map<string, SelfCounter | { set(v: number, a?: Attributes): void }>();
  private readonly crashesTotal: SelfCounter;
  private readonly restartsTotal: SelfCounter;
  protected readonly protocolErrors: SelfCounter;

  constructor(
    protected readonly supervisor: PluginSupervisor,
    readonly kind: ExtensionKind,
    readonly type: string,
    readonly ctx: TCtx,
  ) {
    this.remoteId = `${ctx.instanceId}#${++instanceSequence}`;
    this.crashesTotal = ctx.metrics.counter('process_crashes_total', 'times the plugin child process died unexpectedly');
    this.restartsTotal = ctx.metrics.counter('process_restarts_total', 'times the plugin child process was restarted');
    this.protocolErrors = ctx.metrics.counter('protocol_errors_total', 'malformed messages from the plugin child process');
  }

  countCrash(): void {
    this.crashesTotal.add(1);
  }
  countRestart(): void {
    this.restartsTotal.add(1);
  }

  async attach(proc: PluginProcess, afterRestart: boolean): Promise<void> {
    const ctx = this.ctx as TCtx & Partial<CollectorContext<unknown>>;
    const response = await new Promise<{ error?: PluginError; methods: string[] }>((resolve, reject) =>
      proc.client.configure(
        {
          instanceId: this.remoteId,
          displayId: ctx.instanceId,
          kind: kindToWire(this.kind),
          type: this.type,
          configJson: toJsonText(ctx.config),
          intervalMs: ctx.intervalMs ?? 0,
          hostResource: attributesToWire(ctx.hostResource),
          dataDir: ctx.dataDir ?? '',
        },
        new Metadata(),
        deadline(),
        (error, res) => (error ? reject(error) : resolve(res)),
      ),
    );
    const failure = errorFromWire(response.error, '');
    if (failure) throw failure;
    this.proc = proc;
    this.offerMethods(new Set(response.methods));
    this.seriesMap.fill(-1);
    const output = proc.client.collect({ instanceId: this.remoteId });
    this.output = output;
    output.on('data', (message: CollectResponse) => this.onOutput(message));
    output.on('error', (error: ServiceError) => {
      if (error.code !== grpcStatus.CANCELLED && this.output === output && !proc.hasExited) {
        this.ctx.logger.warn(`output stream of the plugin process broke: ${error.message}`);
      }
    });
    this.attachStreams(proc);
    if (afterRestart) this.ctx.status.set('starting', 'plugin process restarted; re-creating the instance');
    if (this.started) await this.callStart(proc);
    if (afterRestart) this.ctx.status.set('ok', 'plugin process restarted');
  }

  detach(state: HealthState, message: string, code: string): void {
    this.proc = undefined;
    this.output?.cancel();
    this.output = undefined;
    this.detachStreams();
    if (!this.closed) this.ctx.status.set(state, message, code);
  }

  async start(): Promise<void> {
    this.started = true;
    const proc = this.proc;
    if (proc) await this.callStart(proc);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.supervisor.instances.delete(this);
    const proc = this.proc;
    this.detach('stopped', 'shut down', '');
    if (proc && !proc.hasExited) {
      await new Promise<void>((resolve) => proc.client.shutdown({ instanceId: this.remoteId }, new Metadata(), deadline(10_000), () => resolve()));
    }
  }

  private async callStart(proc: PluginProcess): Promise<void> {
    const response = await new Promise<{ error?: PluginError }>((resolve, reject) =>
      proc.client.start({ instanceId: this.remoteId }, new Metadata(), deadline(), (error, res) => (error ? reject(error) : resolve(res))),
    );
    const failure = errorFromWire(response.error, '');
    if (failure) throw failure;
  }

  /** Kind-specific: expose the optional contract methods the child's component implements. */
  protected offerMethods(_methods: ReadonlySet<string>): void {}
  /** Kind-specific streams (Detect, Correlate). */
  protected attachStreams(_proc: PluginProcess): void {}
  protected detachStreams(): void {}
  /** Collector data; other kinds ignore it. */
  protected onData(_message: CollectResponse): void {}
  protected onRoundComplete(_round: number, _error: PluginError | undefined): void {}

  private onOutput(message: CollectResponse): void {
    const ctx = this.ctx;
    for (const status of message.status) ctx.status.set(status.state as HealthState, status.message || undefined, status.code || undefined);
    for (const log of message.logs) {
      const fields = log.fieldsJson ? safeParse<Record<string, unknown>>(log.fieldsJson) : undefined;
      const level = log.level === LogLevel.LOG_LEVEL_DEBUG ? 'debug' : log.level === LogLevel.LOG_LEVEL_WARN ? 'warn' : log.level === LogLevel.LOG_LEVEL_ERROR ? 'error' : 'info';
      ctx.logger[level](log.message, fields);
    }
    for (const metric of message.metrics) {
      const key = `${metric.gauge ? 'g' : 'c'}:${metric.name}`;
      let handle = this.metricCache.get(key);
      if (!handle) {
        handle = metric.gauge ? ctx.metrics.gauge(metric.name, metric.description) : ctx.metrics.counter(metric.name, metric.description);
        this.metricCache.set(key, handle);
      }
      const attributes = Object.keys(metric.attributes).length > 0 ? attributesFromWire(metric.attributes) : undefined;
      if ('add' in handle) handle.add(metric.value, attributes);
      else handle.set(metric.value, attributes);
    }
    if (message.droppedMessages > 0) ctx.metrics.counter('output_dropped_total', 'output messages the child dropped before the host listened').add(message.droppedMessages);
    this.onData(message);
    if (message.completesRound > 0) this.onRoundComplete(message.completesRound, message.roundError);
  }

  protected countProtocolError(what: string): void {
    this.protocolErrors.add(1);
    this.ctx.logger.warn(`ignored a malformed message from the plugin process: ${what}`);
  }
}

function safeParse<T>(json: string): T | undefined {
  try {
    return fromJsonText<T>(json);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// collectors

type RoundResult = { readonly error: PluginError | undefined } | 'lost';

export class RemoteCollector extends RemoteInstance<CollectorContext<unknown>> implements Collector {
  private round = 0;
  private readonly rounds = new Map<number, (result: RoundResult) => void>();
  private readonly samplesDropped: SelfCounter;
  private readonly skipped: SelfCounter;

  constructor(supervisor: PluginSupervisor, type: string, ctx: CollectorContext<unknown>) {
    super(supervisor, 'collector', type, ctx);
    this.samplesDropped = ctx.metrics.counter('remote_samples_dropped_total', 'samples from the plugin process for series the host rejected');
    this.skipped = ctx.metrics.counter('collect_skipped_total', 'collect rounds skipped while the plugin process was down');
  }

  /**
   * One round: Tick, then wait for the round's last message on the output stream. Throws only
   * what the child's collect() threw (as COLLECT_FAILED) or on abort; while the child is down the
   * round is skipped (counted) and the instance status already says why.
   */
  async collect(signal: AbortSignal): Promise<void> {
    const proc = this.proc;
    if (!proc) {
      this.skipped.add(1);
      return;
    }
    const round = ++this.round;
    const done = new Promise<RoundResult>((resolve) => this.rounds.set(round, resolve));
    const call = proc.client.tick({ instanceId: this.remoteId, round, timeoutMs: 0, nowMs: this.ctx.clock.now() }, new Metadata(), (error, response) => {
      if (error) this.onRoundComplete(round, undefined, 'lost');
      else if (response.error) this.onRoundComplete(round, response.error);
    });
    const onAbort = () => {
      call.cancel();
      this.onRoundComplete(round, { code: ErrorCode.COLLECT_FAILED, message: 'the collect round was aborted before the plugin process finished it', hint: '' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const result = await done;
    signal.removeEventListener('abort', onAbort);
    if (result === 'lost') {
      this.skipped.add(1);
      return;
    }
    const failure = errorFromWire(result.error, '');
    if (failure) throw failure;
  }

  protected override onRoundComplete(round: number, error: PluginError | undefined, lost?: 'lost'): void {
    const resolve = this.rounds.get(round);
    if (!resolve) return;
    this.rounds.delete(round);
    resolve(lost ?? { error });
  }

  protected override detachStreams(): void {
    for (const round of [...this.rounds.keys()]) this.onRoundComplete(round, undefined, 'lost');
  }

  protected override onData(message: CollectResponse): void {
    const sink = this.ctx.sink;
    let wrote = false;
    for (const def of message.series) this.defineSeries(def);
    if (message.samples && message.samples.count > 0) {
      const columns = readSampleColumns(message.samples);
      if (!columns) {
        this.countProtocolError('sample columns do not match their count');
      } else {
        const map = this.seriesMap;
        const { series, timestamps, values } = columns;
        let dropped = 0;
        for (let i = 0; i < columns.length; i++) {
          const childId = series[i];
          const hostId = childId < map.length ? map[childId] : -1;
          if (hostId < 0) {
            dropped++;
            continue;
          }
          const t = timestamps[i];
          try {
            sink.sample(hostId, values[i], t === t ? t : undefined);
          } catch {
            dropped++;
          }
        }
        if (dropped > 0) this.samplesDropped.add(dropped);
        wrote = true;
      }
    }
    for (const event of message.events) {
      if (event.type) {
        sink.event(eventFromWire(event));
        wrote = true;
      } else this.countProtocolError('an event without a type');
    }
    for (const update of message.topology) {
      sink.topology(topologyFromWire(update));
      wrote = true;
    }
    if (wrote) sink.flush();
  }

  private defineSeries(def: SeriesDefinition): void {
    const descriptor = descriptorFromWire(def.descriptor);
    if (!descriptor || def.id > 10_000_000) {
      this.countProtocolError(`series definition ${def.id} without a metric`);
      return;
    }
    if (def.id >= this.seriesMap.length) {
      const grown = new Int32Array(Math.max(def.id + 1, this.seriesMap.length * 2)).fill(-1);
      grown.set(this.seriesMap);
      this.seriesMap = grown;
    }
    try {
      this.seriesMap[def.id] = this.ctx.sink.series(descriptor);
    } catch (error) {
      this.seriesMap[def.id] = -1;
      this.ctx.metrics.counter('series_rejected_total', 'series the host sink refused (limits)').add(1);
      this.ctx.status.set('degraded', formatError(error), ErrorCode.LIMIT_EXCEEDED);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// detectors and correlators

/**
 * Defines the host's series to the child: every id below `catalog.size` not sent yet, in id order,
 * so the child's catalog answers describe() and size as the host's does (registry ids are dense).
 */
class CatalogSender {
  private sentUpTo = 0;
  reset(): void {
    this.sentUpTo = 0;
  }
  pending(catalog: SeriesCatalog): SeriesDefinition[] {
    const size = catalog.size;
    if (size <= this.sentUpTo) return [];
    const out: SeriesDefinition[] = [];
    for (let id = this.sentUpTo; id < size; id++) {
      const descriptor = catalog.describe(id);
      if (descriptor) out.push({ id, descriptor: descriptorToWire(descriptor) });
    }
    this.sentUpTo = size;
    return out;
  }
}

const STATE_REQUEST_TIMEOUT_MS = 30_000;

/**
 * What detector and correlator proxies share beyond the base: the host's topology pushed down the
 * stream, learned state fetched before the runtime's checkpoint (prepareSnapshot) and given back
 * to a restarted child, and requests answered on the response stream.
 */
class SnapshotRequests {
  private next = 0;
  private readonly waiting = new Map<number, () => void>();
  /** The latest bytes the child sent (or the host restored): what snapshot() returns and a restarted child gets back. */
  state: Uint8Array | undefined;
  failure: SextantError | undefined;

  /** Sends a request through `write` and resolves once it is answered (or given up on). */
  request(write: (id: number) => boolean, clock: { setTimeout(fn: () => void, ms: number): () => void }): Promise<void> {
    const id = ++this.next;
    return new Promise<void>((resolve) => {
      const cancel = clock.setTimeout(() => this.settle(id), STATE_REQUEST_TIMEOUT_MS);
      this.waiting.set(id, () => {
        cancel();
        resolve();
      });
      if (!write(id)) this.settle(id);
    });
  }

  /** Resolves every request up to `id` (a later answer also covers earlier requests). */
  settle(id: number): void {
    for (const [n, done] of this.waiting) {
      if (n <= id) {
        this.waiting.delete(n);
        done();
      }
    }
  }

  settleAll(): void {
    this.settle(Number.MAX_SAFE_INTEGER);
  }
}

type Stream<Req, Res> = ClientDuplexStream<Req, Res>;

/** The parts DetectRequest and CorrelateRequest have in common. */
interface SharedRequest {
  instanceId: string;
  series: SeriesDefinition[];
  topology: WireTopologyUpdate | undefined;
  restore?: Buffer | undefined;
  snapshotRequest: number;
}

abstract class RemoteAnalysisInstance<TCtx extends DetectorContext<unknown> | CorrelatorContext<unknown>, Req extends SharedRequest, Res> extends RemoteInstance<TCtx> {
  protected stream: Stream<Req, Res> | undefined;
  protected readonly catalogSender = new CatalogSender();
  protected readonly snapshots = new SnapshotRequests();
  private unsubscribe: (() => void) | undefined;

  protected abstract open(proc: PluginProcess): Stream<Req, Res>;
  protected abstract request(part: Partial<Req>): Req;
  private shared(part: Partial<SharedRequest>): Req {
    return this.request(part as Partial<Req>);
  }
  protected abstract onResponse(response: Res): void;

  protected override attachStreams(proc: PluginProcess): void {
    const stream = this.open(proc);
    this.catalogSender.reset();
    stream.on('data', (response: Res) => this.onResponse(response));
    stream.on('error', () => undefined);
    this.stream = stream;
    stream.write(this.shared({ instanceId: this.remoteId }));
    // The whole graph first, then every change, in stream order with the data.
    const topology = this.ctx.topology;
    const state = this.snapshots.state;
    stream.write(
      this.shared({
        series: this.catalogSender.pending(this.ctx.catalog),
        topology: topologyToWire(topologyOf(topology)),
        ...(state && this.canRestore ? { restore: Buffer.from(state.buffer, state.byteOffset, state.byteLength) } : {}),
      }),
    );
    this.unsubscribe = topology.subscribe?.((update) => this.stream?.write(this.shared({ topology: topologyToWire(update) })));
    this.afterAttach();
  }

  protected override detachStreams(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.stream?.cancel();
    this.stream = undefined;
    this.snapshots.settleAll();
  }

  protected afterAttach(): void {}
  protected beforeRestore(): void {}
  protected canRestore = false;

  /** New series (if any) for the next message. */
  protected newSeries(): SeriesDefinition[] {
    return this.catalogSender.pending(this.ctx.catalog);
  }

  protected offerStateMethods(methods: ReadonlySet<string>): void {
    const self = this as unknown as { snapshot?: () => Uint8Array; restore?: (state: Uint8Array) => void; prepareSnapshot?: () => Promise<void> };
    this.canRestore = methods.has('restore');
    if (methods.has('snapshot')) {
      self.snapshot = () => this.cachedSnapshot();
      self.prepareSnapshot = () => this.fetchSnapshot();
    }
    if (methods.has('restore')) self.restore = (state) => this.sendRestore(state);
  }

  /** The bytes fetched by the last prepareSnapshot(); the runtime calls that first. */
  private cachedSnapshot(): Uint8Array {
    if (this.snapshots.failure) throw this.snapshots.failure;
    if (!this.snapshots.state) {
      throw new SextantError(ErrorCode.INTERNAL, 'no state fetched from the plugin process yet', { hint: 'call prepareSnapshot() before snapshot() (the runtime does)' });
    }
    return this.snapshots.state;
  }

  private fetchSnapshot(): Promise<void> {
    const stream = this.stream;
    if (!stream) return Promise.resolve();
    return this.snapshots.request((id) => {
      stream.write(this.shared({ series: this.newSeries(), snapshotRequest: id }));
      return true;
    }, this.ctx.clock);
  }

  protected onSnapshotReply(reply: { requestId: number; state: Uint8Array; error: PluginError | undefined } | undefined): void {
    if (!reply) return;
    const failure = errorFromWire(reply.error, '');
    if (failure) this.snapshots.failure = failure;
    else {
      this.snapshots.failure = undefined;
      this.snapshots.state = new Uint8Array(reply.state);
    }
    this.snapshots.settle(reply.requestId);
  }

  private sendRestore(state: Uint8Array): void {
    this.snapshots.state = new Uint8Array(state);
    this.beforeRestore();
    this.stream?.write(this.shared({ series: this.newSeries(), restore: Buffer.from(state.buffer, state.byteOffset, state.byteLength) }));
  }

  /** Fetches the final state before the child's instance goes away (correlators stop before the runtime's last checkpoint). */
  override async shutdown(): Promise<void> {
    const prepare = (this as { prepareSnapshot?: () => Promise<void> }).prepareSnapshot;
    if (prepare && this.stream) await prepare.call(this);
    await super.shutdown();
  }
}

// ---------------------------------------------------------------------------------------------
// detectors

export class RemoteDetector extends RemoteAnalysisInstance<DetectorContext<unknown>, DetectRequest, DetectResponse> implements Detector {
  private readonly batchesDropped: SelfCounter;
  private readonly expectations = new ExpectationStore();
  private feedbackRecords: FeedbackRecord[] = [];
  private nextFeedback = 0;
  private readonly feedbackWaiting = new Map<number, { resolve(threshold: number | undefined): void; reject(error: unknown): void; cancel(): void }>();
  /** Active pauseLearning() calls, replayed to a restarted child. */
  private readonly pauses = new Map<string, Attributes>();

  declare expectation?: (series: SeriesId) => SeriesExpectation | undefined;
  declare snapshot?: () => Uint8Array;
  declare restore?: (state: Uint8Array) => void;
  declare prepareSnapshot?: () => Promise<void>;
  declare feedback?: (series: SeriesId, verdict: FeedbackVerdict, timestamp: number, score?: number) => Promise<number | undefined>;
  declare feedbackLog?: () => readonly FeedbackRecord[];
  declare pauseLearning?: (match: Attributes, paused: boolean) => void;

  constructor(supervisor: PluginSupervisor, type: string, ctx: DetectorContext<unknown>) {
    super(supervisor, 'detector', type, ctx);
    this.batchesDropped = ctx.metrics.counter('batches_dropped_total', 'sample batches not sent because the plugin process was down');
  }

  protected override offerMethods(methods: ReadonlySet<string>): void {
    this.offerStateMethods(methods);
    if (methods.has('expectation')) this.expectation = (series) => this.expectations.get(series);
    if (methods.has('feedback')) this.feedback = (series, verdict, timestamp, score) => this.sendFeedback(series, verdict, timestamp, score);
    if (methods.has('feedbackLog')) this.feedbackLog = () => this.feedbackRecords.slice();
    if (methods.has('pauseLearning')) this.pauseLearning = (match, paused) => this.sendPause(match, paused);
  }

  protected open(proc: PluginProcess): Stream<DetectRequest, DetectResponse> {
    return proc.client.detect();
  }

  protected request(part: Partial<DetectRequest>): DetectRequest {
    return { instanceId: '', series: [], batch: undefined, event: undefined, topology: undefined, pauseLearning: undefined, feedback: undefined, snapshotRequest: 0, ...part };
  }

  protected override beforeRestore(): void {
    this.expectations.clear();
  }

  protected override afterAttach(): void {
    this.expectations.clear();
    for (const match of this.pauses.values()) this.stream?.write(this.request({ pauseLearning: { match: attributesToWire(match), paused: true } }));
  }

  protected override detachStreams(): void {
    super.detachStreams();
    for (const [id, waiter] of this.feedbackWaiting) {
      this.feedbackWaiting.delete(id);
      waiter.cancel();
      waiter.resolve(undefined);
    }
  }

  protected onResponse(response: DetectResponse): void {
    for (const anomaly of response.anomalies) this.ctx.emit(anomalyInputFromWire(anomaly));
    if (response.expectations && !this.expectations.apply(response.expectations)) this.countProtocolError('expectation columns of different lengths');
    if (response.feedbackLog) this.feedbackRecords = response.feedbackLog.records.map(feedbackRecordFromWire);
    for (const result of response.feedback) {
      const waiter = this.feedbackWaiting.get(result.requestId);
      if (!waiter) continue;
      this.feedbackWaiting.delete(result.requestId);
      waiter.cancel();
      const failure = errorFromWire(result.error, '');
      if (failure) waiter.reject(failure);
      else waiter.resolve(result.threshold);
    }
    this.onSnapshotReply(response.snapshot);
  }

  /** Copies the batch onto the Detect stream; anomalies come back through ctx.emit, asynchronously. */
  process(batch: SampleBatch): void {
    const stream = this.stream;
    if (!stream) {
      this.batchesDropped.add(1);
      return;
    }
    const n = batch.length;
    stream.write(
      this.request({
        series: this.newSeries(),
        batch: {
          count: n,
          series: Buffer.copyBytesFrom(batch.series, 0, n),
          timestamps: Buffer.copyBytesFrom(batch.timestamps, 0, n),
          values: Buffer.copyBytesFrom(batch.values, 0, n),
        },
      }),
    );
  }

  onEvent(event: SextantEvent): void {
    this.stream?.write(this.request({ event: eventToWire(event) }));
  }

  private sendPause(match: Attributes, paused: boolean): void {
    const key = JSON.stringify(Object.keys(match).sort().map((k) => [k, match[k]]));
    if (paused) this.pauses.set(key, match);
    else this.pauses.delete(key);
    this.stream?.write(this.request({ series: this.newSeries(), pauseLearning: { match: attributesToWire(match), paused } }));
  }

  /** Applied by the child in stream order; resolves with the threshold it reports (undefined while the child is down). */
  private sendFeedback(series: SeriesId, verdict: FeedbackVerdict, timestamp: number, score?: number): Promise<number | undefined> {
    const stream = this.stream;
    if (!stream) return Promise.resolve(undefined);
    const requestId = ++this.nextFeedback;
    return new Promise<number | undefined>((resolve, reject) => {
      const cancel = this.ctx.clock.setTimeout(() => {
        this.feedbackWaiting.delete(requestId);
        resolve(undefined);
      }, STATE_REQUEST_TIMEOUT_MS);
      this.feedbackWaiting.set(requestId, { resolve, reject, cancel });
      stream.write(this.request({ series: this.newSeries(), feedback: { requestId, series, verdict, timestamp, score } }));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// correlators

export class RemoteCorrelator extends RemoteAnalysisInstance<CorrelatorContext<unknown>, CorrelateRequest, CorrelateResponse> implements Correlator {
  declare snapshot?: () => Uint8Array;
  declare restore?: (state: Uint8Array) => void;
  declare prepareSnapshot?: () => Promise<void>;

  constructor(supervisor: PluginSupervisor, type: string, ctx: CorrelatorContext<unknown>) {
    super(supervisor, 'correlator', type, ctx);
  }

  protected override offerMethods(methods: ReadonlySet<string>): void {
    this.offerStateMethods(methods);
  }

  protected open(proc: PluginProcess): Stream<CorrelateRequest, CorrelateResponse> {
    return proc.client.correlate();
  }

  protected request(part: Partial<CorrelateRequest>): CorrelateRequest {
    return { instanceId: '', series: [], tickNowMs: 0, topology: undefined, snapshotRequest: 0, anomaly: undefined, event: undefined, ...part };
  }

  protected onResponse(response: CorrelateResponse): void {
    for (const wire of response.incidentUpdates) {
      const update = incidentUpdateFromWire(wire);
      if (update) this.ctx.publish(update);
      else this.countProtocolError('an incident update without its incident');
    }
    this.onSnapshotReply(response.snapshot);
  }

  onAnomaly(anomaly: Anomaly): void {
    this.stream?.write(this.request({ series: this.newSeries(), anomaly: anomalyToWire(anomaly) }));
  }

  onEvent(event: SextantEvent): void {
    this.stream?.write(this.request({ event: eventToWire(event) }));
  }

  tick(now: number): void {
    this.stream?.write(this.request({ tickNowMs: now }));
  }
}

// ---------------------------------------------------------------------------------------------
// notifiers

export class RemoteNotifier extends RemoteInstance<NotifierContext<unknown>> implements Notifier {
  constructor(supervisor: PluginSupervisor, type: string, ctx: NotifierContext<unknown>) {
    super(supervisor, 'notifier', type, ctx);
  }

  /** Never throws: a dead or restarting child is a retryable failure. */
  async deliver(notification: Notification): Promise<DeliveryOutcome> {
    const proc = this.proc;
    if (!proc) return { ok: false, retryable: true, error: formatError(this.supervisor.unavailableError()) };
    return new Promise<DeliveryOutcome>((resolve) =>
      proc.client.notify({ instanceId: this.remoteId, notification: notificationToWire(notification) }, new Metadata(), deadline(), (error, res) => {
        if (error) resolve({ ok: false, retryable: true, error: `plugin process call failed: ${error.message}` });
        else if (res.ok) resolve(res.detail ? { ok: true, detail: res.detail } : { ok: true });
        else resolve({ ok: false, retryable: res.retryable, error: res.error, ...(res.retryAfterMs > 0 ? { retryAfterMs: res.retryAfterMs } : {}) });
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// factories

type AnyRemote = RemoteCollector | RemoteDetector | RemoteCorrelator | RemoteNotifier;

/**
 * A local factory for one remote factory. Its configSchema is a Standard Schema whose validate
 * asks the child (so the child's own schema, e.g. zod, decides, and its issues keep their paths).
 * The validated value handed to create() is the merged configuration as given: the child validates
 * it again in Configure and keeps the parsed result for its component.
 */
export function createRemoteFactory(supervisor: PluginSupervisor, description: RemoteFactoryDescription): ComponentFactory<unknown, never, AnyRemote> {
  const { kind, type } = description;
  const configSchema: StandardSchemaV1<unknown, unknown> = {
    '~standard': {
      version: 1,
      vendor: 'sextant-plugin-process',
      validate: async (value: unknown): Promise<StandardSchemaV1.Result<unknown>> => {
        let proc: PluginProcess;
        try {
          proc = await supervisor.ready();
        } catch (error) {
          return { issues: [{ message: formatError(error) }] };
        }
        return new Promise((resolve) =>
          proc.client.validateConfig({ kind: kindToWire(kind), type, configJson: toJsonText(value) }, new Metadata(), deadline(), (error, res) => {
            if (error) return resolve({ issues: [{ message: `the plugin process could not validate the configuration: ${error.message}` }] });
            const failure = errorFromWire(res.error, '');
            if (failure) return resolve({ issues: [{ message: formatError(failure) }] });
            if (res.issues.length > 0) {
              return resolve({
                issues: res.issues.map((issue) => ({ message: issue.message, path: issue.path.map((seg) => (/^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : seg)) })),
              });
            }
            resolve({ value });
          }),
        );
      },
    },
  };
  return {
    type,
    stability: description.stability,
    description: description.description,
    defaults: description.defaults,
    configSchema,
    ...(description.configJsonSchema ? { configJsonSchema: description.configJsonSchema } : {}),
    async create(ctx: never): Promise<AnyRemote> {
      const instance: AnyRemote =
        kind === 'collector'
          ? new RemoteCollector(supervisor, type, ctx)
          : kind === 'detector'
            ? new RemoteDetector(supervisor, type, ctx)
            : kind === 'correlator'
              ? new RemoteCorrelator(supervisor, type, ctx)
              : new RemoteNotifier(supervisor, type, ctx);
      const proc = await supervisor.ready().catch((error) => {
        throw new SextantError(ErrorCode.CREATE_FAILED, `cannot create ${kind} "${type}": ${formatError(error)}`);
      });
      try {
        await instance.attach(proc, false);
      } catch (error) {
        throw isCoded(error) ? error : new SextantError(ErrorCode.CREATE_FAILED, `cannot create ${kind} "${type}" in the plugin process: ${formatError(error)}`);
      }
      supervisor.instances.add(instance);
      return instance;
    },
  };
}

function isCoded(error: unknown): boolean {
  return error instanceof SextantError || (typeof error === 'object' && error !== null && (error as { $$sextantError?: boolean }).$$sextantError === true);
}
