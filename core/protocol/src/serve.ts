/**
 * `@sextant/protocol/serve` — the SDK entry point a plugin process calls to serve itself:
 *
 * ```ts
 * import plugin from './plugin.js';
 * import { servePlugin } from '@sextant/protocol/serve';
 * await servePlugin(plugin);
 * ```
 *
 * It checks the magic cookie (run by hand, it explains and exits 1), negotiates the protocol,
 * registers the plugin, serves sextant.plugin.v1 and grpc.health.v1 on a unix socket in
 * SEXTANT_PLUGIN_SOCKET_DIR (refusing calls without the per-launch token), prints the one
 * handshake line on stdout and keeps running until the host calls Shutdown or goes away (stdin
 * closes). Everything else the process prints belongs on stderr; the host forwards it to its log.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Server, ServerCredentials, status as grpcStatus } from '@grpc/grpc-js';
import { formatError, isSextantPlugin, pluginDisplayId, type Logger, type SextantPlugin } from '@sextant/plugin-api';
import { bearerTokenServerInterceptor } from './bearer-token.js';
import { encodeCollectResponse } from './collect-wire.js';
import { HealthCheckResponse_ServingStatus, HealthService, type HealthServer } from './gen/grpc/health/v1/health.js';
import { PluginService } from './gen/sextant/plugin/v1/plugin.js';
import { PLUGIN_MAGIC_COOKIE, PluginEnv, SUPPORTED_PROTOCOLS, formatHandshakeLine, negotiateProtocol, parseProtocolList } from './handshake.js';
import { LocalFactoryRegistry } from './local-registry.js';
import { createPluginService } from './plugin-service.js';

export const PROTOCOL_PACKAGE_VERSION = '0.1.0';
export const PLUGIN_SERVICE_NAME = 'sextant.plugin.v1.Plugin';

export interface ServePluginOptions {
  /** Environment to read the handshake variables from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Exit the process when the host shuts the plugin down or closes stdin (default true). */
  readonly exitOnShutdown?: boolean;
}

export interface ServedPlugin {
  readonly socketPath: string;
  readonly protocol: number;
  /** Stops serving (instances are not shut down; the host does that with Shutdown). */
  close(): Promise<void>;
}

/** Logs as JSON lines on stderr; the host parses them into its own logger. */
export const stderrLogger: Logger = {
  debug: (message, fields) => writeLogLine('debug', message, fields),
  info: (message, fields) => writeLogLine('info', message, fields),
  warn: (message, fields) => writeLogLine('warn', message, fields),
  error: (message, fields) => writeLogLine('error', message, fields),
};

function writeLogLine(level: string, message: string, fields?: Record<string, unknown>): void {
  try {
    process.stderr.write(`${JSON.stringify({ level, message, ...(fields ? { fields } : {}) })}\n`);
  } catch {
    process.stderr.write(`${JSON.stringify({ level, message })}\n`);
  }
}

/** Exits with a person-readable explanation; the host shows the stderr tail in its error. */
function fatal(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

export async function servePlugin(plugin: SextantPlugin, options: ServePluginOptions = {}): Promise<ServedPlugin> {
  const env = options.env ?? process.env;
  const exitOnShutdown = options.exitOnShutdown ?? true;
  if (env[PluginEnv.MAGIC] !== PLUGIN_MAGIC_COOKIE) {
    fatal(
      'This program is a Sextant plugin. It is started by the Sextant agent, which talks to it over a private socket; it does nothing when run by hand.\n' +
        'To use it, list the plugin in sextant.yaml (with `isolation: process` to run it as a child process) and run `sextant run` or `sextant agent`.',
    );
  }
  if (!isSextantPlugin(plugin)) fatal('SEXTANT_ERR_PLUGIN_INVALID: servePlugin() needs a plugin made with createPlugin() or createModule() from @sextant/plugin-api');
  const token = env[PluginEnv.TOKEN] ?? '';
  if (token.length < 16) fatal(`SEXTANT_ERR_HANDSHAKE_FAILED: ${PluginEnv.TOKEN} is missing or too short; the host must pass a random per-launch token`);
  const hostProtocols = parseProtocolList(env[PluginEnv.PROTOCOLS]);
  const protocol = negotiateProtocol(hostProtocols, SUPPORTED_PROTOCOLS);
  if (protocol === undefined) {
    fatal(`SEXTANT_ERR_HANDSHAKE_FAILED: the host speaks plugin protocol ${hostProtocols.join(', ') || '(none)'} but this plugin process speaks ${SUPPORTED_PROTOCOLS.join(', ')}; upgrade the older side`);
  }
  const socketDir = env[PluginEnv.SOCKET_DIR] ?? '';
  if (!socketDir.startsWith('/') || !existsSync(socketDir) || !statSync(socketDir).isDirectory()) {
    fatal(`SEXTANT_ERR_HANDSHAKE_FAILED: ${PluginEnv.SOCKET_DIR} (${JSON.stringify(socketDir)}) is not an existing absolute directory`);
  }

  const registry = new LocalFactoryRegistry();
  try {
    await registry.register(plugin, stderrLogger);
  } catch (error) {
    fatal(formatError(error));
  }

  const socketPath = join(socketDir, 'plugin.sock');
  const server = new Server({ interceptors: [bearerTokenServerInterceptor(token)] });
  let closing = false;
  const close = () =>
    new Promise<void>((resolve) => {
      if (closing) return resolve();
      closing = true;
      server.tryShutdown(() => resolve());
      setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 250).unref();
    });
  const exit = () => {
    if (!exitOnShutdown) return;
    void close().then(() => process.exit(0));
  };

  server.addService(
    // Collect carries the samples: its serializer copies them once (collect-wire.ts).
    { ...PluginService, collect: { ...PluginService.collect, responseSerialize: encodeCollectResponse } },
    createPluginService({
      plugin,
      registry,
      protocol,
      sdk: `@sextant/protocol ${PROTOCOL_PACKAGE_VERSION} node ${process.version}`,
      onShutdownAll: () => setImmediate(exit),
    }),
  );
  const health: HealthServer = {
    check: (call, callback) => {
      const service = call.request.service;
      if (service === '' || service === PLUGIN_SERVICE_NAME) callback(null, { status: HealthCheckResponse_ServingStatus.SERVING });
      else callback({ code: grpcStatus.NOT_FOUND, details: `unknown service "${service}"` });
    },
  };
  server.addService(HealthService, health);

  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
  }).catch((error) => fatal(`SEXTANT_ERR_HANDSHAKE_FAILED: cannot listen on ${socketPath}: ${error instanceof Error ? error.message : String(error)}`));

  // The host keeps our stdin open for as long as it lives; when it goes, so do we.
  if (exitOnShutdown && !process.stdin.isTTY) {
    process.stdin.on('end', exit);
    process.stdin.on('error', exit);
    process.stdin.resume();
  }

  process.stdout.write(`${formatHandshakeLine(protocol, socketPath)}\n`);
  stderrLogger.debug(`serving plugin "${pluginDisplayId(plugin)}" on ${socketPath} (protocol ${protocol})`);
  return { socketPath, protocol, close };
}
