/**
 * launchPluginProcess(): run a plugin as a supervised child process and get back a local plugin
 * object whose factories proxy to it. The runtime registers `remote.plugin` like any in-process
 * plugin; the plugin's own code does not change.
 */
import {
  collectorsExtensionPoint,
  correlatorsExtensionPoint,
  createModule,
  createPlugin,
  detectorsExtensionPoint,
  notifiersExtensionPoint,
  type Clock,
  type CollectorsExtensionPoint,
  type CorrelatorsExtensionPoint,
  type DetectorsExtensionPoint,
  type ExtensionKind,
  type Logger,
  type NotifiersExtensionPoint,
  type SextantPlugin,
  type Stability,
} from '@sextant/plugin-api';
import { kindFromWire } from './component-kind.js';
import type { DescribeResponse } from './gen/sextant/plugin/v1/plugin.js';
import { createRemoteFactory, type RemoteFactoryDescription } from './remote-components.js';
import { PluginSupervisor, type RemotePluginStatus, type RestartPolicy } from './supervisor.js';
import { fromJsonText } from './json-text.js';

export interface LaunchPluginProcessOptions {
  /** Absolute path (or file URL, or package specifier resolvable from @sextant/protocol) of the plugin module. */
  readonly pluginModule: string;
  /** Names the plugin in logs, statuses and errors (`nginx`, `acme-queue`). */
  readonly displayName: string;
  /** Receives the child's stderr (JSON log lines keep their level) and supervision messages. */
  readonly logger: Logger;
  /** Clock for restart delays and the crash window (default: real time). */
  readonly clock?: Clock;
  readonly restart?: RestartPolicy;
  /** Time for the child to print its handshake, answer the health check and Describe. Default 10000. */
  readonly handshakeTimeoutMs?: number;
  /** Extra environment for the child (merged over the host's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /**
   * Extra node flags (`--max-old-space-size=64`). Without a semi-space flag among them the child
   * gets {@link CHILD_DEFAULT_NODE_ARGS}.
   */
  readonly nodeArgs?: readonly string[];
  /** Command prefix, e.g. `['nsenter', '-t', pid, '-n']` to run inside a container's network namespace. */
  readonly wrapCommand?: readonly string[];
  /** Called on every supervision state change. */
  onStatus?(status: RemotePluginStatus): void;
  /** Plugin protocols offered to the child (default [1]); for tests of version negotiation. */
  readonly protocols?: readonly number[];
  /** The child program (default: @sextant/protocol's dist/child.js). */
  readonly childEntry?: string;
}

/** Describe, decoded. */
export interface RemotePluginDescription {
  readonly pluginId: string;
  readonly moduleId: string | undefined;
  readonly contractVersion: number;
  readonly protocol: number;
  readonly sdk: string;
  readonly factories: readonly RemoteFactoryDescription[];
}

export interface RemotePlugin {
  /** Register this like any plugin: its register() adds proxy factories for what the child provides. */
  readonly plugin: SextantPlugin;
  readonly describe: RemotePluginDescription;
  status(): RemotePluginStatus;
  /** Shuts every instance and the child down (SIGKILL after a grace period); no restarts after. Idempotent. */
  shutdown(): Promise<void>;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export function decodeDescribe(response: DescribeResponse): RemotePluginDescription {
  const factories: RemoteFactoryDescription[] = [];
  for (const f of response.factories) {
    const kind = kindFromWire(f.kind);
    if (!kind) continue;
    let configJsonSchema: Record<string, unknown> | undefined;
    try {
      configJsonSchema = f.configJsonSchema ? (JSON.parse(f.configJsonSchema) as Record<string, unknown>) : undefined;
    } catch {
      configJsonSchema = undefined;
    }
    let defaults: Record<string, unknown> = {};
    try {
      defaults = (fromJsonText<Record<string, unknown>>(f.defaultsJson) ?? {}) as Record<string, unknown>;
    } catch {
      defaults = {};
    }
    factories.push({ kind, type: f.type, stability: f.stability as Stability, description: f.description, defaults, configJsonSchema });
  }
  return {
    pluginId: response.pluginId,
    moduleId: response.moduleId || undefined,
    contractVersion: response.contractVersion,
    protocol: response.protocolVersion,
    sdk: response.sdk,
    factories,
  };
}

/**
 * Node flags every plugin child gets unless `nodeArgs` sets its own semi-space size (issue 20: a
 * child <= 60 MiB RSS). V8 grows the young generation to 16 MiB x 2 under a sample stream and keeps
 * it; capped at 2 MiB the protocol benchmark's child ends a 6M-sample stream at 98 MiB instead of
 * 120 MiB (peak 100-105 instead of 128), with b1000 throughput within the run-to-run noise of this
 * shared machine (1.0-1.4M vs 0.7-1.6M samples/s). 1 MiB costs throughput (2.6M -> 1.8M/s measured).
 */
const CHILD_DEFAULT_NODE_ARGS: readonly string[] = ['--max-semi-space-size=2'];

function childNodeArgs(nodeArgs: readonly string[] | undefined): readonly string[] {
  const own = nodeArgs ?? [];
  return own.some((a) => /^--(max|min)-semi-space-size|^--semi-space-growth-factor/.test(a)) ? own : [...CHILD_DEFAULT_NODE_ARGS, ...own];
}

/**
 * Starts the child, completes the handshake and Describe, and returns the remote plugin. Rejects
 * with `SEXTANT_ERR_HANDSHAKE_FAILED` (naming the plugin, with a hint) when the child prints a
 * wrong line, speaks an unsupported protocol, exits early or does not answer in time.
 */
export async function launchPluginProcess(options: LaunchPluginProcessOptions): Promise<RemotePlugin> {
  const supervisor = new PluginSupervisor(
    {
      pluginModule: options.pluginModule,
      displayName: options.displayName,
      logger: options.logger,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      env: options.env,
      cwd: options.cwd,
      nodeArgs: childNodeArgs(options.nodeArgs),
      wrapCommand: options.wrapCommand,
      protocols: options.protocols,
      childEntry: options.childEntry,
    },
    options.clock ?? realClock,
    options.restart,
    options.onStatus,
  );
  const proc = await supervisor.start();
  const describe = decodeDescribe(proc.describe);
  const byKind = (kind: ExtensionKind) => describe.factories.filter((f) => f.kind === kind);

  const deps: Record<string, typeof collectorsExtensionPoint | typeof detectorsExtensionPoint | typeof correlatorsExtensionPoint | typeof notifiersExtensionPoint> = {};
  if (byKind('collector').length) deps.collectors = collectorsExtensionPoint;
  if (byKind('detector').length) deps.detectors = detectorsExtensionPoint;
  if (byKind('correlator').length) deps.correlators = correlatorsExtensionPoint;
  if (byKind('notifier').length) deps.notifiers = notifiersExtensionPoint;

  const register = (resolved: Record<string, unknown>) => {
    const points = resolved as {
      collectors?: CollectorsExtensionPoint;
      detectors?: DetectorsExtensionPoint;
      correlators?: CorrelatorsExtensionPoint;
      notifiers?: NotifiersExtensionPoint;
    };
    for (const f of byKind('collector')) points.collectors!.addFactory(createRemoteFactory(supervisor, f) as never);
    for (const f of byKind('detector')) points.detectors!.addFactory(createRemoteFactory(supervisor, f) as never);
    for (const f of byKind('correlator')) points.correlators!.addFactory(createRemoteFactory(supervisor, f) as never);
    for (const f of byKind('notifier')) points.notifiers!.addFactory(createRemoteFactory(supervisor, f) as never);
  };
  const plugin = describe.moduleId
    ? createModule({ pluginId: describe.pluginId, moduleId: describe.moduleId, deps, register })
    : createPlugin({ pluginId: describe.pluginId, deps, register });

  options.onStatus?.(supervisor.status());
  return {
    plugin,
    describe,
    status: () => supervisor.status(),
    shutdown: async () => {
      await Promise.allSettled([...supervisor.instances].map((i) => (i as unknown as { shutdown(): Promise<void> }).shutdown()));
      await supervisor.shutdown();
    },
  };
}
