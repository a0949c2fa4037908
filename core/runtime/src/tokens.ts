/**
 * DI tokens of the runtime's own services. Plugins never see these: they get extension points and
 * core services through refs from @sextant/plugin-api.
 */
export const TOKENS = {
  telemetry: Symbol.for('@sextant/runtime:self-telemetry'),
  registry: Symbol.for('@sextant/runtime:series-registry'),
  store: Symbol.for('@sextant/runtime:sample-store'),
  topology: Symbol.for('@sextant/runtime:topology'),
  clock: Symbol.for('@sextant/runtime:clock'),
  logOptions: Symbol.for('@sextant/runtime:log-options'),
  storeLimits: Symbol.for('@sextant/runtime:store-limits'),
  pipeline: Symbol.for('@sextant/runtime:pipeline'),
  logger: Symbol.for('@sextant/runtime:logger'),
} as const;
