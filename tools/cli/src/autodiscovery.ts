/**
 * Zero-config discovery for `sextant run` / `sextant agent`: the containers collector reports
 * containers as topology entities; the AutodiscoveryController matches them against the discovery
 * rules in plugin manifests and starts (and later stops) one collector instance per match.
 */
import { formatError } from '@sextant/plugin-api';
import { AutodiscoveryController, discoveredContainerFromEntity, discoveryPlugins, type DiscoveredContainer, type Runtime } from '@sextant/runtime';

/** Plugins that declare discovery rules (the runtime's view; the API's /api/v1/autodiscovery uses it too). */
export { discoveryPlugins };

export function runningContainers(runtime: Runtime): DiscoveredContainer[] {
  return runtime.topology
    .entities('container')
    .map((e) => discoveredContainerFromEntity(e))
    .filter((c): c is DiscoveredContainer => c !== undefined);
}

/** Starts autodiscovery on a started runtime; returns the controller (shut it down before the runtime). */
export function startAutodiscovery(runtime: Runtime): AutodiscoveryController | undefined {
  const cfg = runtime.config.autodiscovery;
  if (!cfg.enabled) return undefined;
  const controller = new AutodiscoveryController({
    clock: runtime.clock,
    plugins: () => discoveryPlugins(runtime),
    settleMs: cfg.settle,
    async startInstance(key, factory, config) {
      await runtime.addInstance({
        kind: 'collector',
        section: 'collectors',
        id: key,
        type: factory,
        enabled: true,
        config,
        ...(cfg.isolation ? { isolation: cfg.isolation } : {}),
        ...(cfg.interval ? { intervalMs: cfg.interval } : {}),
        ...(cfg.isolation === 'in-container' ? { container: key.split('/c-')[1] ?? key } : {}),
      });
      runtime.logger.info(`autodiscovery: started ${key}`, { factory });
    },
    async stopInstance(key) {
      await runtime.removeInstance(key);
      runtime.logger.info(`autodiscovery: stopped ${key}`);
    },
    onError: (key, e) => runtime.logger.warn(`autodiscovery: ${key}: ${formatError(e)}`),
  });
  runtime.pipeline.onTopology((u) => controller.applyTopology(u));
  controller.resync(runningContainers(runtime));
  return controller;
}
