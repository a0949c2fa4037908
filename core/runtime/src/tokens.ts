/**
 * DI tokens of the runtime's own services, bound in the root tsyringe container of each Runtime
 * (runtime/runtime-container.ts builds it; docs/architecture.md, "Runtime", lists them). Plugins
 * never see these: they get extension points and services through refs from @sextant/plugin-api,
 * bound in their own child container (runtime/plugin-scope.ts).
 *
 * A service that needs another takes it by constructor injection (`@inject(TOKENS.x)`); nothing
 * outside runtime-container.ts constructs a service with `new`.
 */
export const TOKENS = {
  /** The root container itself (plugin scopes are its children; plugin-provided services are bound in it). */
  container: Symbol.for('@sextant/runtime:container'),
  /** RuntimeOptions as given to Runtime.load(). */
  options: Symbol.for('@sextant/runtime:options'),
  /** The validated RuntimeConfig (sextant.yaml). */
  config: Symbol.for('@sextant/runtime:config'),
  clock: Symbol.for('@sextant/runtime:clock'),
  logOptions: Symbol.for('@sextant/runtime:log-options'),
  /** The runtime's own logger (scope `runtime`). */
  logger: Symbol.for('@sextant/runtime:logger'),
  /** Attributes of the host this runtime runs on. */
  hostResource: Symbol.for('@sextant/runtime:host-resource'),
  telemetry: Symbol.for('@sextant/runtime:self-telemetry'),
  registry: Symbol.for('@sextant/runtime:series-registry'),
  store: Symbol.for('@sextant/runtime:sample-store'),
  storeLimits: Symbol.for('@sextant/runtime:store-limits'),
  topology: Symbol.for('@sextant/runtime:topology'),
  pipeline: Symbol.for('@sextant/runtime:pipeline'),
  /** The notification outbox and its dispatcher (NotificationDispatcher). */
  outbox: Symbol.for('@sextant/runtime:outbox'),
  /** StartupProblems: what went wrong while loading and starting. */
  problems: Symbol.for('@sextant/runtime:startup-problems'),
  /** LearnedState: restore and checkpoint of learned state in dataDir. */
  checkpoint: Symbol.for('@sextant/runtime:checkpoint'),
  /** CollectorScheduling: makes the CollectorScheduler of each collector instance. */
  scheduler: Symbol.for('@sextant/runtime:collector-scheduling'),
  /** PluginRegistry: discovery, loading, register(), factories, hints. */
  plugins: Symbol.for('@sextant/runtime:plugin-registry'),
  /** RemoteHost: plugin packages running in a supervised child process. */
  remoteHost: Symbol.for('@sextant/runtime:remote-host'),
  /** InstanceManager: component instances, their lifecycle and statuses. */
  instances: Symbol.for('@sextant/runtime:instance-manager'),
} as const;
