/**
 * @sextant/runtime — runs plugins. Distributions (the CLI, custom builds) use this package;
 * plugins never import it.
 */
export { Runtime, defaultHostResource } from './runtime/runtime.js';
export type { RuntimeOptions, StartupProblem, PluginInfo, InstanceStatus, RemotePluginLauncher } from './runtime/runtime.js';
export {
  parseRuntimeConfig,
  loadRuntimeConfigFile,
  validateRuntimeConfig,
  runtimeConfigSchema,
  parseDuration,
  configError,
  instanceSpecs,
  substituteReferences,
  ISOLATION_MODES,
} from './config/runtime-config.js';
export type { RuntimeConfig, RuntimeConfigInput, LoadedConfig, InstanceSpec, Isolation } from './config/runtime-config.js';
export { discoverPlugins, loadPluginModule, nodeModulesChain, SUPPORTED_PROTOCOLS } from './plugins/plugin-discovery.js';
export type { PluginCandidate, BuiltinPlugin, DiscoveryOptions } from './plugins/plugin-discovery.js';
export { Pipeline, DROP_REASONS } from './pipeline/pipeline.js';
export type { SampleObserver, StoredEvent, DropReason } from './pipeline/pipeline.js';
export { NotificationDispatcher } from './pipeline/notification-dispatcher.js';
export { SeriesRegistry, seriesKey } from './store/series-registry.js';
export type { SeriesRecord } from './store/series-registry.js';
export { SampleStore } from './store/sample-store.js';
export type { SamplePoint } from './store/sample-store.js';
export { MutableBatch } from './store/mutable-batch.js';
export { TopologyGraph } from './store/topology-graph.js';
export { SelfTelemetry } from './telemetry/self-telemetry.js';
export { createLogger } from './telemetry/logger.js';
export type { LogLevel, LogOptions } from './telemetry/logger.js';
export { systemClock } from './telemetry/system-clock.js';
export { ApiServer } from './http/api-server.js';
export type { ApiServerOptions } from './http/api-server.js';
export { discoveryPlugins } from './http/autodiscovery-view.js';
export * from './autodiscovery/index.js';
export * from './outbox/index.js';
