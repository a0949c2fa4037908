/**
 * One launch of a plugin child: spawn, handshake, connect, health check, Describe. Supervision
 * (restarts, backoff, quarantine) lives in {@link PluginSupervisor}; this file knows nothing of it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Metadata, credentials, type ChannelOptions } from '@grpc/grpc-js';
import { ErrorCode, SextantError, type Logger } from '@sextant/plugin-api';
import { bearerTokenClientInterceptor, newPluginToken } from './bearer-token.js';
import { HealthCheckResponse_ServingStatus, HealthClient } from './gen/grpc/health/v1/health.js';
import { PluginClient, type DescribeResponse } from './gen/sextant/plugin/v1/plugin.js';
import { PLUGIN_MAGIC_COOKIE, PluginEnv, SUPPORTED_PROTOCOLS, handshakeError, parseHandshakeLine } from './handshake.js';

export interface PluginProcessOptions {
  readonly pluginModule: string;
  readonly displayName: string;
  readonly logger: Logger;
  readonly handshakeTimeoutMs: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly nodeArgs?: readonly string[];
  readonly wrapCommand?: readonly string[];
  /** Plugin protocol majors offered to the child (default {@link SUPPORTED_PROTOCOLS}). */
  readonly protocols?: readonly number[];
  /** The child program (default: this package's dist/child.js). */
  readonly childEntry?: string;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Client channel options. The first matters: grpc-js keeps every message of a long client stream for retries, and such a stream slows ~10x after ~100k messages without it. */
export const PLUGIN_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.per_rpc_retry_buffer_size': 0,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

/** dist/child.js of this package, also when this module runs from src/ (tests). */
export function defaultChildEntry(): string {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/child.js', here) : new URL('./child.js', here);
  return fileURLToPath(url);
}

/** Splits a byte stream into lines; keeps a bounded partial line. */
function onLines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      fn(buffer.slice(0, nl).replace(/\r$/, ''));
      buffer = buffer.slice(nl + 1);
    }
    if (buffer.length > 64 * 1024) {
      fn(buffer);
      buffer = '';
    }
  });
  stream.on('end', () => {
    if (buffer) fn(buffer);
  });
}

/** Forwards one stderr line: JSON log lines from servePlugin() keep their level. */
function forwardStderr(logger: Logger, plugin: string, line: string): void {
  if (!line.trim()) return;
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as { level?: string; message?: unknown; fields?: Record<string, unknown> };
      const level = parsed.level === 'debug' || parsed.level === 'info' || parsed.level === 'warn' || parsed.level === 'error' ? parsed.level : 'info';
      if (typeof parsed.message === 'string') {
        logger[level](parsed.message, { plugin, ...(parsed.fields ?? {}) });
        return;
      }
    } catch {
      // not one of ours; forward as text
    }
  }
  logger.info(line, { plugin, stream: 'stderr' });
}

export class PluginProcess {
  private stopping: Promise<void> | undefined;
  private constructor(
    readonly child: ChildProcess,
    readonly client: PluginClient,
    readonly socketDir: string,
    readonly socketPath: string,
    readonly protocol: number,
    readonly describe: DescribeResponse,
    readonly exited: Promise<ProcessExit>,
    private readonly health: HealthClient,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * Launches the child and completes the handshake, or throws `SEXTANT_ERR_HANDSHAKE_FAILED`
   * (naming the plugin, with the tail of its stderr) and leaves nothing running.
   */
  static async launch(options: PluginProcessOptions): Promise<PluginProcess> {
    const name = options.displayName;
    const protocols = options.protocols ?? SUPPORTED_PROTOCOLS;
    const childEntry = options.childEntry ?? defaultChildEntry();
    if (!existsSync(childEntry)) {
      throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${name}": the plugin child program ${childEntry} does not exist`, {
        hint: 'build @sextant/protocol (npm run build -w @sextant/protocol)',
      });
    }
    const socketDir = await mkdtemp(join(tmpdir(), 'sextant-plugin-'));
    await chmod(socketDir, 0o700);
    const token = newPluginToken();
    const wrap = options.wrapCommand ?? [];
    const argv = [...wrap, process.execPath, ...(options.nodeArgs ?? []), childEntry, options.pluginModule];
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: {
        ...process.env,
        ...options.env,
        [PluginEnv.MAGIC]: PLUGIN_MAGIC_COOKIE,
        [PluginEnv.TOKEN]: token,
        [PluginEnv.PROTOCOLS]: protocols.join(','),
        [PluginEnv.SOCKET_DIR]: socketDir,
        [PluginEnv.MODULE]: options.pluginModule,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdin?.on('error', () => undefined);
    const stderrTail: string[] = [];
    onLines(child.stderr!, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      forwardStderr(options.logger, name, line);
    });

    let firstLine: ((line: string) => void) | undefined;
    let sawHandshake = false;
    onLines(child.stdout!, (line) => {
      if (!sawHandshake) {
        sawHandshake = true;
        firstLine?.(line);
      } else {
        options.logger.warn('plugin process wrote to stdout after the handshake; plugins must log to stderr', { plugin: name, line });
      }
    });

    const tail = () => (stderrTail.length ? ` (stderr: ${stderrTail.slice(-5).join(' | ')})` : '');
    const cleanup = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(socketDir, { recursive: true, force: true });
    };

    const deadline = Date.now() + options.handshakeTimeoutMs;
    let line: string;
    try {
      line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              handshakeError(name, `no handshake line within ${options.handshakeTimeoutMs} ms${tail()}`, 'the plugin hangs while loading (a top-level await, a blocking import or an endless loop); run it with a debugger, or raise handshakeTimeoutMs if it is just slow'),
            ),
          options.handshakeTimeoutMs,
        );
        firstLine = (l) => {
          clearTimeout(timer);
          resolve(l);
        };
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(handshakeError(name, `cannot start ${argv[0]}: ${error.message}`, 'check wrapCommand and that node is installed'));
        });
        void exited.then(({ code, signal }) => {
          // stdout may still hold the line; give it one turn.
          setImmediate(() => {
            clearTimeout(timer);
            reject(
              handshakeError(name, `the process exited (${signal ? `signal ${signal}` : `code ${code}`}) before the handshake${tail()}`, 'read the plugin error above; a plugin must export default createPlugin({...}) and load without throwing'),
            );
          });
        });
      });
    } catch (error) {
      await cleanup();
      throw error;
    }

    let parsed;
    try {
      parsed = parseHandshakeLine(line, name, protocols, socketDir);
    } catch (error) {
      await cleanup();
      throw error;
    }

    const clientOptions = { ...PLUGIN_CHANNEL_OPTIONS, interceptors: [bearerTokenClientInterceptor(token)] };
    const address = `unix:${parsed.address}`;
    const client = new PluginClient(address, credentials.createInsecure(), clientOptions);
    const health = new HealthClient(address, credentials.createInsecure(), clientOptions);
    try {
      const remaining = () => new Date(Math.max(deadline, Date.now() + 200));
      const check = await new Promise<HealthCheckResponse_ServingStatus>((resolve, reject) =>
        health.check({ service: '' }, new Metadata(), { deadline: remaining() }, (error, response) => (error ? reject(error) : resolve(response.status))),
      ).catch((error: Error) => {
        throw handshakeError(name, `the health check on ${parsed.address} failed: ${error.message}${tail()}`, 'the plugin printed its handshake but does not serve grpc.health.v1 there; serve it with servePlugin()');
      });
      if (check !== HealthCheckResponse_ServingStatus.SERVING) {
        throw handshakeError(name, `the health check says ${HealthCheckResponse_ServingStatus[check] ?? check}`, 'the plugin is not ready; check its log');
      }
      const describe = await new Promise<DescribeResponse>((resolve, reject) =>
        client.describe({}, new Metadata(), { deadline: remaining() }, (error, response) => (error ? reject(error) : resolve(response))),
      ).catch((error: Error) => {
        throw handshakeError(name, `Describe failed: ${error.message}${tail()}`, 'the plugin must serve sextant.plugin.v1.Plugin');
      });
      return new PluginProcess(child, client, socketDir, parsed.address, parsed.protocol, describe, exited, health);
    } catch (error) {
      client.close();
      health.close();
      await cleanup();
      throw error;
    }
  }

  /**
   * Asks the child to shut every instance down and exit; SIGKILLs it after `graceMs`. Removes the
   * socket directory. Safe to call twice and after the child died.
   */
  stop(graceMs = 3000): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.hasExited) {
        await new Promise<void>((resolve) => {
          this.client.shutdown({ instanceId: '' }, new Metadata(), { deadline: new Date(Date.now() + graceMs) }, () => resolve());
        });
        const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
        await this.exited;
        clearTimeout(timer);
      }
      this.client.close();
      this.health.close();
      await rm(this.socketDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** After an unexpected exit: closes channels and removes the socket directory. */
  async discard(): Promise<void> {
    if (!this.hasExited) this.child.kill('SIGKILL');
    await this.exited;
    this.client.close();
    this.health.close();
    await rm(this.socketDir, { recursive: true, force: true });
  }
}
