/**
 * The pipeline (docs/architecture.md, "How a sample becomes a notification"): collectors -> validation -> store -> detectors -> noise control ->
 * correlators -> incidents -> notifiers. Every sample is counted as received and then either
 * accepted or dropped with a reason, so "nothing lost" is checkable on /metrics:
 *
 *   sextant_samples_received_total == sextant_samples_accepted_total + sum(sextant_samples_dropped_total)
 *
 * Components are isolated from each other: a detector that throws is marked degraded and the
 * batch still reaches the others.
 */
import { inject, injectable } from 'tsyringe';
import type {
  Anomaly,
  AnomalyInput,
  Clock,
  Correlator,
  Detector,
  FeedbackRecord,
  Incident,
  IncidentUpdate,
  SampleBatch,
  SeriesExpectation,
  SextantEvent,
  TopologyUpdate,
} from '@sextant/plugin-api';
import type { InstanceStatus } from '../runtime/instance-manager.js';
import type { SamplePoint } from '../store/sample-store.js';
import type { Exporter, Logger } from '@sextant/plugin-api';
import type { DeliveryRow } from '../outbox/delivery-record.js';
import { BoundedLog } from '../store/bounded-log.js';
import { MutableBatch } from '../store/mutable-batch.js';
import { SampleStore } from '../store/sample-store.js';
import { SeriesRegistry } from '../store/series-registry.js';
import { TopologyGraph } from '../store/topology-graph.js';
import { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { TOKENS } from '../tokens.js';
import { ExportQueue } from './export-queue.js';

export const DROP_REASONS = ['non_finite', 'duplicate', 'out_of_order', 'future_timestamp'] as const;
export type DropReason = (typeof DROP_REASONS)[number] | 'series_limit' | 'unknown_series' | 'queue_full';

/** Receives every accepted batch (e.g. `--print samples`). Must not keep the batch. */
export type SampleObserver = (batch: SampleBatch, registry: SeriesRegistry) => void;

export interface StoredEvent extends SextantEvent {
  readonly id: string;
  readonly source: string;
}

interface Attached<T> {
  readonly instanceId: string;
  readonly component: T;
  readonly fail: (error: unknown) => void;
}

export interface StoreLimits {
  readonly anomalies: number;
  readonly events: number;
  /** Samples stamped more than this many ms after the clock's now are refused. Default 10 min. */
  readonly maxFutureMs?: number;
}

/** A refusal a person should hear about is logged at most this often per source and reason. */
const WARN_EVERY_MS = 60_000;

/** Receives incident updates for delivery (the notification dispatcher). */
export type IncidentListener = (update: IncidentUpdate) => void;

/**
 * Where the API reads incidents and silences when they are not this process's own: a member of a
 * server group (@sextant/cluster) keeps them in the group's Redis, so every member answers the
 * same. Unset (the default, `sextant run`), the API reads `incidents` and `events` here.
 */
export interface GroupView {
  incidents(): Promise<readonly Incident[]>;
  incident(id: string): Promise<Incident | undefined>;
  /** The group's `silence`, `maintenance`, `silence.end` and `maintenance.end` events. */
  windowEvents(): Promise<readonly StoredEvent[]>;
  /** Which notifications went out for an incident (GET /api/v1/incidents/{id}/notifications), newest sequence first. */
  notifications?(incidentId: string): Promise<readonly DeliveryRow[]>;
}

/**
 * Series this runtime does not analyse itself: a member of a server group (@sextant/cluster) runs
 * one detector set per partition it owns and stores those partitions' samples; the other members
 * do the rest. The API asks it for what no attached detector (or the local store) answers, so any
 * member serves the group's expectations, samples and detector statuses. Unset (the default,
 * `sextant run`), the API asks the attached detectors and the local store only.
 */
export interface DetectorView {
  /** Expectations of these series (this runtime's ids) that no attached detector models here. */
  expectations(ids: readonly number[]): Promise<ReadonlyMap<number, SeriesExpectation>>;
  /** One status per configured detector instance (health over the whole group), for /api/v1/plugins. */
  statuses(): Promise<readonly InstanceStatus[]>;
  /**
   * Samples (with their bands) and expectation of a series (this runtime's id) that another process
   * stores and analyses; undefined when this runtime does, or nobody answers.
   */
  samples?(id: number, from?: number, to?: number): Promise<{ readonly samples: readonly SamplePoint[]; readonly expectation?: SeriesExpectation } | undefined>;
  /** Feedback kept by the detectors that run elsewhere (series in this runtime's ids), for GET /api/v1/feedback. */
  feedbackLog?(): Promise<readonly (FeedbackRecord & { readonly detector: string })[]>;
}

let eventCounter = 0;
let anomalyCounter = 0;

@injectable()
export class Pipeline {
  readonly events: BoundedLog<StoredEvent>;
  readonly anomalies: BoundedLog<Anomaly>;
  readonly incidents = new Map<string, Incident>();
  /** Set by a cluster member: the API's incidents and silences come from the group (see GroupView). */
  groupView: GroupView | undefined;
  /** Set by a cluster member: expectations and statuses of detectors that run elsewhere (see DetectorView). */
  detectorView: DetectorView | undefined;
  private detectors: Attached<Detector>[] = [];
  private correlators: Attached<Correlator>[] = [];
  private exporters: ExportQueue[] = [];
  private observers: SampleObserver[] = [];
  private incidentListeners: IncidentListener[] = [];
  private topologyListeners: ((update: TopologyUpdate) => void)[] = [];
  private eventListeners: ((event: StoredEvent) => void)[] = [];
  private anomalyListeners: ((anomaly: Anomaly) => void)[] = [];
  private readonly accepted = new MutableBatch(1024);
  /** Maintenance windows in force: learning is paused for matching series until `until`. */
  private maintenance: { id: string; match: SextantEvent['resource']; until: number }[] = [];
  private readonly drops = new Uint32Array(DROP_REASONS.length);
  private readonly maxFutureMs: number;
  /** `<reason>\u0000<source>` -> when it was last logged. */
  private readonly warned = new Map<string, number>();

  constructor(
    @inject(TOKENS.registry) readonly registry: SeriesRegistry,
    @inject(TOKENS.store) readonly store: SampleStore,
    @inject(TOKENS.telemetry) private readonly telemetry: SelfTelemetry,
    @inject(TOKENS.topology) readonly topology: TopologyGraph,
    @inject(TOKENS.clock) private readonly clock: Clock,
    @inject(TOKENS.storeLimits) limits: StoreLimits,
    @inject(TOKENS.logger) private readonly logger: Logger,
  ) {
    this.maxFutureMs = limits.maxFutureMs ?? 600_000;
    this.events = new BoundedLog(limits.events);
    this.anomalies = new BoundedLog(limits.anomalies);
  }

  attachDetector(instanceId: string, component: Detector, fail: (e: unknown) => void): () => void {
    const entry = { instanceId, component, fail };
    this.detectors.push(entry);
    // Maintenance windows already in force (e.g. restored from a checkpoint) pause this one too.
    for (const m of this.maintenance) {
      try {
        component.pauseLearning?.(m.match, true);
      } catch (e) {
        fail(e);
      }
    }
    return () => void (this.detectors = this.detectors.filter((d) => d !== entry));
  }

  attachCorrelator(instanceId: string, component: Correlator, fail: (e: unknown) => void): () => void {
    const entry = { instanceId, component, fail };
    this.correlators.push(entry);
    return () => void (this.correlators = this.correlators.filter((d) => d !== entry));
  }

  /**
   * Attaches an exporter behind its own bounded queue (see ExportQueue): it gets accepted batches
   * with expectations and anomalies, never on the ingest path. The returned function hands over
   * what is queued, then detaches.
   */
  attachExporter(instanceId: string, component: Exporter, fail: (e: unknown) => void): () => Promise<void> {
    const queue = new ExportQueue(instanceId, component, {
      fail,
      onDrop: (kind, count) => this.telemetry.add('sextant_exporter_dropped_total', 'Samples and anomalies an exporter could not take in time (queue full) or failed on', count, { instance: instanceId, kind }),
    });
    this.exporters.push(queue);
    return async () => {
      this.exporters = this.exporters.filter((q) => q !== queue);
      await queue.close();
    };
  }

  observe(observer: SampleObserver): () => void {
    this.observers.push(observer);
    return () => void (this.observers = this.observers.filter((o) => o !== observer));
  }

  onIncident(listener: IncidentListener): () => void {
    this.incidentListeners.push(listener);
    return () => void (this.incidentListeners = this.incidentListeners.filter((l) => l !== listener));
  }

  /** Sees every topology update after it is applied (autodiscovery, agents forwarding to a server). */
  onTopology(listener: (update: TopologyUpdate) => void): () => void {
    this.topologyListeners.push(listener);
    return () => void (this.topologyListeners = this.topologyListeners.filter((l) => l !== listener));
  }

  /** Sees every stored event (agents forwarding to a server). */
  onEvent(listener: (event: StoredEvent) => void): () => void {
    this.eventListeners.push(listener);
    return () => void (this.eventListeners = this.eventListeners.filter((l) => l !== listener));
  }

  /** Sees every stored anomaly (the UI's live stream). */
  onAnomaly(listener: (anomaly: Anomaly) => void): () => void {
    this.anomalyListeners.push(listener);
    return () => void (this.anomalyListeners = this.anomalyListeners.filter((l) => l !== listener));
  }

  /** Detectors attached, for expectations in the API. */
  get detectorComponents(): readonly Detector[] {
    return this.detectors.map((d) => d.component);
  }

  /** Attached detectors with their instance ids (feedback, expectations by instance). */
  get detectorInstances(): readonly { readonly instanceId: string; readonly component: Detector }[] {
    return this.detectors.map((d) => ({ instanceId: d.instanceId, component: d.component }));
  }

  /** Stores the first modelling detector's expectation next to each accepted sample (for charts). */
  private recordBands(batch: SampleBatch): void {
    const modeller = this.detectors.find((d) => typeof d.component.expectation === 'function');
    if (!modeller) return;
    const expectation = modeller.component.expectation!.bind(modeller.component);
    for (let i = 0; i < batch.length; i++) {
      const id = batch.series[i];
      const e = expectation(id);
      if (e && e.timestamp === batch.timestamps[i] && Number.isFinite(e.expected)) this.store.setBand(id, e.expected, e.lower, e.upper);
    }
  }

  /**
   * Logs a refusal at most once a minute per source and reason: a person hears about it, a flood
   * does not fill the log. The counters carry the exact numbers.
   */
  warnOnce(reason: string, source: string, now: number, message: string, fields?: Record<string, unknown>): void {
    const key = `${reason}\u0000${source}`;
    const last = this.warned.get(key);
    if (last !== undefined && now - last < WARN_EVERY_MS) return;
    if (this.warned.size > 10_000) this.warned.clear();
    this.warned.set(key, now);
    this.logger.warn(message, fields);
  }

  /**
   * Puts back what a checkpoint saved (see StateCheckpoint): the incidents the API serves, the
   * event log, and the maintenance windows still in force (learning stays paused for them).
   */
  restoreState(incidents: readonly Incident[], events: readonly StoredEvent[]): void {
    for (const inc of incidents) if (inc && typeof inc.id === 'string') this.incidents.set(inc.id, inc);
    const now = this.clock.now();
    for (const e of events) {
      if (!e || typeof e.id !== 'string') continue;
      this.events.push(e);
      if (e.type === 'maintenance') this.startMaintenance(e);
      if (e.type === 'maintenance.end') this.endMaintenance(e);
    }
    this.maintenance = this.maintenance.filter((m) => m.until > now);
  }

  /** Counts samples that never made it into a batch (series limit, ...). */
  recordDrop(reason: DropReason, count: number, source: string): void {
    this.telemetry.add('sextant_samples_received_total', 'Samples received from collectors and agents', count, { source });
    this.telemetry.add('sextant_samples_dropped_total', 'Samples dropped, by reason', count, { reason, source });
  }

  /** Validates, stores and analyses one batch. `source` is `<instance id>` or an agent source id. */
  ingest(batch: SampleBatch, source: string): void {
    if (batch.length === 0) return;
    const started = performance.now();
    this.telemetry.add('sextant_samples_received_total', 'Samples received from collectors and agents', batch.length, { source });
    this.drops.fill(0);
    const accepted = this.accepted;
    accepted.clear();
    const now = this.clock.now();
    this.store.append(batch, this.drops, accepted, now + this.maxFutureMs);
    for (let r = 0; r < DROP_REASONS.length; r++) {
      if (this.drops[r] > 0) this.telemetry.add('sextant_samples_dropped_total', 'Samples dropped, by reason', this.drops[r], { reason: DROP_REASONS[r], source });
    }
    if (this.drops[3] > 0) {
      this.warnOnce('future_timestamp', source, now, `${source}: ${this.drops[3]} sample(s) stamped more than ${Math.round(this.maxFutureMs / 1000)} s ahead of this server's clock were refused (counted as sextant_samples_dropped_total{reason="future_timestamp"})`, {
        hint: 'check the clock of the sending host (NTP) or the timestamps the plugin sets; raise store.maxFuture only if the clocks are known to differ',
      });
    }
    if (accepted.length > 0) {
      this.telemetry.add('sextant_samples_accepted_total', 'Samples accepted into the store', accepted.length, { source });
      for (const d of this.detectors) {
        try {
          d.component.process(accepted);
        } catch (e) {
          d.fail(e);
        }
      }
      this.recordBands(accepted);
      if (this.exporters.length > 0) {
        const modeller = this.detectors.find((d) => typeof d.component.expectation === 'function')?.component;
        const expectationOf = modeller ? (id: number) => modeller.expectation!(id) : undefined;
        for (const x of this.exporters) x.offerSamples(accepted, expectationOf);
      }
      for (const o of this.observers) o(accepted, this.registry);
    }
    this.telemetry.observe('sextant_pipeline_latency_seconds', 'Time from a batch entering the pipeline to the end of analysis', (performance.now() - started) / 1000);
  }

  ingestEvent(event: SextantEvent, source: string): StoredEvent {
    const stored: StoredEvent = { ...event, id: event.id ?? `evt-${this.clock.now().toString(36)}-${(eventCounter++).toString(36)}`, source: event.source ?? source };
    this.events.push(stored);
    this.telemetry.add('sextant_events_total', 'Events received, by type', 1, { type: stored.type });
    if (stored.type === 'maintenance') this.startMaintenance(stored);
    if (stored.type === 'maintenance.end') this.endMaintenance(stored);
    for (const l of this.eventListeners) l(stored);
    for (const d of this.detectors) {
      try {
        d.component.onEvent?.(stored);
      } catch (e) {
        d.fail(e);
      }
    }
    for (const c of this.correlators) {
      try {
        c.component.onEvent?.(stored);
      } catch (e) {
        c.fail(e);
      }
    }
    return stored;
  }

  applyTopology(update: TopologyUpdate): void {
    this.topology.apply(update);
    for (const l of this.topologyListeners) l(update);
  }

  /** Turns a detector's output into a stored anomaly and hands it to the correlators. */
  raiseAnomaly(input: AnomalyInput, detectorInstance: string): Anomaly | undefined {
    const series = this.registry.describe(input.seriesId);
    if (!series) {
      this.telemetry.add('sextant_anomalies_rejected_total', 'Anomalies refused, by reason', 1, { reason: 'unknown_series', detector: detectorInstance });
      return undefined;
    }
    const anomaly: Anomaly = {
      ...input,
      id: `anm-${input.timestamp.toString(36)}-${(anomalyCounter++).toString(36)}`,
      metric: series.metric,
      resource: series.resource,
      attributes: series.attributes,
    };
    this.anomalies.push(anomaly);
    for (const x of this.exporters) x.offerAnomaly(anomaly);
    this.telemetry.add('sextant_anomalies_total', 'Anomalies raised, by detector', 1, { detector: input.detector });
    for (const l of this.anomalyListeners) l(anomaly);
    for (const c of this.correlators) {
      try {
        c.component.onAnomaly(anomaly);
      } catch (e) {
        c.fail(e);
      }
    }
    return anomaly;
  }

  /** Stores an incident change and hands it to notification delivery. */
  publishIncident(update: IncidentUpdate): void {
    this.incidents.set(update.incident.id, update.incident);
    this.telemetry.add('sextant_incident_updates_total', 'Incident changes published, by change', 1, { change: update.change });
    for (const l of this.incidentListeners) l(update);
  }

  /**
   * A maintenance window pauses learning for the series it matches (so an outage is not learned as
   * normal) until `attributes.until` (ms or ISO) or `timestamp + attributes.duration` (ms).
   */
  private startMaintenance(event: StoredEvent): void {
    const attrs = event.attributes ?? {};
    const until = attrs.until !== undefined ? (typeof attrs.until === 'number' ? attrs.until : Date.parse(String(attrs.until))) : attrs.duration !== undefined ? event.timestamp + Number(attrs.duration) : Number.NaN;
    if (!Number.isFinite(until)) return;
    this.maintenance.push({ id: event.id, match: event.resource, until });
    for (const d of this.detectors) {
      try {
        d.component.pauseLearning?.(event.resource, true);
      } catch (e) {
        d.fail(e);
      }
    }
  }

  /** A `maintenance.end` event (attributes.window = the window's event id) resumes learning now. */
  private endMaintenance(event: StoredEvent): void {
    const ended = this.maintenance.filter((m) => m.id === event.attributes?.window);
    if (ended.length === 0) return;
    this.maintenance = this.maintenance.filter((m) => !ended.includes(m));
    for (const d of this.detectors) {
      try {
        d.component.pauseLearning?.(ended[0].match, false);
      } catch (e) {
        d.fail(e);
      }
    }
  }

  /** Lets correlators resolve quiet incidents and ends maintenance windows. */
  tick(now: number): void {
    const ended = this.maintenance.filter((m) => m.until <= now);
    if (ended.length) {
      this.maintenance = this.maintenance.filter((m) => m.until > now);
      for (const m of ended) {
        for (const d of this.detectors) {
          try {
            d.component.pauseLearning?.(m.match, false);
          } catch (e) {
            d.fail(e);
          }
        }
      }
    }
    for (const c of this.correlators) {
      try {
        c.component.tick?.(now);
      } catch (e) {
        c.fail(e);
      }
    }
  }
}
