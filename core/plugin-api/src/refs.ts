/**
 * Typed references (docs/architecture.md, "Extension points"; after Backstage's extension points and service refs).
 *
 * A ref is one object that carries an id, a DI token and — at the type level only — the interface
 * behind it. Plugins list the refs they need in `deps`; the runtime resolves each to an
 * implementation. The token is `Symbol.for(...)` keyed by id and contract major, so two copies of
 * this package (one bundled with a plugin, one with the runtime) still agree on it.
 *
 * Interfaces behind a ref only grow: new methods may be added, nothing is removed or changed.
 * A breaking change is a new ref with a higher `version` (`collectors` v2), side by side with v1.
 */
import type { Clock, CollectorFactory, CorrelatorFactory, DetectorFactory, ExporterFactory, Logger, NotifierFactory, SelfMetrics } from './components.js';
import type { HttpRouterService } from './http-router.js';
import { assertKebabId } from './ids.js';

export interface Ref<T> {
  readonly $$type: '@sextant/Ref';
  readonly scope: 'extension-point' | 'service';
  readonly id: string;
  /** Contract major version of the interface behind this ref. */
  readonly version: number;
  /** The DI token the runtime binds the implementation to. */
  readonly token: symbol;
  /** Phantom field carrying `T`; never set at run time. */
  readonly T?: T;
}

export type ExtensionPointRef<T> = Ref<T> & { readonly scope: 'extension-point' };
export type ServiceRef<T> = Ref<T> & { readonly scope: 'service' };

/** The implementation type behind a ref. */
export type RefValue<R> = R extends Ref<infer T> ? T : never;

function tokenFor(scope: string, id: string, version: number): symbol {
  return Symbol.for(`@sextant/${scope}:${id}@v${version}`);
}

/** Declares an extension point. `id` must be kebab-case. */
export function createExtensionPoint<T>(options: { id: string; version?: number }): ExtensionPointRef<T> {
  assertKebabId(options.id, 'extension point id');
  const version = options.version ?? 1;
  return Object.freeze({ $$type: '@sextant/Ref', scope: 'extension-point', id: options.id, version, token: tokenFor('extension-point', options.id, version) });
}

/**
 * Declares a service: one the runtime provides to every plugin (`coreServices`), or one a plugin
 * provides to others (`createPlugin({ provides })`, e.g. the Kubernetes plugin's extension
 * registry that the OpenShift plugin depends on). `id` must be kebab-case and unique in a runtime;
 * prefix it with the owning plugin id (`kubernetes-extensions`).
 */
export function createServiceRef<T>(options: { id: string; version?: number }): ServiceRef<T> {
  assertKebabId(options.id, 'service id');
  const version = options.version ?? 1;
  return Object.freeze({ $$type: '@sextant/Ref', scope: 'service', id: options.id, version, token: tokenFor('service', options.id, version) });
}

export function isRef(value: unknown): value is Ref<unknown> {
  return typeof value === 'object' && value !== null && (value as { $$type?: unknown }).$$type === '@sextant/Ref';
}

// ---------------------------------------------------------------------------------------------
// The extension points

/** Register collector factories: sources of samples, events and topology. */
export interface CollectorsExtensionPoint {
  addFactory(factory: CollectorFactory<any>): void;
}
/** Register detector factories: consumers of samples that raise anomalies. */
export interface DetectorsExtensionPoint {
  addFactory(factory: DetectorFactory<any>): void;
}
/** Register correlator factories: consumers of anomalies and events that produce incidents. */
export interface CorrelatorsExtensionPoint {
  addFactory(factory: CorrelatorFactory<any>): void;
}
/** Register notifier factories: deliver incident updates to people and systems. */
export interface NotifiersExtensionPoint {
  addFactory(factory: NotifierFactory<any>): void;
}

export const collectorsExtensionPoint = createExtensionPoint<CollectorsExtensionPoint>({ id: 'collectors' });
export const detectorsExtensionPoint = createExtensionPoint<DetectorsExtensionPoint>({ id: 'detectors' });
export const correlatorsExtensionPoint = createExtensionPoint<CorrelatorsExtensionPoint>({ id: 'correlators' });
export const notifiersExtensionPoint = createExtensionPoint<NotifiersExtensionPoint>({ id: 'notifiers' });

/** Register exporter factories: send samples, expectations and anomalies to other systems. */
export interface ExportersExtensionPoint {
  addFactory(factory: ExporterFactory<any>): void;
}
export const exportersExtensionPoint = createExtensionPoint<ExportersExtensionPoint>({ id: 'exporters' });

/** The extension-point kinds, as named in package manifests (`provides`). */
export type ExtensionKind = 'collector' | 'detector' | 'correlator' | 'notifier' | 'exporter';
export const EXTENSION_KINDS: readonly ExtensionKind[] = ['collector', 'detector', 'correlator', 'notifier', 'exporter'];

/** The plugin's private state: a directory that survives restarts, when the runtime has a `dataDir`. */
export interface PluginStateService {
  /** `<dataDir>/plugins/<pluginId>`, created on first use; undefined without a runtime `dataDir`. */
  readonly dataDir: string | undefined;
}

/** Settings for the whole plugin (not one instance): `plugins.config.<pluginId>` in sextant.yaml; `{}` when absent. */
export type PluginConfigService = Readonly<Record<string, unknown>>;

/**
 * Services every runtime provides to plugins at registration time. The plugin-scoped ones (logger,
 * metrics, config, state) are made for each plugin: two plugins never share one.
 */
export const coreServices = {
  /** A logger scoped to the registering plugin (its lines carry the plugin id). */
  logger: createServiceRef<Logger>({ id: 'logger' }),
  /** Self-metrics of the plugin, on the runtime's /metrics with a `plugin` label. */
  metrics: createServiceRef<SelfMetrics>({ id: 'self-metrics' }),
  /** Plugin-wide settings from `plugins.config.<pluginId>`. */
  config: createServiceRef<PluginConfigService>({ id: 'plugin-config' }),
  /** The plugin's own data directory. */
  state: createServiceRef<PluginStateService>({ id: 'plugin-state' }),
  /** The runtime's clock (a FakeClock in tests). */
  clock: createServiceRef<Clock>({ id: 'clock' }),
  /** The runtime's HTTP server: mount a receiver at `/ingest/<name>/` instead of opening a port (http-router.ts). */
  httpRouter: createServiceRef<HttpRouterService>({ id: 'http-router' }),
} as const;
