/**
 * Harnesses that run one component of any extension point the way the runtime does — config
 * merged with defaults and validated by the factory's schema, a real context, lifecycle calls —
 * and record everything it produces so a test can assert what a user would see.
 *
 * For a whole runtime (discovery, DI, pipeline, HTTP API) use `startTestRuntime()`.
 */
import {
  ErrorCode,
  SextantError,
  mergeDefaults,
  validateConfig,
  type Attributes,
  type Clock,
  type Collector,
  type CollectorFactory,
  type Detector,
  type DetectorFactory,
  type Correlator,
  type CorrelatorFactory,
  type IncidentUpdate,
  type HealthState,
  type Logger,
  type Notifier,
  type NotifierFactory,
  type SelfMetrics,
  type SeriesCatalog,
  type SeriesDescriptor,
  type SextantEvent,
  type StatusReporter,
  type TelemetrySink,
  type TopologyUpdate,
  type TopologyView,
  type AnomalyInput,
} from '@sextant/plugin-api';

/** A recorded sample, with its series descriptor resolved. */
export interface RecordedSample extends SeriesDescriptor {
  readonly seriesId: number;
  readonly timestamp: number;
  readonly value: number;
}

export interface StatusChange {
  readonly state: HealthState;
  readonly message?: string;
  readonly code?: string;
}

function seriesKey(d: SeriesDescriptor): string {
  const sorted = (a: Attributes) => JSON.stringify(Object.keys(a).sort().map((k) => [k, a[k]]));
  return `${d.metric}\u0000${sorted(d.resource)}\u0000${sorted(d.attributes)}`;
}

/** A TelemetrySink that keeps everything in memory, for tests. Drops NaN/Infinity like the runtime. */
export class RecordingSink implements TelemetrySink, SeriesCatalog {
  readonly descriptors: SeriesDescriptor[] = [];
  private readonly ids = new Map<string, number>();
  /** Samples flushed so far. */
  readonly samples: RecordedSample[] = [];
  readonly events: SextantEvent[] = [];
  readonly topologyUpdates: TopologyUpdate[] = [];
  /** Non-finite values rejected. */
  rejected = 0;
  flushes = 0;
  private pending: RecordedSample[] = [];

  constructor(private readonly clock: Clock, private readonly maxSeries = 100_000) {}

  series(descriptor: SeriesDescriptor): number {
    const key = seriesKey(descriptor);
    let id = this.ids.get(key);
    if (id === undefined) {
      if (this.descriptors.length >= this.maxSeries) {
        throw new SextantError(ErrorCode.LIMIT_EXCEEDED, `series limit of ${this.maxSeries} reached`, { hint: 'reduce attribute cardinality' });
      }
      id = this.descriptors.length;
      this.descriptors.push(descriptor);
      this.ids.set(key, id);
    }
    return id;
  }

  sample(series: number, value: number, timestamp?: number): void {
    const d = this.descriptors[series];
    if (!d) throw new SextantError(ErrorCode.INTERNAL, `unknown series id ${series}`);
    if (!Number.isFinite(value)) {
      this.rejected++;
      return;
    }
    this.pending.push({ ...d, seriesId: series, timestamp: timestamp ?? this.clock.now(), value });
  }

  event(event: SextantEvent): void {
    this.events.push(event);
  }

  topology(update: TopologyUpdate): void {
    this.topologyUpdates.push(update);
  }

  flush(): void {
    this.flushes++;
    this.samples.push(...this.pending);
    this.pending = [];
  }

  describe(id: number): SeriesDescriptor | undefined {
    return this.descriptors[id];
  }

  get size(): number {
    return this.descriptors.length;
  }

  /** Samples of one metric (optionally filtered by attributes), in order. */
  of(metric: string, attributes?: Attributes): RecordedSample[] {
    return this.samples.filter(
      (s) => s.metric === metric && (!attributes || Object.entries(attributes).every(([k, v]) => s.attributes[k] === v || s.resource[k] === v)),
    );
  }

  /** The most recent value of a metric (optionally filtered), or undefined. */
  last(metric: string, attributes?: Attributes): number | undefined {
    const all = this.of(metric, attributes);
    return all.length ? all[all.length - 1].value : undefined;
  }

  /** Distinct metric names seen. */
  metrics(): string[] {
    return [...new Set(this.samples.map((s) => s.metric))].sort();
  }
}

/** Self-metrics recorded in memory: `counters['parse_errors_total']` sums every add(). */
export class RecordingMetrics implements SelfMetrics {
  readonly counters: Record<string, number> = {};
  readonly gauges: Record<string, number> = {};
  counter(name: string) {
    return { add: (v: number) => void (this.counters[name] = (this.counters[name] ?? 0) + v) };
  }
  gauge(name: string) {
    return { set: (v: number) => void (this.gauges[name] = v) };
  }
}

/** Logger that keeps lines for assertions and prints nothing unless SEXTANT_TEST_LOG=1. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  private log(level: string, message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level, message, fields });
    if (process.env.SEXTANT_TEST_LOG === '1') console.error(`[${level}] ${message}`, fields ?? '');
  }
  debug(m: string, f?: Record<string, unknown>) { this.log('debug', m, f); }
  info(m: string, f?: Record<string, unknown>) { this.log('info', m, f); }
  warn(m: string, f?: Record<string, unknown>) { this.log('warn', m, f); }
  error(m: string, f?: Record<string, unknown>) { this.log('error', m, f); }
}

/** The clock of real time, for harnesses run against real servers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Validates `config` the way the runtime does: defaults merged under it, every issue listed. */
export async function resolveConfig<T>(factory: { type: string; defaults: Partial<T>; configSchema: CollectorFactory<T>['configSchema'] }, config: unknown): Promise<T> {
  const merged = mergeDefaults(factory.defaults as T, config ?? {});
  const result = await validateConfig(factory.configSchema, merged, factory.type);
  if (!result.ok) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, result.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
  return result.value;
}

interface CommonOptions {
  readonly config?: unknown;
  readonly clock?: Clock;
  readonly instanceId?: string;
  readonly dataDir?: string;
}

/** The BaseContext fields every component gets (config aside). */
function baseContext(parts: ReturnType<typeof commonParts>, opts: CommonOptions) {
  return {
    instanceId: parts.instanceId,
    logger: parts.logger,
    clock: parts.clock,
    status: parts.status,
    metrics: parts.metrics,
    signal: parts.controller.signal,
    dataDir: opts.dataDir,
  };
}

function commonParts(opts: CommonOptions, type: string) {
  const statuses: StatusChange[] = [];
  const status: StatusReporter = { set: (state, message, code) => void statuses.push({ state, message, code }) };
  const controller = new AbortController();
  return {
    statuses,
    status,
    controller,
    logger: new RecordingLogger(),
    metrics: new RecordingMetrics(),
    clock: opts.clock ?? systemClock,
    instanceId: opts.instanceId ?? `${type}/test`,
  };
}

export interface CollectorHarness {
  readonly collector: Collector;
  readonly sink: RecordingSink;
  readonly statuses: StatusChange[];
  readonly metrics: RecordingMetrics;
  readonly logger: RecordingLogger;
  readonly config: unknown;
  /** Runs one collect() round and flushes, like the scheduler does. */
  collect(): Promise<void>;
  /** The latest status reported, if any. */
  lastStatus(): StatusChange | undefined;
  shutdown(): Promise<void>;
}

/** Creates and starts one collector instance with a recording sink. */
export async function startCollector<T>(
  factory: CollectorFactory<T>,
  opts: CommonOptions & { readonly hostResource?: Attributes; readonly intervalMs?: number; readonly maxSeries?: number } = {},
): Promise<CollectorHarness> {
  const parts = commonParts(opts, factory.type);
  const config = await resolveConfig(factory, opts.config);
  const sink = new RecordingSink(parts.clock, opts.maxSeries);
  const collector = await factory.create({
    config,
    ...baseContext(parts, opts),
    sink,
    hostResource: opts.hostResource ?? { 'host.name': 'test-host' },
    intervalMs: opts.intervalMs ?? 10_000,
  });
  await collector.start?.();
  return {
    collector,
    sink,
    statuses: parts.statuses,
    metrics: parts.metrics,
    logger: parts.logger,
    config,
    async collect() {
      await collector.collect?.(new AbortController().signal);
      sink.flush();
    },
    lastStatus: () => parts.statuses[parts.statuses.length - 1],
    async shutdown() {
      parts.controller.abort();
      await collector.shutdown();
    },
  };
}

const emptyTopology: TopologyView = {
  entity: () => undefined,
  entities: () => [],
  edges: () => [],
  entityOf: () => undefined,
};

export interface DetectorHarness {
  readonly detector: Detector;
  readonly anomalies: AnomalyInput[];
  readonly statuses: StatusChange[];
  readonly metrics: RecordingMetrics;
  /** Interns series; pass to {@link feed}. */
  readonly catalog: RecordingSink;
  /** Feeds one sample per call through a one-entry batch. */
  feed(series: number, timestamp: number, value: number): void;
  shutdown(): Promise<void>;
}

/** Creates and starts one detector instance. */
export async function startDetector<T>(factory: DetectorFactory<T>, opts: CommonOptions & { readonly topology?: TopologyView } = {}): Promise<DetectorHarness> {
  const parts = commonParts(opts, factory.type);
  const config = await resolveConfig(factory, opts.config);
  const catalog = new RecordingSink(parts.clock);
  const anomalies: AnomalyInput[] = [];
  const detector = await factory.create({
    config,
    ...baseContext(parts, opts),
    catalog,
    topology: opts.topology ?? emptyTopology,
    emit: (a) => void anomalies.push(a),
  });
  await detector.start?.();
  const series = new Uint32Array(1);
  const timestamps = new Float64Array(1);
  const values = new Float64Array(1);
  return {
    detector,
    anomalies,
    statuses: parts.statuses,
    metrics: parts.metrics,
    catalog,
    feed(s, t, v) {
      series[0] = s;
      timestamps[0] = t;
      values[0] = v;
      detector.process({ length: 1, series, timestamps, values });
    },
    async shutdown() {
      parts.controller.abort();
      await detector.shutdown();
    },
  };
}

export interface NotifierHarness {
  readonly notifier: Notifier;
  readonly statuses: StatusChange[];
  readonly metrics: RecordingMetrics;
  readonly logger: RecordingLogger;
  shutdown(): Promise<void>;
}

/** Creates and starts one notifier instance. */
export async function startNotifier<T>(factory: NotifierFactory<T>, opts: CommonOptions = {}): Promise<NotifierHarness> {
  const parts = commonParts(opts, factory.type);
  const config = await resolveConfig(factory, opts.config);
  const notifier = await factory.create({
    config,
    ...baseContext(parts, opts),
  });
  await notifier.start?.();
  return {
    notifier,
    statuses: parts.statuses,
    metrics: parts.metrics,
    logger: parts.logger,
    async shutdown() {
      parts.controller.abort();
      await notifier.shutdown();
    },
  };
}

export interface CorrelatorHarness {
  readonly correlator: Correlator;
  /** Every incident update published, in order. */
  readonly updates: IncidentUpdate[];
  readonly statuses: StatusChange[];
  readonly metrics: RecordingMetrics;
  shutdown(): Promise<void>;
}

/** Creates and starts one correlator instance with the given topology (default: empty). */
export async function startCorrelator<T>(factory: CorrelatorFactory<T>, opts: CommonOptions & { readonly topology?: TopologyView } = {}): Promise<CorrelatorHarness> {
  const parts = commonParts(opts, factory.type);
  const config = await resolveConfig(factory, opts.config);
  const updates: IncidentUpdate[] = [];
  const correlator = await factory.create({
    config,
    ...baseContext(parts, opts),
    catalog: new RecordingSink(parts.clock),
    topology: opts.topology ?? emptyTopology,
    publish: (u) => void updates.push(u),
  });
  await correlator.start?.();
  return {
    correlator,
    updates,
    statuses: parts.statuses,
    metrics: parts.metrics,
    async shutdown() {
      parts.controller.abort();
      await correlator.shutdown();
    },
  };
}
