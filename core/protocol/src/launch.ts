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
   * Extra node flags (`--max-old-space-size=64`). The child also gets {@link CHILD_DEFAULT_NODE_ARGS}
   * (`--max-semi-space-size=1 --optimize-for-size`), each unless these set the same flag.
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
 * Node flags every plugin child gets, each unless `nodeArgs` sets that flag (or its counterpart)
 * itself (issue 20: a child <= 60 MiB RSS). Measured with the protocol benchmark's child after a
 * 6M-sample stream (README "Benchmark"):
 * - `--max-semi-space-size=1`: V8 grows the young generation to 16 MiB x 2 under a sample stream
 *   and keeps it; 1 MiB semi-spaces keep the child ~2 MiB smaller than 2 MiB ones (and ~20 MiB
 *   smaller than none), now that streaming allocates little per sample.
 * - `--optimize-for-size`: V8 trades some speed for memory (smaller heap growth steps, less
 *   inlining): ~2-4 MiB less RSS.
 * Neither caps the old generation: a plugin that needs a large heap still gets it.
 * Not a default, measured: `--no-opt` (no TurboFan) saves another ~5 MiB but doubles the CPU per
 * sample, and would slow isolated detectors far more; glibc malloc settings (MALLOC_ARENA_MAX,
 * MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_) changed nothing or cost CPU.
 */
const CHILD_DEFAULT_NODE_ARGS: readonly { readonly flag: string; readonly unless: RegExp }[] = [
  { flag: '--max-semi-space-size=1', unless: /^--(max|min)-semi-space-size|^--semi-space-growth-factor/ },
  { flag: '--optimize-for-size', unless: /^--(no-)?optimize[-_]for[-_]size/ },
];

export function childNodeArgs(nodeArgs: readonly string[] | undefined): readonly string[] {
  const own = nodeArgs ?? [];
  return [...CHILD_DEFAULT_NODE_ARGS.filter((d) => !own.some((a) => d.unless.test(a))).map((d) => d.flag), ...own];
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
