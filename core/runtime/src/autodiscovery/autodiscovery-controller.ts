/**
 * Starts and stops plugin instances as containers come and go.
 *
 * Feed it container up/down notifications (directly, or as the `container:<id>` topology updates
 * the containers collector reports, through {@link AutodiscoveryController.applyTopology}); it
 * calls `startInstance` / `stopInstance` with the keys and rendered configs {@link matchContainer}
 * decides on.
 *
 * Debounce, so a flapping container does not churn instances:
 * - a container must stay up for `settleMs` before its instances start; going down within that
 *   window cancels the start;
 * - a container that goes down keeps its instances for `stopGraceMs`; coming back up within it
 *   (a restart) keeps them — re-rendered, and restarted only if the config changed (a new IP);
 * - a container that is removed stops its instances at once.
 *
 * Callbacks run one at a time, in order (a stop never overtakes the start it follows). A callback
 * that throws or rejects is reported through `onError`; the controller keeps going.
 */
import type { Clock, TopologyUpdate } from '@sextant/plugin-api';
import { explainContainer, matchContainer, type DiscoveryMatch, type DiscoveryPlugin } from './container-matcher.js';
import { discoveredContainerFromEntity, type DiscoveredContainer } from './discovered-container.js';

export interface AutodiscoveryControllerOptions {
  readonly clock: Clock;
  /** Plugins with their manifests; a function is re-read on every decision (plugins can be added). */
  readonly plugins: readonly DiscoveryPlugin[] | (() => readonly DiscoveryPlugin[]);
  /** Milliseconds a container must be up before instances start. Default 10 000. */
  readonly settleMs?: number;
  /** Milliseconds a stopped container keeps its instances (restart window). Default `settleMs`. */
  readonly stopGraceMs?: number;
  startInstance(key: string, factory: string, config: Record<string, unknown>, match: DiscoveryMatch): void | Promise<void>;
  stopInstance(key: string): void | Promise<void>;
  /** A callback failed. Default: ignored. */
  onError?(key: string, error: unknown): void;
}

export interface DiscoveredInstance {
  readonly key: string;
  readonly containerId: string;
  readonly pluginId: string;
  readonly factory: string;
  readonly config: Record<string, unknown>;
}

interface ContainerState {
  container: DiscoveredContainer;
  up: boolean;
  cancelStart?: () => void;
  cancelStop?: () => void;
  readonly instances: Map<string, { match: DiscoveryMatch; configJson: string }>;
}

export class AutodiscoveryController {
  private readonly states = new Map<string, ContainerState>();
  private queue: Promise<void> = Promise.resolve();
  private readonly settleMs: number;
  private readonly stopGraceMs: number;
  private closed = false;

  constructor(private readonly options: AutodiscoveryControllerOptions) {
    this.settleMs = options.settleMs ?? 10_000;
    this.stopGraceMs = options.stopGraceMs ?? this.settleMs;
  }

  private plugins(): readonly DiscoveryPlugin[] {
    const p = this.options.plugins;
    return typeof p === 'function' ? p() : p;
  }

  /** The container is running (first seen, started, restarted, or its details changed). */
  containerUp(container: DiscoveredContainer): void {
    if (this.closed) return;
    let st = this.states.get(container.id);
    if (!st) {
      st = { container, up: true, instances: new Map() };
      this.states.set(container.id, st);
    }
    st.container = container;
    st.up = true;
    st.cancelStop?.();
    st.cancelStop = undefined;
    if (st.instances.size > 0) {
      this.reconcile(st);
      return;
    }
    if (st.cancelStart) return;
    const state = st;
    st.cancelStart = this.options.clock.setTimeout(() => {
      state.cancelStart = undefined;
      if (state.up && this.states.get(state.container.id) === state) this.reconcile(state);
    }, this.settleMs);
  }

  /**
   * The container stopped (`removed: false`, instances kept for `stopGraceMs`) or was removed
   * (`removed: true`, instances stopped now).
   */
  containerDown(containerId: string, options: { readonly removed?: boolean } = {}): void {
    const st = this.states.get(containerId);
    if (!st) return;
    st.up = false;
    st.cancelStart?.();
    st.cancelStart = undefined;
    if (st.instances.size === 0 || options.removed) {
      st.cancelStop?.();
      this.stopAll(st);
      this.states.delete(containerId);
      return;
    }
    if (st.cancelStop) return;
    st.cancelStop = this.options.clock.setTimeout(() => {
      st.cancelStop = undefined;
      this.stopAll(st);
      this.states.delete(containerId);
    }, this.stopGraceMs);
  }

  /**
   * Applies a topology update from the containers collector: running containers are up, others
   * down, removed `container:<id>` entities removed. Other entities are ignored.
   */
  applyTopology(update: TopologyUpdate): void {
    for (const entity of update.upsertEntities ?? []) {
      const c = discoveredContainerFromEntity(entity);
      if (!c) continue;
      if (c.state === 'running') this.containerUp(c);
      else this.containerDown(c.id);
    }
    for (const id of update.removeEntities ?? []) {
      if (id.startsWith('container:')) this.containerDown(id.slice('container:'.length), { removed: true });
    }
  }

  /** After an engine reconnect: `running` is the full list; every other known container goes down. */
  resync(running: readonly DiscoveredContainer[]): void {
    const ids = new Set(running.map((c) => c.id));
    for (const id of [...this.states.keys()]) if (!ids.has(id)) this.containerDown(id);
    for (const c of running) this.containerUp(c);
  }

  /** Instances started and not stopped. */
  instances(): DiscoveredInstance[] {
    const out: DiscoveredInstance[] = [];
    for (const st of this.states.values()) {
      for (const [key, { match }] of st.instances) {
        out.push({ key, containerId: st.container.id, pluginId: match.pluginId, factory: match.factory, config: match.config });
      }
    }
    return out;
  }

  /** `explainContainer` for a container the controller knows, found by id, id prefix or name. */
  explain(idOrName: string): string[] | undefined {
    for (const st of this.states.values()) {
      const c = st.container;
      if (c.id === idOrName || c.name === idOrName || (idOrName.length >= 4 && c.id.startsWith(idOrName))) {
        return explainContainer(c, this.plugins());
      }
    }
    return undefined;
  }

  /** Resolves when every callback issued so far has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Cancels pending starts and stops every instance. Safe twice. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const st of this.states.values()) {
      st.cancelStart?.();
      st.cancelStop?.();
      this.stopAll(st);
    }
    this.states.clear();
    await this.queue;
  }

  private reconcile(st: ContainerState): void {
    const desired = new Map(matchContainer(st.container, this.plugins()).matches.map((m) => [m.key, m]));
    for (const [key, current] of st.instances) {
      const next = desired.get(key);
      if (!next || JSON.stringify(next.config) !== current.configJson) {
        st.instances.delete(key);
        this.enqueue(key, () => this.options.stopInstance(key));
      }
    }
    for (const [key, match] of desired) {
      if (st.instances.has(key)) continue;
      st.instances.set(key, { match, configJson: JSON.stringify(match.config) });
      this.enqueue(key, () => this.options.startInstance(key, match.factory, match.config, match));
    }
  }

  private stopAll(st: ContainerState): void {
    for (const key of st.instances.keys()) this.enqueue(key, () => this.options.stopInstance(key));
    st.instances.clear();
  }

  private enqueue(key: string, op: () => void | Promise<void>): void {
    this.queue = this.queue.then(async () => {
      try {
        await op();
      } catch (e) {
        this.options.onError?.(key, e);
      }
    });
  }
}
