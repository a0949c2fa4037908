/**
 * The JSON the runtime's HTTP API returns (see the HTTP API table in the repository README), as
 * far as the UI reads it. Kept as plain interfaces: the browser bundle imports no Node package.
 */
export type Attributes = Record<string, string | number | boolean>;
export type Severity = 'info' | 'warning' | 'critical';
export type LearningState = 'learning' | 'provisional' | 'trusted';

export interface Expectation {
  readonly timestamp: number;
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  readonly state: LearningState;
  /** Samples and time seen of those needed before the series is trusted (when the detector says). */
  readonly progress?: LearningProgress;
}

export interface LearningProgress {
  readonly samples: number;
  readonly samplesNeeded: number;
  readonly spanMs: number;
  readonly spanNeededMs: number;
}

export interface SeriesInfo {
  readonly id: number;
  readonly metric: string;
  readonly unit: string;
  readonly type: string;
  readonly description?: string;
  readonly resource: Attributes;
  readonly attributes: Attributes;
  readonly source: string;
  readonly latest?: { timestamp: number; value: number } | null;
  readonly expectation?: Expectation | null;
}

export interface SamplePoint {
  readonly timestamp: number;
  readonly value: number | null;
  readonly expected?: number | null;
  readonly lower?: number | null;
  readonly upper?: number | null;
}

export interface Anomaly {
  readonly id: string;
  readonly seriesId: number;
  readonly metric: string;
  readonly resource: Attributes;
  readonly attributes: Attributes;
  readonly detector: string;
  readonly kind: string;
  readonly timestamp: number;
  readonly value: number | null;
  readonly expected: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly score: number;
  readonly severity: Severity;
  readonly peerGroup?: string;
  readonly message: string;
}

export interface LikelyCause {
  readonly entity: string;
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

export interface Suppression {
  readonly reason: string;
  readonly detail: string;
  readonly count: number;
}

export interface Incident {
  readonly id: string;
  readonly title: string;
  readonly status: 'open' | 'resolved';
  readonly impact: 'business' | 'user' | 'infrastructure';
  readonly severity: Severity;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly resolvedAt?: number;
  readonly entities: readonly string[];
  readonly anomalyIds: readonly string[];
  readonly eventIds: readonly string[];
  readonly causes: readonly LikelyCause[];
  readonly timeline: readonly TimelineEntry[];
  readonly suppressed: readonly Suppression[];
}

export interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly timestamp: number;
  readonly title: string;
  readonly resource: Attributes;
  readonly attributes?: Attributes;
  readonly severity?: Severity;
  readonly source: string;
}

/** One notifier's delivery of one incident update (GET /api/v1/incidents/{id}/notifications). */
export interface NotificationRow {
  readonly notifier: string;
  readonly sequence: number;
  readonly change: 'opened' | 'updated' | 'resolved';
  readonly outcome: 'pending' | 'delivered' | 'failed' | 'held';
  readonly attempts: number;
  readonly at: number;
  readonly error?: string;
}

export interface Silence {
  readonly id: string;
  readonly kind: 'silence' | 'maintenance';
  readonly match: Attributes;
  readonly from: number;
  readonly until: number;
  readonly comment: string;
  readonly active: boolean;
  /** Set when it was ended early (DELETE /api/v1/silences/{id}). */
  readonly endedAt?: number;
}

export interface TopologyEntity {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly attributes: Attributes;
}

export interface TopologyEdge {
  readonly from: string;
  readonly to: string;
  readonly type: string;
}

export interface InstanceStatus {
  readonly id: string;
  readonly kind: string;
  readonly type: string;
  readonly plugin: string;
  readonly isolation: string;
  readonly state: string;
  readonly message?: string;
  readonly code?: string;
  readonly since: number;
  readonly intervalMs?: number;
  readonly collections: number;
  readonly failures: number;
  readonly lastDurationMs?: number;
  readonly series?: number;
  readonly restarts: number;
  readonly process?: { readonly state?: string; readonly pid?: number; readonly restarts?: number; readonly crashes?: number; readonly quarantined?: boolean };
}

export interface PluginInfo {
  readonly id: string;
  readonly packageName: string;
  readonly version: string;
  readonly source: string;
  readonly kinds: readonly string[];
  readonly factories: readonly { kind: string; type: string; stability: string; description: string }[];
  readonly stability?: string;
  readonly state: 'loaded' | 'failed';
  readonly error?: string;
}

export interface Health {
  readonly status: string;
  readonly uptimeSeconds: number;
  readonly instances: Record<string, number>;
  readonly series: number;
}

/** What GET /api/v1/stream pushes (server-sent events; `event:` is the key). */
export interface StreamMessages {
  readonly hello: { readonly now: number };
  readonly tick: { readonly now: number; readonly series: number; readonly samples: number; readonly samplesPerSecond: number };
  readonly anomaly: Anomaly;
  readonly incident: { readonly change: string; readonly incident: Incident; readonly notify: boolean; readonly reason?: string };
  readonly event: StoredEvent;
}

/** GET /api/v1/autodiscovery */
export interface AutodiscoveryView {
  readonly enabled: boolean;
  readonly containers: readonly {
    readonly id: string;
    readonly name: string;
    readonly image: string;
    readonly state: string;
    readonly explain: readonly string[];
    readonly matches: readonly { readonly pluginId: string; readonly factory: string; readonly key: string; readonly reason: string; readonly instanceState?: string }[];
  }[];
}
