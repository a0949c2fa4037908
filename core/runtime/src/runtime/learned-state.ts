/**
 * Learned state across restarts: at start, the series registry, incidents and events come back
 * from `dataDir` (StateCheckpoint) and every detector and correlator gets its own snapshot back;
 * while running, everything is checkpointed every `checkpoint.interval`, stretched so checkpoints
 * take at most `checkpoint.maxShare` of one core. Without a `dataDir` this does nothing.
 */
import { readFileSync } from 'node:fs';
import { inject, injectable } from 'tsyringe';
import { formatError, type Clock, type Correlator, type Detector, type HealthState, type Logger } from '@sextant/plugin-api';
import type { RuntimeConfig } from '../config/runtime-config.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { SeriesRegistry } from '../store/series-registry.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { TOKENS } from '../tokens.js';
import { StateCheckpoint } from './state-checkpoint.js';

/** A detector or correlator instance whose state is saved. */
export interface StatefulInstance {
  readonly id: string;
  readonly component: Detector | Correlator;
}

@injectable()
export class LearnedState {
  private readonly checkpoint?: StateCheckpoint;
  private cancelTimer?: () => void;
  private stopped = false;

  constructor(
    @inject(TOKENS.config) private readonly config: RuntimeConfig,
    @inject(TOKENS.registry) registry: SeriesRegistry,
    @inject(TOKENS.pipeline) private readonly pipeline: Pipeline,
    @inject(TOKENS.telemetry) private readonly telemetry: SelfTelemetry,
    @inject(TOKENS.clock) private readonly clock: Clock,
    @inject(TOKENS.logger) private readonly logger: Logger,
  ) {
    if (config.dataDir) this.checkpoint = new StateCheckpoint(config.dataDir, registry, logger);
  }

  /** Restores the series registry (same ids as before), incidents and events. Call before anything registers a series. */
  restore(): void {
    if (!this.checkpoint) return;
    const restored = this.checkpoint.load();
    this.pipeline.restoreState(restored.incidents, restored.events);
    if (restored.series || restored.incidents.length) {
      const open = restored.incidents.filter((i) => i.status === 'open').length;
      this.logger.info(`restored ${restored.series} series, ${open} open incident(s) and ${restored.events.length} event(s) from ${this.checkpoint.dir}`);
    }
  }

  /**
   * Gives a detector or correlator its saved state back, and says truthfully whether that worked
   * (a component that refuses the bytes reports a degraded status instead of throwing).
   */
  restoreInstance(id: string, component: Detector | Correlator, status: () => { state: HealthState; message?: string }): void {
    if (!this.checkpoint || !component.restore) return;
    const file = this.checkpoint.instanceFile(id);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`${id}: could not read saved state ${file}: ${formatError(e)}`);
      return;
    }
    const before = status().state;
    try {
      component.restore(bytes);
    } catch (e) {
      this.logger.warn(`${id}: could not restore state from ${file}: ${formatError(e)}`);
      return;
    }
    const after = status();
    if (after.state === 'degraded' && before !== 'degraded') {
      this.logger.warn(`${id}: saved state in ${file} was refused: ${after.message ?? 'no reason given'}`);
    } else {
      this.logger.info(`${id}: restored state from ${file} (${bytes.byteLength} bytes)`);
    }
  }

  /**
   * Checkpoints everything a restart needs: new series of the registry, every instance's
   * snapshot, the incidents and the event log. Returns how long it took (ms).
   */
  save(instances: Iterable<StatefulInstance>): number {
    const cp = this.checkpoint;
    if (!cp) return 0;
    const started = performance.now();
    try {
      cp.saveSeries();
    } catch (e) {
      // Without the registry the snapshots would be read against the wrong ids: skip them this time.
      this.logger.warn(`could not save the series registry: ${formatError(e)}`);
      return performance.now() - started;
    }
    for (const { id, component } of instances) {
      if (!component.snapshot) continue;
      try {
        cp.writeAtomic(cp.instanceFile(id).slice(cp.dir.length + 1), component.snapshot());
      } catch (e) {
        this.logger.warn(`${id}: could not save state: ${formatError(e)}`);
      }
    }
    try {
      cp.saveIncidents(this.pipeline.incidents.values());
      cp.saveEvents(this.pipeline.events.query());
    } catch (e) {
      this.logger.warn(`could not save incidents and events: ${formatError(e)}`);
    }
    const ms = performance.now() - started;
    this.telemetry.set('sextant_checkpoint_duration_seconds', 'How long the last checkpoint of learned state took', ms / 1000);
    this.telemetry.add('sextant_checkpoints_total', 'Checkpoints of learned state written to the data directory', 1);
    return ms;
  }

  /**
   * Lets components whose state lives in a plugin child process fetch it (prepareSnapshot), so
   * save() writes current bytes. Undefined when no instance needs it (the usual case).
   */
  prepare(instances: Iterable<StatefulInstance>): Promise<void> | undefined {
    const waits = [...instances].map((i) => (i.component as { prepareSnapshot?(): Promise<void> }).prepareSnapshot?.()).filter((p) => p !== undefined);
    return waits.length ? Promise.allSettled(waits).then(() => undefined) : undefined;
  }

  /** Checkpoints periodically until stop(): every interval, or less often when one takes long. */
  schedule(instances: () => Iterable<StatefulInstance>): void {
    if (!this.checkpoint) return;
    this.stopped = false;
    // A 200k-series detector snapshot takes seconds; a 10k one ~150 ms.
    const { interval, maxShare } = this.config.checkpoint;
    const snap = () => {
      const save = () => {
        const ms = this.save(instances());
        this.cancelTimer = this.clock.setTimeout(snap, Math.max(interval, ms / maxShare));
      };
      const preparing = this.prepare(instances());
      if (preparing) void preparing.then(() => void (this.stopped || save()));
      else save();
    };
    this.cancelTimer = this.clock.setTimeout(snap, interval);
  }

  /** Ends the periodic checkpoints (the final one is the runtime's stop()). */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}
