/**
 * One plugin's DI scope: a child of the runtime's root container holding what this plugin, and
 * only this plugin, is given (docs/architecture.md, "Runtime"):
 *
 *   extension points     collectors, detectors, ... — factories are staged here and reach the
 *                        registry only after register() returned (a throwing plugin adds nothing)
 *   coreServices.logger  a logger named after the plugin
 *   coreServices.metrics self-metrics labelled `plugin=<id>` (instances add `instance=<id>`)
 *   coreServices.config  `plugins.config.<pluginId>` from sextant.yaml
 *   coreServices.state   `<dataDir>/plugins/<pluginId>`
 *
 * Runtime-wide services (coreServices.clock) and services other plugins provide are bound in the
 * root container and resolved through it. Plugin authors never see tsyringe.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import {
  ErrorCode,
  SextantError,
  collectorsExtensionPoint,
  coreServices,
  correlatorsExtensionPoint,
  detectorsExtensionPoint,
  exportersExtensionPoint,
  isKebabId,
  notifiersExtensionPoint,
  type Attributes,
  type Component,
  type ComponentFactory,
  type ExtensionKind,
  type Logger,
  type PluginStateService,
  type SelfMetrics,
} from '@sextant/plugin-api';
import type { PluginCandidate } from '../plugins/plugin-discovery.js';
import { createLogger, type LogOptions } from '../telemetry/logger.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';

export type AnyFactory = ComponentFactory<any, any, Component>;

/** A factory as registered: which plugin added it, from which package, in which scope. */
export interface FactoryEntry {
  readonly kind: ExtensionKind;
  readonly factory: AnyFactory;
  readonly pluginId: string;
  readonly candidate: PluginCandidate;
  readonly scope: PluginScope;
}

export const KIND_REFS = {
  collector: collectorsExtensionPoint,
  detector: detectorsExtensionPoint,
  correlator: correlatorsExtensionPoint,
  notifier: notifiersExtensionPoint,
  exporter: exportersExtensionPoint,
} as const;

/** Self-metrics under `sextant_plugin_<name>` with fixed labels; writes stop once `live()` is false. */
export function scopedSelfMetrics(telemetry: SelfTelemetry, labels: Attributes, live: () => boolean = () => true): SelfMetrics {
  const clean = (name: string) => `sextant_plugin_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  return {
    counter: (name, description) => ({ add: (v, attrs) => void (live() && telemetry.add(clean(name), description, v, { ...labels, ...attrs })) }),
    gauge: (name, description) => ({ set: (v, attrs) => void (live() && telemetry.set(clean(name), description, v, { ...labels, ...attrs })) }),
  };
}

export interface PluginScopeServices {
  readonly telemetry: SelfTelemetry;
  readonly logOptions: LogOptions | undefined;
  readonly dataDir: string | undefined;
  readonly pluginConfig: Readonly<Record<string, unknown>>;
}

export class PluginScope {
  readonly container: DependencyContainer;
  readonly logger: Logger;
  readonly metrics: SelfMetrics;
  /** Factories added during register(), handed to the registry after it returned. */
  readonly staged: { kind: ExtensionKind; factory: AnyFactory }[] = [];

  constructor(
    parent: DependencyContainer,
    /** Display id: `nginx`, or `nginx.extra` for a module. */
    readonly pluginId: string,
    private readonly services: PluginScopeServices,
  ) {
    this.container = parent.createChildContainer();
    this.logger = createLogger(pluginId, services.logOptions);
    this.metrics = scopedSelfMetrics(services.telemetry, { plugin: pluginId });
    for (const [kind, ref] of Object.entries(KIND_REFS) as [ExtensionKind, (typeof KIND_REFS)[ExtensionKind]][]) {
      this.container.register(ref.token, { useValue: { addFactory: (factory: AnyFactory) => this.stage(kind, factory) } });
    }
    this.container.register(coreServices.logger.token, { useValue: this.logger });
    this.container.register(coreServices.metrics.token, { useValue: this.metrics });
    this.container.register(coreServices.config.token, { useValue: Object.freeze({ ...services.pluginConfig }) });
    const dir = services.dataDir ? join(services.dataDir, 'plugins', pluginId) : undefined;
    const state: PluginStateService = {
      get dataDir() {
        if (dir) mkdirSync(dir, { recursive: true });
        return dir;
      },
    };
    this.container.register(coreServices.state.token, { useValue: state });
  }

  /** A logger for one instance of this plugin's components (named after the instance). */
  instanceLogger(instanceId: string): Logger {
    return createLogger(instanceId, this.services.logOptions);
  }

  /** Self-metrics of one instance: `plugin` and `instance` labels; silent once the instance is removed. */
  instanceMetrics(instanceId: string, live: () => boolean): SelfMetrics {
    return scopedSelfMetrics(this.services.telemetry, { plugin: this.pluginId, instance: instanceId }, live);
  }

  dispose(): void {
    void this.container.dispose();
  }

  private stage(kind: ExtensionKind, factory: AnyFactory): void {
    if (!factory || typeof factory.create !== 'function' || !isKebabId(factory.type)) {
      throw new SextantError(ErrorCode.PLUGIN_INVALID, `${this.pluginId} added an invalid ${kind} factory (${String(factory?.type)})`, {
        hint: `build factories with create${kind[0].toUpperCase()}${kind.slice(1)}Factory() from @sextant/plugin-api`,
      });
    }
    this.staged.push({ kind, factory });
  }
}
