/**
 * @sextant/protocol — plugins over gRPC (docs/architecture.md, "Plugin protocol").
 *
 * Host side: {@link launchPluginProcess} runs a plugin as a supervised child and returns a local
 * plugin whose factories proxy to it. Child side: `@sextant/protocol/serve` (servePlugin) and the
 * generic `@sextant/protocol/child` program. The wire contract is `proto/sextant/plugin/v1/plugin.proto`.
 */
export { launchPluginProcess, decodeDescribe } from './launch.js';
export type { LaunchPluginProcessOptions, RemotePlugin, RemotePluginDescription } from './launch.js';
export { PLUGIN_CRASHED_CODE, PLUGIN_QUARANTINED_CODE } from './supervisor.js';
export type { RemotePluginState, RemotePluginStatus, RestartPolicy } from './supervisor.js';
export type { RemoteFactoryDescription } from './remote-components.js';
export {
  PLUGIN_MAGIC_COOKIE,
  HANDSHAKE_PREFIX,
  HANDSHAKE_FORMAT_VERSION,
  SUPPORTED_PROTOCOLS,
  PluginEnv,
  formatHandshakeLine,
  parseHandshakeLine,
  negotiateProtocol,
} from './handshake.js';
export type { HandshakeLine } from './handshake.js';
export { PLUGIN_CHANNEL_OPTIONS } from './plugin-process.js';
export { LocalFactoryRegistry } from './local-registry.js';

// Agent-to-server ingest (sextant.ingest.v1), owned by src/ingest/.
export * from './ingest/index.js';
