/**
 * The plugin handshake (README "Handshake"): how a host starts a plugin child and learns where to
 * connect. After HashiCorp go-plugin's design: a magic cookie in the environment, negotiated
 * protocol versions, one line on stdout, a per-launch token.
 *
 * Environment the host sets for the child:
 * - `SEXTANT_PLUGIN_MAGIC`      = {@link PLUGIN_MAGIC_COOKIE}; without it the child explains and exits 1.
 * - `SEXTANT_PLUGIN_TOKEN`      random per launch; every RPC carries `authorization: Bearer <token>`.
 * - `SEXTANT_PLUGIN_PROTOCOLS`  comma-separated plugin protocol majors the host speaks (`1`).
 * - `SEXTANT_PLUGIN_SOCKET_DIR` a 0700 directory for the child's unix socket.
 * - `SEXTANT_PLUGIN_MODULE`     (generic child only) the plugin module to import and serve.
 *
 * The child answers with exactly one line on stdout, then writes nothing more there:
 *
 *   SEXTANT_PLUGIN|1|<chosen protocol>|unix|<absolute socket path>
 *
 * Field 2 is the version of this line's format (always 1); field 3 the protocol major the child
 * chose from the host's list.
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';

export const PLUGIN_MAGIC_COOKIE = 'sextant-plugin-4f1c7d2e9b';
export const HANDSHAKE_PREFIX = 'SEXTANT_PLUGIN';
export const HANDSHAKE_FORMAT_VERSION = 1;
/** Plugin protocol majors this package speaks, on both sides. */
export const SUPPORTED_PROTOCOLS: readonly number[] = [1];

export const PluginEnv = {
  MAGIC: 'SEXTANT_PLUGIN_MAGIC',
  TOKEN: 'SEXTANT_PLUGIN_TOKEN',
  PROTOCOLS: 'SEXTANT_PLUGIN_PROTOCOLS',
  SOCKET_DIR: 'SEXTANT_PLUGIN_SOCKET_DIR',
  MODULE: 'SEXTANT_PLUGIN_MODULE',
} as const;

export interface HandshakeLine {
  readonly protocol: number;
  readonly network: 'unix';
  readonly address: string;
}

export function formatHandshakeLine(protocol: number, socketPath: string): string {
  return `${HANDSHAKE_PREFIX}|${HANDSHAKE_FORMAT_VERSION}|${protocol}|unix|${socketPath}`;
}

/** Parses a comma-separated protocol list (`"1,2"`); ignores anything that is not a positive integer. */
export function parseProtocolList(raw: string | undefined): number[] {
  return (raw ?? '')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** The highest protocol both sides speak, or undefined. */
export function negotiateProtocol(host: readonly number[], child: readonly number[]): number | undefined {
  const common = host.filter((v) => child.includes(v));
  return common.length ? Math.max(...common) : undefined;
}

function handshakeError(plugin: string, reason: string, hint: string, details: Record<string, unknown> = {}): SextantError {
  return new SextantError(ErrorCode.HANDSHAKE_FAILED, `plugin "${plugin}" failed the handshake: ${reason}`, { hint, details: { plugin, ...details } });
}

/**
 * Validates the child's handshake line. Throws `SEXTANT_ERR_HANDSHAKE_FAILED` naming `plugin` for a
 * wrong prefix or format, an unsupported protocol version, or an address that is not an absolute
 * unix socket path inside `socketDir`.
 */
export function parseHandshakeLine(line: string, plugin: string, hostProtocols: readonly number[], socketDir?: string): HandshakeLine {
  const shown = JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}...` : line);
  const parts = line.trim().split('|');
  if (parts[0] !== HANDSHAKE_PREFIX || parts.length !== 5) {
    return fail(
      `its first stdout line was ${shown}, expected "${HANDSHAKE_PREFIX}|${HANDSHAKE_FORMAT_VERSION}|<protocol>|unix|<socket path>"`,
      'the plugin (or a library it loads) printed to stdout before the handshake; send logs to stderr, or check that the module is a Sextant plugin served with servePlugin()',
    );
  }
  const [, format, protocolText, network, address] = parts;
  if (format !== String(HANDSHAKE_FORMAT_VERSION)) {
    return fail(`handshake format ${JSON.stringify(format)} is not supported (this host reads format ${HANDSHAKE_FORMAT_VERSION})`, 'upgrade @sextant/protocol on the side that is older');
  }
  const protocol = Number(protocolText);
  if (!Number.isInteger(protocol) || !hostProtocols.includes(protocol)) {
    return fail(
      `it speaks plugin protocol ${JSON.stringify(protocolText)} but this host speaks ${hostProtocols.join(', ')}`,
      `rebuild the plugin against a @sextant/protocol that serves protocol ${hostProtocols.join(' or ')}, or upgrade the agent`,
      { protocol: protocolText },
    );
  }
  if (network !== 'unix') {
    return fail(`network ${JSON.stringify(network)} is not supported`, 'serve on a unix socket in SEXTANT_PLUGIN_SOCKET_DIR');
  }
  if (!address.startsWith('/') || (socketDir !== undefined && !address.startsWith(`${socketDir}/`))) {
    return fail(`socket path ${JSON.stringify(address)} is not inside the private directory ${socketDir ?? '(absolute path required)'}`, 'create the socket in SEXTANT_PLUGIN_SOCKET_DIR');
  }
  return { protocol, network: 'unix', address };

  function fail(reason: string, hint: string, details?: Record<string, unknown>): never {
    throw handshakeError(plugin, reason, hint, details);
  }
}

export { handshakeError };
