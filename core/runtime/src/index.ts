/**
 * @sextant/runtime — runs plugins. Distributions (the CLI, custom builds), the testkit, the
 * cluster package and benchmarks use this package; plugins never import it (they see only
 * @sextant/plugin-api).
 *
 * This is the public surface, on purpose: the Runtime facade and its types, configuration
 * loading, what a distribution passes in (built-in plugins, a remote launcher, an outbox store),
 * the HTTP API server, autodiscovery for the CLI, and the data structures benchmarks and the
 * cluster build on. The runtime's internal services (plugin registry, instance manager, remote
 * host, learned state, the pipeline's classes, DI tokens) are reached through `Runtime`, not
 * imported (docs/architecture.md, "Runtime").
 */
export { Runtime, defaultHostResource } from './runtime/runtime.js';
export type { RuntimeOptions, StartupProblem, PluginInfo, InstanceStatus, RemotePluginLauncher } from './runtime/runtime.js';

export { loadRuntimeConfigFile, validateRuntimeConfig, configError, instanceSpecs } from './config/runtime-config.js';
export type { RuntimeConfig, RuntimeConfigInput, LoadedConfig, InstanceSpec, Isolation } from './config/runtime-config.js';

export { SUPPORTED_PROTOCOLS } from './plugins/plugin-discovery.js';
export type { PluginCandidate, BuiltinPlugin } from './plugins/plugin-discovery.js';

// Types of what Runtime exposes (runtime.pipeline, .registry, .store, .topology, .telemetry, .dispatcher).
export type { Pipeline, SampleObserver, StoredEvent, DropReason, GroupView, DetectorView } from './pipeline/pipeline.js';
export type { NotificationDispatcher } from './outbox/notification-dispatcher.js';
export type { SelfTelemetry } from './telemetry/self-telemetry.js';
export type { SeriesRecord } from './store/series-registry.js';
export type { SamplePoint } from './store/sample-store.js';

// Data structures benchmarks and @sextant/cluster build on directly.
export { SeriesRegistry, seriesKey } from './store/series-registry.js';
export { SampleStore } from './store/sample-store.js';
export { MutableBatch } from './store/mutable-batch.js';
export { TopologyGraph } from './store/topology-graph.js';

export { createLogger } from './telemetry/logger.js';
export type { LogLevel, LogOptions } from './telemetry/logger.js';

export { ApiServer } from './http/api-server.js';
export type { ApiServerOptions } from './http/api-server.js';
export { discoveryPlugins } from './http/autodiscovery-view.js';

export { AutodiscoveryController, CONTAINER_ENTITY_KEYS, discoveredContainerFromEntity, explainContainer } from './autodiscovery/index.js';
export type { AutodiscoveryControllerOptions, DiscoveredContainer, DiscoveredInstance, ContainerMatchResult } from './autodiscovery/index.js';

// Where undelivered notifications are kept (RuntimeOptions.outboxStore).
export { RedisOutboxStore, JournalOutboxStore, MemoryOutboxStore } from './outbox/index.js';
export type { OutboxStore, OutboxStoreReporter, OutboxEntry, OutboxSettlement, RedisOutboxStoreOptions, JournalOutboxStoreOptions } from './outbox/index.js';
// Routing of incident updates to notifiers (a cluster's group outbox routes like the runtime's).
export { routeMatches, fullJitterBackoffMs } from './outbox/index.js';
export type { NotificationRoute, DeliveryRow } from './outbox/index.js';
