/**
 * Components and their factories (docs/architecture.md, "Extension points"; after the OpenTelemetry Collector).
 *
 * A plugin never constructs components itself: it registers a *factory* on an extension point;
 * the runtime validates the user's configuration against the factory's schema (with every problem
 * listed at once), then calls `create()` once per configured instance, then `start()`.
 *
 * Lifecycle rules every component must follow (the conformance suites in @sextant/testkit check them):
 * - `start()` returns quickly (long work goes in the background) and may reject with a coded error.
 * - `shutdown()` is idempotent, safe without `start()`, and releases every timer, socket and file.
 * - After start, problems are reported through `ctx.status`, not thrown.
 */
import type { StandardSchemaV1 } from './config.js';
import { assertKebabId } from './ids.js';
import type {
  Anomaly,
  AnomalyInput,
  Attributes,
  IncidentUpdate,
  LearningState,
  SampleBatch,
  SeriesDescriptor,
  SeriesId,
  SextantEvent,
  TopologyEdge,
  TopologyEntity,
  TopologyUpdate,
} from './model.js';

/**
 * Promise a factory makes about its behaviour and configuration.
 * - development: anything may change; not for production.
 * - alpha: works, config may change without notice.
 * - beta: config changes come with a deprecation period of one minor release.
 * - stable: config and output only change in a new major version.
 * - deprecated: will be removed; the log says what replaces it.
 */
export type Stability = 'development' | 'alpha' | 'beta' | 'stable' | 'deprecated';

export const STABILITY_LEVELS: readonly Stability[] = ['development', 'alpha', 'beta', 'stable', 'deprecated'];

/** Structured logger scoped to one plugin instance. Never log secrets. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Time, injectable so tests can run hours of data in milliseconds (see @sextant/testkit's FakeClock). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms`; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** Health of one component instance, as shown by `/api/v1/plugins` and `sextant plugins status`. */
export type HealthState = 'starting' | 'ok' | 'degraded' | 'error' | 'stopped' | 'quarantined';

export interface StatusReporter {
  /**
   * Reports the instance's health. `code` is a `SEXTANT_ERR_*` code when the state is an error;
   * `message` says what is wrong and, ideally, how to fix it.
   */
  set(state: HealthState, message?: string, code?: string): void;
}

/** A monotonically increasing self-metric counter, exported on `/metrics`. */
export interface SelfCounter {
  add(value: number, attributes?: Attributes): void;
}

/** A self-metric gauge, exported on `/metrics`. */
export interface SelfGauge {
  set(value: number, attributes?: Attributes): void;
}

/**
 * Self-telemetry for a component: counters for parse errors, dropped values and the like.
 * Names are prefixed by the runtime with `sextant_plugin_` and labelled with the plugin and
 * instance, so keep them short (`parse_errors_total`).
 */
export interface SelfMetrics {
  counter(name: string, description: string): SelfCounter;
  gauge(name: string, description: string): SelfGauge;
}

/**
 * Where a collector writes. Interning a series once and writing numbers after that keeps the hot
 * path free of objects: `const s = sink.series({...}); sink.sample(s, value)`.
 */
export interface TelemetrySink {
  /**
   * Returns the id of a series, creating it on first use. Cheap on repeated calls with an equal
   * descriptor, but cache the id when you can. Throws a `SEXTANT_ERR_LIMIT_EXCEEDED` error when the
   * plugin's series limit is reached (label explosion guard): catch it and count it.
   */
  series(descriptor: SeriesDescriptor): SeriesId;
  /**
   * Records one value. `timestamp` defaults to the clock's now. NaN and Infinity are counted and
   * dropped by the runtime, never stored.
   */
  sample(series: SeriesId, value: number, timestamp?: number): void;
  /** Records an event (the runtime assigns an id when absent). */
  event(event: SextantEvent): void;
  /** Reports entities and edges this component knows about. */
  topology(update: TopologyUpdate): void;
  /**
   * Hands what was written so far to the pipeline. The runtime flushes after every `collect()`;
   * push-style components (log tailers, event streams) call it themselves.
   */
  flush(): void;
}

/** Read-only look at the series the runtime knows. */
export interface SeriesCatalog {
  describe(id: SeriesId): SeriesDescriptor | undefined;
  /** Number of series ids assigned so far (ids are 0..size-1). */
  readonly size: number;
}

/** Read-only look at the topology graph. */
export interface TopologyView {
  entity(id: string): TopologyEntity | undefined;
  entities(type?: string): readonly TopologyEntity[];
  edges(filter?: { from?: string; to?: string; type?: string }): readonly TopologyEdge[];
  /** The entity a series' resource belongs to (`container:<id>` when it has `container.id`, ...). */
  entityOf(resource: Attributes): string | undefined;
  /**
   * Optional: calls `listener` with every update applied after this call, until the returned
   * function is called. The runtime's view has it; an isolated plugin's proxy uses it to keep the
   * child's copy of the graph current.
   */
  subscribe?(listener: (update: TopologyUpdate) => void): () => void;
}

/** What every factory's `create()` gets. */
export interface BaseContext<TConfig> {
  /** Validated configuration with defaults applied. */
  readonly config: TConfig;
  /** Unique instance name (`nginx/web-1`). */
  readonly instanceId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly status: StatusReporter;
  readonly metrics: SelfMetrics;
  /** Aborted when the instance shuts down. */
  readonly signal: AbortSignal;
  /** A writable directory private to this instance, for state that must survive restarts. */
  readonly dataDir: string | undefined;
}

export interface Component {
  start?(): void | Promise<void>;
  shutdown(): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// collector

export interface CollectorContext<TConfig> extends BaseContext<TConfig> {
  readonly sink: TelemetrySink;
  /** Attributes of the host the agent runs on (`host.name`, `host.id`, `os.type`), to merge into resources. */
  readonly hostResource: Attributes;
  /** Collection interval in milliseconds for this instance. */
  readonly intervalMs: number;
}

export interface Collector extends Component {
  /**
   * Called by the runtime's scheduler every `intervalMs`; never concurrently with itself. Write
   * through `ctx.sink`; the runtime flushes afterwards. Should finish well within the interval; the
   * runtime aborts `signal` when the interval's time is up. Throwing marks the instance degraded for
   * this round only. Push-only collectors omit it.
   */
  collect?(signal: AbortSignal): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// detector

/** A detector's view of one series, for the API and charts. */
/**
 * What a person says about one series, without labelling data: an anomaly that was `not-a-problem`,
 * or a problem the detector `missed-here`.
 */
export type FeedbackVerdict = 'not-a-problem' | 'missed-here';

/** One piece of feedback as a detector kept it (exported for offline evaluation). */
export interface FeedbackRecord {
  readonly series: SeriesId;
  readonly verdict: FeedbackVerdict;
  /** When (ms) the anomaly or the missed problem was. */
  readonly t: number;
  /** The score of the anomaly marked `not-a-problem`, when known. */
  readonly score?: number;
  /** The series' alert threshold (score units) before and after. */
  readonly thresholdBefore: number;
  readonly thresholdAfter: number;
}

export interface SeriesExpectation {
  readonly timestamp: number;
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  readonly state: LearningState;
  /**
   * How far the model is from `trusted` (it needs both): samples seen of those needed, and time
   * covered (ms, first to latest sample) of the time needed. Optional: a detector may not say.
   */
  readonly progress?: { readonly samples: number; readonly samplesNeeded: number; readonly spanMs: number; readonly spanNeededMs: number };
}

export interface DetectorContext<TConfig> extends BaseContext<TConfig> {
  readonly catalog: SeriesCatalog;
  readonly topology: TopologyView;
  /** Raises an anomaly; the runtime fills id and series metadata and hands it to noise control. */
  emit(anomaly: AnomalyInput): void;
}

export interface Detector extends Component {
  /** Sees every accepted batch, in order. Must not keep the batch (its arrays are reused). */
  process(batch: SampleBatch): void;
  /** Sees every event (deploys open expected-change windows, maintenance pauses learning). */
  onEvent?(event: SextantEvent): void;
  /** The latest expectation for a series, if this detector models it. */
  expectation?(series: SeriesId): SeriesExpectation | undefined;
  /** Compact serialised state, so a restart keeps what was learned. */
  snapshot?(): Uint8Array;
  restore?(state: Uint8Array): void;
  /**
   * Optional, for a component whose state lives in another process (an isolated plugin's proxy):
   * the runtime awaits it right before {@link snapshot}, so the bytes are current. In-process
   * components leave it out.
   */
  prepareSnapshot?(): Promise<void>;
  /**
   * Feedback on one series: adjusts that series' sensitivity only, and is kept with the learned
   * state. Returns the series' alert threshold afterwards, or undefined when this detector does not
   * model the series. Throws a coded error for an unknown verdict. An isolated plugin's proxy
   * answers with a promise (the child applies the feedback); callers await the result.
   */
  feedback?(series: SeriesId, verdict: FeedbackVerdict, timestamp: number, score?: number): number | undefined | Promise<number | undefined>;
  /** The feedback kept (newest last), for export and offline evaluation. */
  feedbackLog?(): readonly FeedbackRecord[];
  /**
   * Pauses (or resumes) learning for series whose resource matches — used by maintenance windows so
   * an outage is not learned as normal.
   */
  pauseLearning?(match: Attributes, paused: boolean): void;
}

// ---------------------------------------------------------------------------------------------
// correlator

export interface CorrelatorContext<TConfig> extends BaseContext<TConfig> {
  readonly catalog: SeriesCatalog;
  readonly topology: TopologyView;
  /** Publishes an incident change; the runtime stores it and routes it to notifiers. */
  publish(update: IncidentUpdate): void;
}

export interface Correlator extends Component {
  onAnomaly(anomaly: Anomaly): void;
  onEvent?(event: SextantEvent): void;
  /** Called on a timer (about once a second) so incidents can resolve when quiet. */
  tick?(now: number): void;
  /**
   * Serialised state (open incidents, silences and maintenance windows, recent change events), so
   * a restart neither forgets an open incident nor opens a second one for the same problem. The
   * runtime keeps series ids stable across restarts of the same data directory.
   */
  snapshot?(): Uint8Array;
  /** Restores {@link snapshot}'s bytes; on bad bytes reports a degraded status and starts empty. Never throws. */
  restore?(state: Uint8Array): void;
  /** As {@link Detector.prepareSnapshot}: awaited by the runtime right before {@link snapshot}. */
  prepareSnapshot?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// notifier

/** One delivery attempt's input. The same `idempotencyKey` may be delivered more than once after a crash. */
export interface Notification {
  /** Stable per incident update: `<incident id>:<sequence>`. Receivers drop duplicates by it. */
  readonly idempotencyKey: string;
  readonly update: IncidentUpdate;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** Link to the incident in the UI, when the server knows its public URL. */
  readonly url?: string;
}

export type DeliveryOutcome =
  | { readonly ok: true; readonly detail?: string }
  | { readonly ok: false; readonly retryable: boolean; readonly error: string; readonly retryAfterMs?: number };

export interface NotifierContext<TConfig> extends BaseContext<TConfig> {}

export interface Notifier extends Component {
  /** Delivers one notification. Must not throw: return `{ ok: false, retryable }` instead. */
  deliver(notification: Notification): Promise<DeliveryOutcome>;
}

// ---------------------------------------------------------------------------------------------
// exporter

/** Learning states as numbers, for columnar data and for backends that only store numbers. */
export const LEARNING_STATE_CODES: Readonly<Record<LearningState, number>> = { learning: 1, provisional: 2, trusted: 3 };

/**
 * The modelling detector's view of each sample of a batch, aligned with it: entry `i` belongs to
 * sample `i`. `expected`/`lower`/`upper` are NaN and `state` is 0 where the detector has no
 * expectation for that sample (detectors keep the latest expectation per series, so when a batch
 * holds several samples of one series only the last has one); otherwise `state` is a
 * {@link LEARNING_STATE_CODES} value.
 */
export interface ExpectationColumns {
  readonly expected: Float64Array;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly state: Uint8Array;
}

export interface ExporterContext<TConfig> extends BaseContext<TConfig> {
  readonly catalog: SeriesCatalog;
}

/**
 * Sends what Sextant collected and concluded to another system (a Prometheus remote-write
 * endpoint, an OTLP backend). The runtime never calls an exporter on the ingest path: it copies
 * accepted batches and anomalies into a bounded queue per exporter instance and hands them over
 * one call at a time, waiting for the returned promise before the next call. When the exporter is
 * slower than ingest the queue fills and further data is dropped and counted
 * (`sextant_exporter_dropped_total`); ingest is never blocked. An exporter that must not lose data
 * keeps its own durable queue and returns as soon as the data is in it.
 */
export interface Exporter extends Component {
  /**
   * Accepted samples, with the modelling detector's expectations aligned to them (undefined when
   * no detector models series). Must not keep the arrays after the returned promise settles.
   */
  exportSamples(batch: SampleBatch, expectations: ExpectationColumns | undefined): void | Promise<void>;
  /** Anomalies as they are raised, in order. */
  exportAnomalies?(anomalies: readonly Anomaly[]): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// factories

/**
 * A factory of one component type.
 * `TConfig` is the validated configuration type (the schema's output).
 */
export interface ComponentFactory<TConfig, TContext, TComponent extends Component> {
  /** Kebab-case type name, unique per extension point: `nginx`, `baseline`, `webhook`. */
  readonly type: string;
  readonly stability: Stability;
  /** One sentence for `sextant plugins list` and generated docs. */
  readonly description: string;
  /** Standard Schema (zod v4, valibot, ...) that validates the merged configuration. */
  readonly configSchema: StandardSchemaV1<unknown, TConfig>;
  /** Defaults merged under the user's configuration before validation. */
  readonly defaults: Partial<TConfig>;
  /** Optional JSON Schema of the configuration, for docs and out-of-process Describe. */
  readonly configJsonSchema?: Record<string, unknown>;
  create(ctx: TContext): TComponent | Promise<TComponent>;
}

export type CollectorFactory<TConfig = unknown> = ComponentFactory<TConfig, CollectorContext<TConfig>, Collector>;
export type DetectorFactory<TConfig = unknown> = ComponentFactory<TConfig, DetectorContext<TConfig>, Detector>;
export type CorrelatorFactory<TConfig = unknown> = ComponentFactory<TConfig, CorrelatorContext<TConfig>, Correlator>;
export type NotifierFactory<TConfig = unknown> = ComponentFactory<TConfig, NotifierContext<TConfig>, Notifier>;
export type ExporterFactory<TConfig = unknown> = ComponentFactory<TConfig, ExporterContext<TConfig>, Exporter>;

/** Identity functions that give a factory literal its full type and check its type name early. */
export function createCollectorFactory<TConfig>(factory: CollectorFactory<TConfig>): CollectorFactory<TConfig> {
  return checkFactory(factory);
}
export function createDetectorFactory<TConfig>(factory: DetectorFactory<TConfig>): DetectorFactory<TConfig> {
  return checkFactory(factory);
}
export function createCorrelatorFactory<TConfig>(factory: CorrelatorFactory<TConfig>): CorrelatorFactory<TConfig> {
  return checkFactory(factory);
}
export function createNotifierFactory<TConfig>(factory: NotifierFactory<TConfig>): NotifierFactory<TConfig> {
  return checkFactory(factory);
}
export function createExporterFactory<TConfig>(factory: ExporterFactory<TConfig>): ExporterFactory<TConfig> {
  return checkFactory(factory);
}


function checkFactory<F extends { type: string; stability: Stability }>(factory: F): F {
  assertKebabId(factory.type, 'factory type');
  if (!STABILITY_LEVELS.includes(factory.stability)) {
    throw new TypeError(`factory "${factory.type}" has stability "${String(factory.stability)}"; use one of ${STABILITY_LEVELS.join(', ')}`);
  }
  return factory;
}
