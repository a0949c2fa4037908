/**
 * Sextant series -> Prometheus label sets.
 *
 * - The metric name keeps what Prometheus allows (`[a-zA-Z_:][a-zA-Z0-9_:]*`); every other
 *   character becomes `_` (`system.cpu.utilization` -> `system_cpu_utilization`). A series scraped
 *   from Prometheus keeps its name unchanged.
 * - Labels are the resource attributes, then the point attributes (which win on a clash), names
 *   sanitised the same way without `:` (`host.name` -> `host_name`); `job` and `instance` are
 *   set from `service.name` and `service.instance.id` when present, which are then not repeated
 *   as `service_name` / `service_instance_id` (the OpenTelemetry-to-Prometheus convention).
 * - Empty values are left out (Prometheus treats an empty label as absent).
 */
import type { Attributes, SeriesDescriptor } from '@sextant/plugin-api';

export function metricName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

export function labelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** Sorted `[name, value]` pairs for one series, `__name__` included. */
export function seriesLabels(name: string, d: Pick<SeriesDescriptor, 'resource' | 'attributes'>, extra: Attributes = {}): [string, string][] {
  const labels = new Map<string, string>();
  const put = (attrs: Attributes) => {
    for (const [k, v] of Object.entries(attrs)) {
      const value = String(v);
      if (value === '') continue;
      labels.set(k === 'service.name' ? 'job' : k === 'service.instance.id' ? 'instance' : labelName(k), value);
    }
  };
  put(d.resource);
  put(d.attributes);
  put(extra);
  labels.set('__name__', name);
  return [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
