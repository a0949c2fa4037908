/**
 * Sextant's own metrics on prom-client: counters, gauges and histograms rendered in the Prometheus
 * text exposition format on `/metrics` (prom-client does the escaping of HELP and label values and
 * refuses a second metric of one name), and every counter and histogram mirrored to
 * `@opentelemetry/api` (a no-op unless the distribution installs an SDK).
 *
 * Why prom-client and not @opentelemetry/sdk-metrics + its Prometheus exporter: prom-client writes
 * the exposition Prometheus itself parses (checked with `promtool check metrics` in the tests) with
 * our names as given, while the OpenTelemetry exporter rewrites names (unit suffixes), adds
 * `target_info` and scope labels, collects asynchronously and cannot forget an attribute set — and
 * this runtime must remove a removed instance's series. Recording is a hash lookup and an add.
 *
 * Names listed in `metrics.ts` take their help, type, labels and buckets from there. Other names
 * (plugins' `sextant_plugin_*`, the CLI's ingest counters) are created on first use with the help
 * the caller gives. Using a name as two types, or a name Prometheus cannot carry, is refused with a
 * `SEXTANT_ERR_CONFIG_INVALID` error naming the metric (and counted in
 * `sextant_telemetry_refused_total`); the exposition stays valid.
 *
 * Label sets are bounded by construction: callers pass plugin ids, instance ids and reason codes,
 * never user data. Label names are sanitized to `[a-zA-Z0-9_]`.
 *
 * `value()` and `sum()` answer synchronously (tests, the CLI): counters and gauges keep their current
 * value per label set next to prom-client's copy, which is also what lets a family gain a label name
 * after its first use (prom-client fixes label names at creation; the family is then re-created).
 */
import { metrics as otelMetrics, type Counter as OtelCounter, type Histogram as OtelHistogram } from '@opentelemetry/api';
import { ErrorCode, SextantError, type Attributes } from '@sextant/plugin-api';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { metricSpec, type MetricType } from './metrics.js';

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const DEFAULT_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

type Labels = Record<string, string>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly buckets: readonly number[];
  labelNames: string[];
  metric: Counter<string> | Gauge<string> | Histogram<string>;
  /** Counters and gauges: current value per label set (key: labelKey). Histograms: labels only. */
  readonly series: Map<string, { labels: Labels; value: number }>;
  otelCounter?: OtelCounter;
  otelHistogram?: OtelHistogram;
}

function sanitizeLabelName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

/** Label values as strings under Prometheus-safe names, keys sorted (stable keys). */
function normalize(labels: Attributes | undefined): Labels {
  const out: Labels = {};
  if (!labels) return out;
  for (const k of Object.keys(labels).sort()) {
    const v = labels[k];
    if (v !== undefined) out[sanitizeLabelName(k)] = String(v);
  }
  return out;
}

function labelKey(labels: Labels): string {
  let key = '';
  for (const k in labels) key += `${k}\u0000${labels[k]}\u0001`;
  return key;
}

function matches(labels: Labels, match: Labels): boolean {
  for (const k in match) if (labels[k] !== match[k]) return false;
  return true;
}

export class SelfTelemetry {
  private readonly registry = new Registry();
  private readonly families = new Map<string, Family>();
  private readonly meter = otelMetrics.getMeter('@sextant/runtime');

  /** The prom-client registry behind `/metrics` (for embedding in another exposition). */
  get promRegistry(): Registry {
    return this.registry;
  }

  private family(name: string, help: string, type: MetricType, bounds?: readonly number[]): Family {
    const existing = this.families.get(name);
    if (existing) {
      if (existing.type !== type) throw this.refuse(name, `metric ${name} is a ${existing.type}; it cannot also be used as a ${type}`, 'give the new metric another name');
      return existing;
    }
    if (!NAME_RE.test(name)) throw this.refuse(name.slice(0, 100), `invalid metric name "${name}"`, 'use letters, digits and _ (Prometheus names), e.g. sextant_plugin_requests_total');
    const spec = metricSpec(name);
    if (spec && spec.type !== type) throw this.refuse(name, `metric ${name} is listed as a ${spec.type} in the runtime's metric table; it cannot be used as a ${type}`, 'use another name (see core/runtime/src/telemetry/metrics.ts)');
    const f: Family = {
      name,
      help: spec?.help ?? (help.trim() || name),
      type,
      buckets: spec?.buckets ?? bounds ?? DEFAULT_BUCKETS,
      labelNames: spec ? spec.labels.map(sanitizeLabelName) : [],
      metric: undefined as unknown as Family['metric'],
      series: new Map(),
    };
    f.metric = this.create(f);
    if (type === 'counter') f.otelCounter = this.meter.createCounter(name, { description: f.help });
    if (type === 'histogram') f.otelHistogram = this.meter.createHistogram(name, { description: f.help, unit: spec?.unit ?? 's' });
    this.families.set(name, f);
    return f;
  }

  private create(f: Family): Family['metric'] {
    const base = { name: f.name, help: f.help, labelNames: f.labelNames, registers: [this.registry] };
    if (f.type === 'counter') return new Counter(base);
    if (f.type === 'gauge') return new Gauge(base);
    return new Histogram({ ...base, buckets: [...f.buckets] });
  }

  /**
   * Makes sure `labels` only uses label names the family's prom-client metric knows; a counter or
   * gauge that meets a new one is re-created with it and its values replayed. A histogram's label
   * names are fixed by its first observation (or the metric table).
   */
  private fit(f: Family, labels: Labels): boolean {
    let fresh: string[] | undefined;
    for (const k in labels) if (!f.labelNames.includes(k)) (fresh ??= []).push(k);
    if (!fresh) return true;
    if (f.type === 'histogram' && f.series.size > 0) {
      this.refuse(f.name, `histogram ${f.name} is recorded with labels ${f.labelNames.join(', ') || '(none)'}, not ${fresh.join(', ')}`, 'record a histogram always with the same label names');
      return false;
    }
    this.registry.removeSingleMetric(f.name);
    f.labelNames = [...f.labelNames, ...fresh];
    f.metric = this.create(f);
    if (f.type !== 'histogram') {
      for (const { labels: l, value } of f.series.values()) {
        if (f.type === 'counter') (f.metric as Counter<string>).inc(l, value);
        else (f.metric as Gauge<string>).set(l, value);
      }
    }
    return true;
  }

  private refuse(name: string, message: string, hint: string): SextantError {
    if (name !== 'sextant_telemetry_refused_total') this.add('sextant_telemetry_refused_total', '', 1, { metric: name });
    return new SextantError(ErrorCode.CONFIG_INVALID, message, { hint });
  }

  /** Adds `value` (finite, >= 0) to a counter; other values are ignored. */
  add(name: string, help: string, value: number, labels?: Attributes): void {
    if (!(value >= 0) || value === Infinity) return;
    const f = this.family(name, help, 'counter');
    const l = normalize(labels);
    if (!this.fit(f, l)) return;
    const key = labelKey(l);
    const cur = f.series.get(key);
    if (cur) cur.value += value;
    else f.series.set(key, { labels: l, value });
    (f.metric as Counter<string>).inc(l, value);
    f.otelCounter?.add(value, l);
  }

  /** Sets a gauge. */
  set(name: string, help: string, value: number, labels?: Attributes): void {
    const f = this.family(name, help, 'gauge');
    const l = normalize(labels);
    if (!this.fit(f, l)) return;
    const key = labelKey(l);
    const cur = f.series.get(key);
    if (cur) cur.value = value;
    else f.series.set(key, { labels: l, value });
    (f.metric as Gauge<string>).set(l, value);
  }

  /** Removes one label set of a gauge (an instance that no longer exists). */
  unset(name: string, labels?: Attributes): void {
    const f = this.families.get(name);
    if (!f) return;
    const l = normalize(labels);
    if (f.series.delete(labelKey(l))) f.metric.remove(l);
  }

  /**
   * Removes every series (counters, gauges, histograms) whose labels include all of `match`, e.g.
   * `{ instance: id }` when an instance is removed, so /metrics does not report it forever.
   */
  removeSeries(match: Attributes): void {
    const m = normalize(match);
    for (const f of this.families.values()) {
      for (const [key, { labels }] of f.series) {
        if (!matches(labels, m)) continue;
        f.series.delete(key);
        f.metric.remove(labels);
      }
    }
  }

  /** Records one observation in a histogram (seconds, by convention). */
  observe(name: string, help: string, value: number, labels?: Attributes, bounds?: readonly number[]): void {
    if (!Number.isFinite(value)) return;
    const f = this.family(name, help, 'histogram', bounds);
    const l = normalize(labels);
    if (!this.fit(f, l)) return;
    const key = labelKey(l);
    if (!f.series.has(key)) f.series.set(key, { labels: l, value: 0 });
    (f.metric as Histogram<string>).observe(l, value);
    f.otelHistogram?.record(value, l);
  }

  /** Current value of a counter or gauge (0 when never set): for tests and the CLI. */
  value(name: string, labels?: Attributes): number {
    const f = this.families.get(name);
    if (!f || f.type === 'histogram') return 0;
    return f.series.get(labelKey(normalize(labels)))?.value ?? 0;
  }

  /** Sum of a counter or gauge over every label set that includes `match`. */
  sum(name: string, match: Attributes = {}): number {
    const f = this.families.get(name);
    if (!f || f.type === 'histogram') return 0;
    const m = normalize(match);
    let total = 0;
    for (const { labels, value } of f.series.values()) if (matches(labels, m)) total += value;
    return total;
  }

  /** Prometheus text exposition format 0.0.4, metrics sorted by name. */
  async renderPrometheus(): Promise<string> {
    const names = [...this.families.keys()].sort();
    const parts = await Promise.all(names.map((n) => this.registry.getSingleMetricAsString(n)));
    return parts.length ? `${parts.join('\n')}\n` : '';
  }

  /** Content type of `renderPrometheus()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
