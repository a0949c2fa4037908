/**
 * The `SelfMetrics` a detector or correlator built by the group (partition detectors, the leader's
 * correlators) gets: its counters and gauges on the member's `/metrics` as
 * `sextant_plugin_<name>{plugin, instance}`, as the runtime names those of its own instances.
 */
import type { SelfMetrics } from '@sextant/plugin-api';
import type { Runtime } from '@sextant/runtime';

export function pluginSelfMetrics(runtime: Runtime, plugin: string, instance: string): SelfMetrics {
  const labels = { plugin, instance };
  const clean = (name: string) => `sextant_plugin_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  return {
    counter: (name, description) => ({ add: (v, attrs) => runtime.telemetry.add(clean(name), description, v, { ...labels, ...attrs }) }),
    gauge: (name, description) => ({ set: (v, attrs) => runtime.telemetry.set(clean(name), description, v, { ...labels, ...attrs }) }),
  };
}
