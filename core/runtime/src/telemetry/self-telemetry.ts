/**
 * Sextant's own metrics: a small registry of counters, gauges and histograms that renders the
 * Prometheus text exposition format on `/metrics`, and mirrors every counter and histogram to
 * `@opentelemetry/api` (a no-op unless the distribution installs an SDK).
 *
 * Label sets are bounded by construction: callers pass plugin ids, instance ids and reason codes,
 * never user data.
 */
import { metrics as otelMetrics, type Counter as OtelCounter, type Histogram as OtelHistogram } from '@opentelemetry/api';
import type { Attributes } from '@sextant/plugin-api';

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly kind: Kind;
  readonly values: Map<string, { labels: Attributes; value: number }>;
  /** Histogram state per label set. */
  readonly histograms?: Map<string, { labels: Attributes; buckets: Float64Array; sum: number; count: number }>;
  readonly bounds?: readonly number[];
  otelCounter?: OtelCounter;
  otelHistogram?: OtelHistogram;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Attributes | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}=${String(labels[k])}`).join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function renderLabels(labels: Attributes, extra?: [string, string]): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${sanitizeLabelName(k)}="${escapeLabel(String(labels[k]))}"`);
  if (extra) parts.push(`${extra[0]}="${extra[1]}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class SelfTelemetry {
  private readonly families = new Map<string, Family>();
  private readonly meter = otelMetrics.getMeter('@sextant/runtime');

  private family(name: string, help: string, kind: Kind, bounds?: readonly number[]): Family {
    if (!NAME_RE.test(name)) throw new TypeError(`invalid metric name ${name}`);
    let f = this.families.get(name);
    if (!f) {
      f = {
        name,
        help,
        kind,
        values: new Map(),
        ...(kind === 'histogram' ? { histograms: new Map(), bounds: bounds ?? [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] } : {}),
      };
      if (kind === 'counter') f.otelCounter = this.meter.createCounter(name, { description: help });
      if (kind === 'histogram') f.otelHistogram = this.meter.createHistogram(name, { description: help });
      this.families.set(name, f);
    } else if (f.kind !== kind) {
      throw new TypeError(`metric ${name} registered as ${f.kind}, used as ${kind}`);
    }
    return f;
  }

  /** Adds `value` (>= 0) to a counter. */
  add(name: string, help: string, value: number, labels?: Attributes): void {
    if (!(value >= 0)) return;
    const f = this.family(name, help, 'counter');
    const key = labelKey(labels);
    const cur = f.values.get(key);
    if (cur) cur.value += value;
    else f.values.set(key, { labels: labels ?? {}, value });
    f.otelCounter?.add(value, labels as Record<string, string>);
  }

  /** Sets a gauge. */
  set(name: string, help: string, value: number, labels?: Attributes): void {
    const f = this.family(name, help, 'gauge');
    const key = labelKey(labels);
    const cur = f.values.get(key);
    if (cur) cur.value = value;
    else f.values.set(key, { labels: labels ?? {}, value });
  }

  /** Removes one label set of a gauge (an instance that no longer exists). */
  unset(name: string, labels?: Attributes): void {
    this.families.get(name)?.values.delete(labelKey(labels));
  }

  /**
   * Removes every series (counters, gauges, histograms) whose labels include all of `match`, e.g.
   * `{ instance: id }` when an instance is removed, so /metrics does not report it forever.
   */
  removeSeries(match: Attributes): void {
    const matches = (labels: Attributes) => Object.entries(match).every(([k, v]) => labels[k] === v);
    for (const f of this.families.values()) {
      for (const [key, { labels }] of f.values) if (matches(labels)) f.values.delete(key);
      if (f.histograms) for (const [key, { labels }] of f.histograms) if (matches(labels)) f.histograms.delete(key);
    }
  }

  /** Records one observation in a histogram (seconds, by convention). */
  observe(name: string, help: string, value: number, labels?: Attributes, bounds?: readonly number[]): void {
    const f = this.family(name, help, 'histogram', bounds);
    const key = labelKey(labels);
    let h = f.histograms!.get(key);
    if (!h) {
      h = { labels: labels ?? {}, buckets: new Float64Array(f.bounds!.length), sum: 0, count: 0 };
      f.histograms!.set(key, h);
    }
    for (let i = 0; i < f.bounds!.length; i++) if (value <= f.bounds![i]) h.buckets[i]++;
    h.sum += value;
    h.count++;
    f.otelHistogram?.record(value, labels as Record<string, string>);
  }

  /** Current value of a counter or gauge (0 when never set): for tests and the CLI. */
  value(name: string, labels?: Attributes): number {
    return this.families.get(name)?.values.get(labelKey(labels))?.value ?? 0;
  }

  /** Sum of a counter over every label set that includes `match`. */
  sum(name: string, match: Attributes = {}): number {
    const f = this.families.get(name);
    if (!f) return 0;
    let total = 0;
    for (const { labels, value } of f.values.values()) {
      if (Object.entries(match).every(([k, v]) => labels[k] === v)) total += value;
    }
    return total;
  }

  /** Prometheus text exposition format 0.0.4. */
  renderPrometheus(): string {
    const out: string[] = [];
    for (const f of [...this.families.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\n/g, ' ')}`);
      out.push(`# TYPE ${f.name} ${f.kind}`);
      if (f.kind === 'histogram') {
        for (const h of f.histograms!.values()) {
          f.bounds!.forEach((b, i) => out.push(`${f.name}_bucket${renderLabels(h.labels, ['le', String(b)])} ${h.buckets[i]}`));
          out.push(`${f.name}_bucket${renderLabels(h.labels, ['le', '+Inf'])} ${h.count}`);
          out.push(`${f.name}_sum${renderLabels(h.labels)} ${formatNumber(h.sum)}`);
          out.push(`${f.name}_count${renderLabels(h.labels)} ${h.count}`);
        }
      } else {
        for (const { labels, value } of f.values.values()) out.push(`${f.name}${renderLabels(labels)} ${formatNumber(value)}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
