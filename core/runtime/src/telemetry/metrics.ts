/**
 * The runtime's own metrics: the single source of truth for their names, types, units, labels and
 * help (after the OpenTelemetry Collector's metadata.yaml). `SelfTelemetry` takes help, type,
 * labels and buckets from here for every name listed, whatever help text a caller passes, and
 * refuses to use a listed name as another type; the "Metrics" table in the runtime README is
 * generated from this list (`metricTableMarkdown`, checked by test/metrics-table.test.ts).
 *
 * Add a metric here first, then use its name. Names follow Prometheus conventions: base units
 * (seconds, bytes), `_total` on counters.
 *
 * Plugins' own metrics (`ctx.metrics`, exposed as `sextant_plugin_<name>` with `plugin` and
 * `instance` labels) are not listed: their plugin's README lists them.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  /** UCUM-ish unit for the README (`s`, `By`, `1` for counts). */
  readonly unit: string;
  readonly help: string;
  /** Label names this metric is recorded with. */
  readonly labels: readonly string[];
  /** Histogram bucket upper bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** Buckets for durations of work done in-process (ms to tens of seconds). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];
/** Buckets for notification delivery: from an immediate webhook to retries over hours. */
const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400];

export const RUNTIME_METRICS: readonly MetricSpec[] = [
  // Pipeline
  { name: 'sextant_samples_received_total', type: 'counter', unit: '1', help: 'Samples received from collectors and agents', labels: ['source'] },
  { name: 'sextant_samples_accepted_total', type: 'counter', unit: '1', help: 'Samples accepted into the store', labels: ['source'] },
  { name: 'sextant_samples_dropped_total', type: 'counter', unit: '1', help: 'Samples dropped, by reason (non_finite, duplicate, out_of_order, future_timestamp, series_limit, ...)', labels: ['reason', 'source'] },
  { name: 'sextant_pipeline_latency_seconds', type: 'histogram', unit: 's', help: 'Time from a batch entering the pipeline to the end of analysis', labels: [], buckets: DURATION_BUCKETS },
  { name: 'sextant_events_total', type: 'counter', unit: '1', help: 'Events received, by type', labels: ['type'] },
  { name: 'sextant_anomalies_total', type: 'counter', unit: '1', help: 'Anomalies raised, by detector', labels: ['detector'] },
  { name: 'sextant_anomalies_rejected_total', type: 'counter', unit: '1', help: 'Anomalies refused, by reason', labels: ['reason', 'detector'] },
  { name: 'sextant_incident_updates_total', type: 'counter', unit: '1', help: 'Incident changes published, by change', labels: ['change'] },
  { name: 'sextant_exporter_dropped_total', type: 'counter', unit: '1', help: 'Samples and anomalies an exporter could not take in time (queue full) or failed on', labels: ['instance', 'kind'] },
  // Store and process
  { name: 'sextant_series', type: 'gauge', unit: '1', help: 'Series known to the store', labels: [] },
  { name: 'sextant_store_bytes', type: 'gauge', unit: 'By', help: 'Bytes held by the sample store (compressed chunks, heads and bands)', labels: [] },
  { name: 'sextant_process_resident_memory_bytes', type: 'gauge', unit: 'By', help: 'Resident set size of this process', labels: [] },
  { name: 'sextant_uptime_seconds', type: 'gauge', unit: 's', help: 'Seconds since the runtime started', labels: [] },
  // Plugin instances
  { name: 'sextant_plugin_status', type: 'gauge', unit: '1', help: 'Current state of each plugin instance (1 = in that state)', labels: ['plugin', 'instance', 'state'] },
  { name: 'sextant_plugin_failures_total', type: 'counter', unit: '1', help: 'Failed collect/process calls per instance', labels: ['plugin', 'instance'] },
  { name: 'sextant_collect_duration_seconds', type: 'histogram', unit: 's', help: 'Duration of collect() rounds, by plugin', labels: ['plugin'], buckets: DURATION_BUCKETS },
  { name: 'sextant_collect_rounds_skipped_total', type: 'counter', unit: '1', help: 'Collection rounds not started because the previous collect() had not returned', labels: ['plugin', 'instance'] },
  // Learned state
  { name: 'sextant_checkpoints_total', type: 'counter', unit: '1', help: 'Checkpoints of learned state written to the data directory', labels: [] },
  { name: 'sextant_checkpoint_duration_seconds', type: 'gauge', unit: 's', help: 'How long the last checkpoint of learned state took', labels: [] },
  // Notifications and the outbox
  { name: 'sextant_notifications_pending', type: 'gauge', unit: '1', help: 'Notifications waiting for delivery', labels: [] },
  { name: 'sextant_notifications_queued_total', type: 'counter', unit: '1', help: 'Notifications queued, by notifier', labels: ['notifier'] },
  { name: 'sextant_notifications_delivered_total', type: 'counter', unit: '1', help: 'Notifications delivered, by notifier', labels: ['notifier'] },
  { name: 'sextant_notification_delivery_seconds', type: 'histogram', unit: 's', help: 'Time from queueing a notification to its delivery (retries included), by notifier', labels: ['notifier'], buckets: DELIVERY_BUCKETS },
  { name: 'sextant_notification_failures_total', type: 'counter', unit: '1', help: 'Failed delivery attempts, by notifier', labels: ['notifier'] },
  { name: 'sextant_notifications_rejected_total', type: 'counter', unit: '1', help: 'Notifications refused permanently by the receiver (not retried)', labels: ['notifier'] },
  { name: 'sextant_notifications_expired_total', type: 'counter', unit: '1', help: 'Notifications given up after the expiry without delivery', labels: ['notifier'] },
  { name: 'sextant_notifications_held_total', type: 'counter', unit: '1', help: 'Incident updates stored but not delivered (silenced, maintenance)', labels: [] },
  { name: 'sextant_notifications_filtered_total', type: 'counter', unit: '1', help: 'Incident updates not sent to a notifier because its route did not match', labels: ['notifier'] },
  { name: 'sextant_notifications_duplicate_total', type: 'counter', unit: '1', help: 'Incident updates enqueued twice for the same notifier (same idempotency key), ignored', labels: ['notifier'] },
  { name: 'sextant_notifications_invalid_total', type: 'counter', unit: '1', help: 'Incident updates refused by the outbox (no incident id or a sequence that is not a non-negative integer)', labels: [] },
  { name: 'sextant_notifications_after_close_total', type: 'counter', unit: '1', help: 'Incident updates published while the outbox was closing, not recorded', labels: [] },
  { name: 'sextant_outbox_pending', type: 'gauge', unit: '1', help: 'Notifications waiting for delivery, by notifier', labels: ['notifier'] },
  { name: 'sextant_outbox_oldest_pending_age_seconds', type: 'gauge', unit: 's', help: 'Age of the oldest undelivered notification, by notifier', labels: ['notifier'] },
  { name: 'sextant_outbox_unwritten_records', type: 'gauge', unit: '1', help: 'Outbox records buffered in memory because the store could not be written', labels: [] },
  { name: 'sextant_outbox_restored_total', type: 'counter', unit: '1', help: 'Undelivered notifications brought back from the store at start', labels: [] },
  { name: 'sextant_outbox_records_skipped_total', type: 'counter', unit: '1', help: 'Stored outbox records that could not be read back (torn or malformed) and were skipped', labels: [] },
  { name: 'sextant_outbox_store_errors_total', type: 'counter', unit: '1', help: 'Outbox store operations that failed (retried; entries stay in memory meanwhile)', labels: ['op'] },
  // HTTP
  { name: 'sextant_http_requests_total', type: 'counter', unit: '1', help: 'HTTP requests answered by the API server, by route and status code', labels: ['route', 'code'] },
  // Self-telemetry
  { name: 'sextant_telemetry_refused_total', type: 'counter', unit: '1', help: 'Metric recordings refused (a name used as two types, or an invalid name); the error names the metric', labels: ['metric'] },
];

const BY_NAME = new Map(RUNTIME_METRICS.map((m) => [m.name, m]));

/** The spec of a listed metric. */
export function metricSpec(name: string): MetricSpec | undefined {
  return BY_NAME.get(name);
}

/** The Markdown table the README shows (between `<!-- metrics:begin -->` and `<!-- metrics:end -->`). */
export function metricTableMarkdown(specs: readonly MetricSpec[] = RUNTIME_METRICS): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = specs.map((m) => `| \`${m.name}\` | ${m.type} | ${m.unit} | ${m.labels.length ? m.labels.map((l) => `\`${l}\``).join(', ') : '—'} | ${cell(m.help)} |`);
  return ['| name | type | unit | labels | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
