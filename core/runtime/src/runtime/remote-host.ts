/**
 * Runs plugin packages out of process (`isolation: process | in-container`): launches one
 * supervised child per (package, isolation, container) through the distribution's launcher
 * (@sextant/protocol's launcher and supervisor in the stock CLI), registers the local stand-in
 * plugin it returns, and hands out the stand-in's factories, which the instance manager then
 * treats like local ones.
 */
import { inject, injectable } from 'tsyringe';
import { ErrorCode, SextantError, type Logger, type SextantPlugin } from '@sextant/plugin-api';
import type { InstanceSpec, Isolation } from '../config/runtime-config.js';
import type { PluginCandidate } from '../plugins/plugin-discovery.js';
import type { TopologyGraph } from '../store/topology-graph.js';
import { createLogger } from '../telemetry/logger.js';
import { TOKENS } from '../tokens.js';
import type { FactoryEntry } from './plugin-scope.js';
import type { PluginRegistry } from './plugin-registry.js';
import type { RuntimeOptions } from './runtime-options.js';

/**
 * Starts a plugin package out of process and returns a local stand-in plugin whose factories proxy
 * to the child (provided by the distribution, e.g. with @sextant/protocol). `isolation` is
 * `process` or `in-container`; `target` is the container for in-container mode.
 */
export type RemotePluginLauncher = (request: {
  readonly candidate: PluginCandidate;
  readonly isolation: Exclude<Isolation, 'in-process'>;
  readonly instanceId: string;
  readonly logger: Logger;
  /** For in-container: the container id or name from the instance spec. */
  readonly container?: string;
  /** The runtime's topology, to find the container's pid. */
  readonly topology: TopologyGraph;
}) => Promise<{ plugin: SextantPlugin; shutdown(): Promise<void>; status?(): unknown }>;

/** What `statuses()` shows of the supervised child serving an instance. */
export interface RemoteProcessStatus {
  readonly state?: string;
  readonly pid?: number;
  readonly restarts?: number;
  readonly crashes?: number;
  readonly quarantined?: boolean;
}

interface Remote {
  readonly started: Promise<{ shutdown(): Promise<void>; status?(): unknown }>;
  factories?: Map<string, FactoryEntry>;
  handle?: { status?(): unknown };
}

@injectable()
export class RemoteHost {
  private readonly remotes = new Map<string, Remote>();

  constructor(
    @inject(TOKENS.options) private readonly options: RuntimeOptions,
    @inject(TOKENS.plugins) private readonly plugins: PluginRegistry,
    @inject(TOKENS.topology) private readonly topology: TopologyGraph,
    @inject(TOKENS.logger) private readonly logger: Logger,
  ) {}

  /**
   * The factory an instance runs with: `local` itself for in-process (and for built-ins without a
   * package folder, which cannot run elsewhere), else the stand-in's factory of the same kind and
   * type. `key` names the child serving it (for status()).
   */
  async resolve(spec: InstanceSpec, isolation: Isolation, local: FactoryEntry): Promise<{ entry: FactoryEntry; key?: string }> {
    if (isolation === 'in-process') return { entry: local };
    if (local.candidate.source === 'builtin' && !local.candidate.dir) {
      this.logger.warn(`${spec.id}: ${local.candidate.packageName} is built into this distribution and runs in-process; isolation "${isolation}" is ignored`);
      return { entry: local };
    }
    const launch = this.options.launchRemote;
    if (!launch) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `${spec.id}: isolation "${isolation}" needs a distribution with @sextant/protocol`, { hint: 'use isolation: in-process or the sextant CLI' });
    }
    const key = `${local.candidate.packageName}|${isolation}|${isolation === 'in-container' ? (spec.container ?? spec.id) : ''}`;
    let remote = this.remotes.get(key);
    if (!remote) {
      if (isolation === 'in-container' && !spec.container) {
        throw new SextantError(ErrorCode.CONFIG_INVALID, `${spec.id}: isolation "in-container" needs the container to join`, { hint: `add container: <name or id> to ${spec.section}.${spec.id}` });
      }
      const r: Remote = {
        started: launch({
          candidate: local.candidate,
          isolation: isolation as Exclude<Isolation, 'in-process'>,
          instanceId: spec.id,
          logger: createLogger(`${local.pluginId}:${isolation}`, this.options.log),
          ...(spec.container ? { container: spec.container } : {}),
          topology: this.topology,
        }).then(async (launched) => {
          r.factories = await this.plugins.registerStandIn(local.candidate, launched.plugin);
          r.handle = launched;
          return launched;
        }),
      };
      remote = r;
      this.remotes.set(key, remote);
    }
    await remote.started;
    const entry = remote.factories?.get(`${spec.kind}:${spec.type}`);
    if (!entry) throw new SextantError(ErrorCode.UNKNOWN_FACTORY, `${spec.id}: the ${isolation} copy of ${local.candidate.packageName} does not provide ${spec.kind} "${spec.type}"`);
    return { entry, key };
  }

  /** The supervised child's state, when `key` names a running one that reports it. */
  status(key: string | undefined): RemoteProcessStatus | undefined {
    return key ? (this.remotes.get(key)?.handle?.status?.() as RemoteProcessStatus | undefined) : undefined;
  }

  /** Shuts every child down (after their instances stopped). */
  async shutdown(): Promise<void> {
    for (const remote of this.remotes.values()) {
      try {
        await (await remote.started).shutdown();
      } catch {
        // the child is gone already
      }
    }
  }
}
