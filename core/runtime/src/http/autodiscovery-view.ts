/**
 * GET /api/v1/autodiscovery: for every container in the topology, which plugins autodiscovery
 * starts for it and why (the same reasoning as `sextant plugins explain`), and whether that
 * instance is running now. Read-only; computed on request from the topology and the plugin
 * manifests, so it also answers when autodiscovery is turned off (`enabled: false`: nothing is
 * started, the reasons are still shown).
 */
import { discoveredContainerFromEntity, explainContainer, matchContainer, type DiscoveryPlugin } from '../autodiscovery/index.js';
import type { Runtime } from '../runtime/runtime.js';

/** Loaded plugins that declare discovery rules, under the id the runtime loaded them as. */
export function discoveryPlugins(runtime: Runtime): DiscoveryPlugin[] {
  const ids = new Map(runtime.plugins().filter((p) => p.state === 'loaded').map((p) => [p.packageName, p.id]));
  return runtime
    .candidates()
    .filter((c) => c.manifest?.discovery?.length && ids.has(c.packageName))
    .map((c) => ({ pluginId: ids.get(c.packageName)!, packageName: c.packageName, manifest: c.manifest! }));
}

export interface AutodiscoveredContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly state: string;
  /** One line per decision, as `sextant plugins explain` prints them. */
  readonly explain: readonly string[];
  readonly matches: readonly { readonly pluginId: string; readonly factory: string; readonly key: string; readonly reason: string; readonly instanceState?: string }[];
}

export function autodiscoveryView(runtime: Runtime, limit = 1000): { enabled: boolean; containers: AutodiscoveredContainer[] } {
  const plugins = discoveryPlugins(runtime);
  const states = new Map(runtime.statuses().map((s) => [s.id, s.state]));
  const containers: AutodiscoveredContainer[] = [];
  for (const entity of runtime.topology.entities('container')) {
    if (containers.length >= limit) break;
    const c = discoveredContainerFromEntity(entity);
    if (!c) continue;
    const result = matchContainer(c, plugins);
    containers.push({
      id: c.id,
      name: c.name,
      image: c.image,
      state: c.state,
      explain: explainContainer(c, plugins),
      matches: result.matches.map((m) => ({ pluginId: m.pluginId, factory: m.factory, key: m.key, reason: m.reason, ...(states.has(m.key) ? { instanceState: states.get(m.key)! } : {}) })),
    });
  }
  return { enabled: runtime.config.autodiscovery.enabled, containers };
}
