/**
 * The root DI container of one Runtime: every runtime service is a token (src/tokens.ts) bound
 * here, and only here, once. Services take each other by constructor injection; plugin scopes are
 * children of this container (plugin-scope.ts), and services plugins provide to each other are
 * bound in it when their provider registers (plugin-registry.ts).
 *
 *   token              service                          made from
 *   options, config    RuntimeOptions, RuntimeConfig     Runtime.load() arguments
 *   clock, logger      Clock, Logger ('runtime')         options.clock ?? system clock; options.log
 *   hostResource       Attributes of this host           options.hostResource ?? /etc/machine-id, os
 *   telemetry          SelfTelemetry (/metrics)
 *   registry, store    SeriesRegistry, SampleStore      config.store
 *   topology           TopologyGraph
 *   pipeline           Pipeline                         @injectable
 *   outbox             NotificationDispatcher            config.notifications, options.outboxStore / dataDir
 *   checkpoint         LearnedState                     @injectable; config.dataDir, config.checkpoint
 *   scheduler          CollectorScheduling              clock, options.collectImmediately
 *   problems           StartupProblems                  @injectable
 *   plugins            PluginRegistry                   @injectable
 *   remoteHost         RemoteHost                       @injectable; options.launchRemote
 *   instances          InstanceManager                  @injectable
 *
 * plus `coreServices.clock` (plugin-api) as an alias of `clock` for plugins.
 */
import { readFileSync } from 'node:fs';
import { arch, hostname, type } from 'node:os';
import { container as globalContainer, instanceCachingFactory, Lifecycle, type DependencyContainer } from 'tsyringe';
import { coreServices, type Attributes, type Clock } from '@sextant/plugin-api';
import type { RuntimeConfig } from '../config/runtime-config.js';
import { NotificationDispatcher } from '../outbox/notification-dispatcher.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { SampleStore } from '../store/sample-store.js';
import { SeriesRegistry } from '../store/series-registry.js';
import { TopologyGraph } from '../store/topology-graph.js';
import { createLogger } from '../telemetry/logger.js';
import { IngestRoutes } from '../http/ingest-routes.js';
import { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { systemClock } from '../telemetry/system-clock.js';
import { TOKENS } from '../tokens.js';
import { CollectorScheduling } from './collector-scheduler.js';
import { InstanceManager } from './instance-manager.js';
import { LearnedState } from './learned-state.js';
import { PluginRegistry } from './plugin-registry.js';
import { RemoteHost } from './remote-host.js';
import type { RuntimeOptions } from './runtime-options.js';
import { StartupProblems } from './startup-problems.js';

/** Attributes of the host this runtime runs on (OpenTelemetry semantic conventions). */
export function defaultHostResource(): Attributes {
  let hostId: string | undefined;
  try {
    hostId = readFileSync('/etc/machine-id', 'utf8').trim() || undefined;
  } catch {
    hostId = undefined;
  }
  return { 'host.name': hostname(), ...(hostId ? { 'host.id': hostId } : {}), 'os.type': type().toLowerCase(), 'host.arch': arch() };
}

/** A fresh root container with every runtime service bound (each built on first resolve, once). */
export function createRuntimeContainer(options: RuntimeOptions): DependencyContainer {
  const c = globalContainer.createChildContainer();
  // Singleton: one instance per registration, also when resolved through a plugin's child container.
  const singleton = { lifecycle: Lifecycle.Singleton } as const;
  const config: RuntimeConfig = options.config;
  c.register(TOKENS.container, { useValue: c });
  c.register(TOKENS.options, { useValue: options });
  c.register(TOKENS.config, { useValue: config });
  c.register(TOKENS.logOptions, { useValue: options.log ?? {} });
  c.register(TOKENS.clock, { useValue: options.clock ?? systemClock });
  c.register(coreServices.clock.token, { useToken: TOKENS.clock });
  c.register(TOKENS.logger, { useValue: createLogger('runtime', options.log) });
  c.register(TOKENS.hostResource, { useValue: options.hostResource ?? defaultHostResource() });
  c.register(TOKENS.telemetry, { useValue: new SelfTelemetry() });
  // coreServices.httpRouter: receivers mount under /ingest/<instance>/ of the API server (http/ingest-routes.ts).
  c.register(coreServices.httpRouter.token, { useValue: new IngestRoutes(() => config.server.enabled, createLogger('http', options.log)) });
  c.register(TOKENS.registry, { useValue: new SeriesRegistry(config.store.maxSeries) });
  c.register(TOKENS.store, { useValue: new SampleStore(config.store.points, 256) });
  c.register(TOKENS.topology, { useValue: new TopologyGraph() });
  c.register(TOKENS.storeLimits, { useValue: { anomalies: config.store.anomalies, events: config.store.events, maxFutureMs: config.store.maxFuture } });
  c.register(TOKENS.pipeline, { useClass: Pipeline }, singleton);
  c.register(TOKENS.outbox, {
    useFactory: instanceCachingFactory((r) => {
      const n = config.notifications;
      const topology = r.resolve<TopologyGraph>(TOKENS.topology);
      return new NotificationDispatcher(r.resolve(TOKENS.pipeline), r.resolve(TOKENS.telemetry), r.resolve(TOKENS.clock), createLogger('notify', options.log), {
        initialBackoffMs: n.backoff.initial,
        maxBackoffMs: n.backoff.max,
        expiryMs: n.expiry,
        attemptTimeoutMs: n.attemptTimeout,
        ...(options.outboxStore ? { store: options.outboxStore } : config.dataDir ? { dataDir: config.dataDir } : {}),
        entityAttributes: (id) => topology.entity(id)?.attributes,
      });
    }),
  });
  c.register(TOKENS.scheduler, { useFactory: instanceCachingFactory((r) => new CollectorScheduling(r.resolve<Clock>(TOKENS.clock), options.collectImmediately !== false)) });
  c.register(TOKENS.problems, { useClass: StartupProblems }, singleton);
  c.register(TOKENS.checkpoint, { useClass: LearnedState }, singleton);
  c.register(TOKENS.plugins, { useClass: PluginRegistry }, singleton);
  c.register(TOKENS.remoteHost, { useClass: RemoteHost }, singleton);
  c.register(TOKENS.instances, { useClass: InstanceManager }, singleton);
  return c;
}
