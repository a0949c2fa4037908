/**
 * @sextant/plugin-api — the contract between Sextant and its plugins.
 *
 * This is the package every plugin depends on (as a peer dependency): types, refs, factories,
 * config validation and coded errors. It has no runtime behaviour beyond validation: no DI
 * container, no gRPC, no I/O. Helpers that do something (durations, rates, capped body reads,
 * backoff, secret comparison, globs) live in `@sextant/plugin-kit`; guarded outbound HTTP, the
 * SSRF guard and incident templates in `@sextant/integration-kit`.
 */
export type {
  AttributeValue,
  Attributes,
  MetricType,
  MetricKind,
  SeriesDescriptor,
  SeriesId,
  SampleBatch,
  Sample,
  Severity,
  SextantEvent,
  EntityType,
  TopologyEntity,
  TopologyEdge,
  TopologyUpdate,
  LearningState,
  AnomalyKind,
  Anomaly,
  AnomalyInput,
  ImpactClass,
  LikelyCause,
  TimelineEntry,
  Suppression,
  Incident,
  IncidentUpdate,
} from './model.js';
export { entityId, CONTAINER_ENTITY_KEYS } from './model.js';

export { ErrorCode, SextantError, isSextantError, formatError, toSextantError } from './errors.js';
export type { ErrorCodeValue, SextantErrorOptions } from './errors.js';

export { validateConfig, mergeDefaults } from './config.js';
export type { ConfigIssue, ConfigResult, StandardSchemaV1 } from './config.js';

export { isKebabId, assertKebabId } from './ids.js';

export {
  STABILITY_LEVELS,
  createCollectorFactory,
  createDetectorFactory,
  createCorrelatorFactory,
  createNotifierFactory,
  createExporterFactory,
  LEARNING_STATE_CODES,
} from './components.js';
export type {
  Stability,
  Logger,
  Clock,
  HealthState,
  StatusReporter,
  SelfCounter,
  SelfGauge,
  SelfMetrics,
  TelemetrySink,
  SeriesCatalog,
  TopologyView,
  BaseContext,
  Component,
  CollectorContext,
  Collector,
  SeriesExpectation,
  FeedbackVerdict,
  FeedbackRecord,
  DetectorContext,
  Detector,
  CorrelatorContext,
  Correlator,
  Notification,
  DeliveryOutcome,
  NotifierContext,
  Notifier,
  ComponentFactory,
  CollectorFactory,
  DetectorFactory,
  CorrelatorFactory,
  NotifierFactory,
  ExpectationColumns,
  ExporterContext,
  Exporter,
  ExporterFactory,
} from './components.js';

export {
  createExtensionPoint,
  createServiceRef,
  isRef,
  collectorsExtensionPoint,
  detectorsExtensionPoint,
  correlatorsExtensionPoint,
  notifiersExtensionPoint,
  exportersExtensionPoint,
  coreServices,
  EXTENSION_KINDS,
} from './refs.js';
export type {
  Ref,
  RefValue,
  ExtensionPointRef,
  ServiceRef,
  ExtensionKind,
  CollectorsExtensionPoint,
  DetectorsExtensionPoint,
  CorrelatorsExtensionPoint,
  NotifiersExtensionPoint,
  ExportersExtensionPoint,
  PluginStateService,
  PluginConfigService,
} from './refs.js';

export { createPlugin, createModule, isSextantPlugin, pluginDisplayId, PLUGIN_CONTRACT_VERSION } from './plugin.js';
export type { SextantPlugin, DepsMap, ResolvedDeps, ProvidedServices, ServicesMap, CreatePluginOptions, CreateModuleOptions } from './plugin.js';

export type { HttpRouterService, HttpMount, HttpMountOptions, HttpRouteRequest, HttpRouteResponse } from './http-router.js';

export { parseManifest } from './manifest.js';
export type { PluginManifest, DiscoveryRule, ManifestResult } from './manifest.js';
