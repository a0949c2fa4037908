/**
 * The Sextant data model (docs/architecture.md, "Data model").
 *
 * Everything a plugin produces or consumes is described here. Names follow the OpenTelemetry
 * semantic conventions wherever one exists (`host.name`, `container.id`, `service.name`,
 * `system.cpu.utilization`, ...); Sextant's own keys start with `sextant.`.
 *
 * Stability: stable. Interfaces in this file only grow (new optional fields); a breaking change
 * gets a new name.
 */

/** An attribute value. Arrays are deliberately not supported: they explode cardinality. */
export type AttributeValue = string | number | boolean;

/** A flat, immutable map of attributes. Keys are dotted lower-case names. */
export type Attributes = Readonly<Record<string, AttributeValue>>;

/**
 * How a metric's value behaves over time. Detectors and the store use it to pick the right
 * treatment; collectors must set it truthfully.
 *
 * - `gauge`: a value measured at a point in time (temperature, queue length, utilisation).
 * - `counter`: a cumulative, monotonically increasing total that resets to 0 when its source
 *   restarts. Prefer emitting a `rate` (use `CounterRate` from `@sextant/plugin-kit`); emit `counter` only when the
 *   raw total itself is interesting.
 * - `rate`: a per-second rate derived from a counter over the last interval.
 */
export type MetricType = 'gauge' | 'counter' | 'rate';

/**
 * Domain knowledge about what a series measures. Detectors use it to choose a model (bounded
 * utilisation, memory growth toward a limit, latency on a log scale, ...). Optional: when absent
 * the analysis infers it from the metric name, unit and type.
 */
export type MetricKind =
  | 'utilization' // a ratio of a bounded resource, 0..1 (CPU against its limit, disk full)
  | 'saturation' // queued work, pressure stall, throttling
  | 'memory' // bytes in use that can grow toward a limit
  | 'latency' // a duration; positive, skewed, best seen on a log scale
  | 'error-ratio' // failed / total, 0..1; noisy when total is small
  | 'throughput' // requests, packets, bytes per second
  | 'business-count' // orders, sign-ups: seasonal and Poisson-like
  | 'availability' // 1 = up, 0 = down
  | 'generic';

/**
 * What identifies one series: metric name, the resource that produced it, and point attributes.
 * Two descriptors with equal metric, resource and attributes are the same series, whoever sends
 * them. Unit, type and kind are metadata: they must not change for an existing series.
 */
export interface SeriesDescriptor {
  /** Semantic-convention name, e.g. `system.cpu.utilization`, `nginx.requests`. */
  readonly metric: string;
  /** UCUM unit: `1` (ratio), `By`, `s`, `ms`, `{request}/s`, `By/s`, ... */
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  /** One sentence for people; shown in the UI and generated docs. */
  readonly description?: string;
  /** What produced the data (host, container, service). */
  readonly resource: Attributes;
  /** Point attributes that split a metric into series (`cpu`, `state`, `device`). Keep them bounded. */
  readonly attributes: Attributes;
}

/**
 * A series id: a small integer the runtime assigns the first time it sees a descriptor. Stable for
 * the life of a runtime (and of its snapshots). Plugins get ids from {@link TelemetrySink.series}
 * and must not invent them.
 */
export type SeriesId = number;

/**
 * Samples in columnar form: parallel typed arrays, one entry per sample, `length` entries used.
 * This is how samples travel everywhere inside Sextant (collector -> store -> detectors) and on
 * the wire, so no object is ever created per sample.
 *
 * Invariants: `series.length >= length`, `timestamps.length >= length`, `values.length >= length`.
 * Timestamps are milliseconds since the Unix epoch. A consumer must not keep a reference to a batch
 * after its callback returns: the arrays are reused.
 */
export interface SampleBatch {
  readonly length: number;
  readonly series: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** One sample as an object: only for edges (printing, JSON APIs, tests), never for hot paths. */
export interface Sample {
  readonly metric: string;
  readonly unit: string;
  readonly resource: Attributes;
  readonly attributes: Attributes;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  readonly value: number;
}

/** Severity shared by events, anomalies and incidents. */
export type Severity = 'info' | 'warning' | 'critical';

/**
 * Something that happened: a deploy, a configuration run, a scaling action, a container that
 * stopped. Events explain anomalies ("a deploy just before") and open expected-change windows.
 *
 * Well-known `type`s: `deploy`, `config.run`, `scale`, `container.start`, `container.stop`,
 * `container.die`, `container.oom`, `container.health`, `plugin.status`, `slowlog`.
 */
export interface SextantEvent {
  /** Unique id; the runtime assigns one when absent. */
  readonly id?: string;
  readonly type: string;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** One line a person understands: "nginx deployed 1.25.3 -> 1.25.4 on web-1". */
  readonly title: string;
  /** Who or what the event concerns, with semantic-convention keys (`service.name`, `container.id`). */
  readonly resource: Attributes;
  readonly attributes?: Attributes;
  readonly severity?: Severity;
  /** Where it came from: a plugin type, `api`, `chef`, ... */
  readonly source?: string;
}

/**
 * Entity types of the topology graph (docs/architecture.md, "Data model"). Other strings are allowed for custom
 * entities (`database`, `queue`, `load-balancer`).
 */
export type EntityType =
  | 'host'
  | 'container'
  | 'pod'
  | 'task'
  | 'service'
  | 'application'
  | (string & {});

/** A node of the topology graph. `id` is `<type>:<key>`, see {@link entityId}. */
export interface TopologyEntity {
  readonly id: string;
  readonly type: EntityType;
  readonly name: string;
  readonly attributes: Attributes;
}

/**
 * A directed edge. `runs-on`: container -> host; `member-of`: container -> service (replicas of
 * one service form a peer group); `calls`: service -> service (caller -> callee);
 * `depends-on`: anything -> what it needs.
 */
export interface TopologyEdge {
  readonly from: string;
  readonly to: string;
  readonly type: 'runs-on' | 'member-of' | 'calls' | 'depends-on' | (string & {});
}

/** A change to the topology as reported by one source. Removing an entity removes its edges. */
export interface TopologyUpdate {
  readonly upsertEntities?: readonly TopologyEntity[];
  readonly removeEntities?: readonly string[];
  readonly upsertEdges?: readonly TopologyEdge[];
  readonly removeEdges?: readonly TopologyEdge[];
}

/** Builds the canonical entity id: `entityId('container', 'abc123')` -> `container:abc123`. */
export function entityId(type: EntityType, key: string): string {
  return `${type}:${key}`;
}

/**
 * Attribute keys of a `container:<id>` topology entity, as the containers collector reports them
 * and autodiscovery reads them. JSON-valued keys hold JSON text (attributes are flat scalars).
 */
export const CONTAINER_ENTITY_KEYS = {
  id: 'container.id',
  name: 'container.name',
  /** The full image reference (with registry and tag) the container was created from. */
  imageRef: 'sextant.container.image.ref',
  /** JSON object of every label. */
  labels: 'sextant.container.labels',
  state: 'sextant.container.state',
  pid: 'sextant.container.pid',
  /** JSON array of IP address strings. */
  ipAddresses: 'sextant.container.ip_addresses',
  /** JSON array of `{ port, protocol, hostPort? }`. */
  ports: 'sextant.container.ports',
  networkMode: 'sextant.container.network_mode',
} as const;

/** How a series is doing in a detector's eyes. No alert is raised while `learning`. */
export type LearningState = 'learning' | 'provisional' | 'trusted';

/** What shape of problem an anomaly is. */
export type AnomalyKind = 'spike' | 'dip' | 'level-shift' | 'drift' | 'outlier' | 'threshold' | 'exhaustion';

/**
 * A judgement on one series (or one member of a peer group) at one time. Produced by detectors,
 * consumed by the noise-control layer and the correlator.
 */
export interface Anomaly {
  /** Unique id, assigned by the runtime. */
  readonly id: string;
  readonly seriesId: SeriesId;
  readonly metric: string;
  readonly resource: Attributes;
  readonly attributes: Attributes;
  /** The factory type of the detector that raised it (`baseline`, `peer-outlier`, `threshold`). */
  readonly detector: string;
  readonly kind: AnomalyKind;
  readonly timestamp: number;
  readonly value: number;
  /** What the detector expected, and its band. `NaN` when the detector has no expectation. */
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  /** How unusual, 0..1, comparable across series and detectors. */
  readonly score: number;
  readonly severity: Severity;
  /** For peer outliers: the group the member was compared with (`service:web`). */
  readonly peerGroup?: string;
  /** One sentence a person understands. */
  readonly message: string;
}

/** What a detector hands to the runtime; the runtime fills id and series metadata. */
export type AnomalyInput = Omit<Anomaly, 'id' | 'metric' | 'resource' | 'attributes'>;

/** Who is hurt by an incident. */
export type ImpactClass = 'business' | 'user' | 'infrastructure';

/** A candidate root cause with the evidence that supports it. */
export interface LikelyCause {
  /** The entity believed to be the cause (`container:abc`, `service:db`). */
  readonly entity: string;
  /** 0..1, higher is more likely. Causes are listed in descending order. */
  readonly score: number;
  readonly summary: string;
  readonly evidence: readonly string[];
}

export interface TimelineEntry {
  readonly timestamp: number;
  readonly kind: 'anomaly' | 'event' | 'status' | 'suppressed' | 'note';
  readonly message: string;
  readonly ref?: string;
}

/** Why something was not notified, so every suppression can be explained. */
export interface Suppression {
  readonly reason: 'confirmation' | 'hysteresis' | 'flapping' | 'duplicate' | 'inhibited' | 'silenced' | 'maintenance' | (string & {});
  readonly detail: string;
  readonly count: number;
}

/** One story: anomalies, events and topology folded together with a likely cause. */
export interface Incident {
  readonly id: string;
  readonly title: string;
  readonly status: 'open' | 'resolved';
  readonly impact: ImpactClass;
  readonly severity: Severity;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly resolvedAt?: number;
  /** Entity ids affected. */
  readonly entities: readonly string[];
  readonly anomalyIds: readonly string[];
  readonly eventIds: readonly string[];
  readonly causes: readonly LikelyCause[];
  readonly timeline: readonly TimelineEntry[];
  readonly suppressed: readonly Suppression[];
}

/** A change to an incident, as delivered to notifiers. `sequence` grows per incident. */
export interface IncidentUpdate {
  readonly change: 'opened' | 'updated' | 'resolved';
  readonly sequence: number;
  readonly incident: Incident;
  /**
   * `false` when noise control holds the update back (silence, maintenance window): it is stored
   * and visible in the API with the reason in `incident.suppressed`, but not delivered. Default true.
   */
  readonly notify?: boolean;
  /** Why this update was published (`new anomaly on service:db`, `reminder`, `likely cause changed`). */
  readonly reason?: string;
}
