/**
 * Filesystem space and inodes via statfs(2) of every mountpoint that passes the filters.
 *
 * statfs is asynchronous here (libuv thread pool) because on a network filesystem whose server is
 * gone it can block for minutes: a round waits at most `timeoutMs`, a mount that did not answer is
 * skipped (counted in `statfs_timeouts_total`, logged once) and is not asked again until its
 * pending call returns, so a dead server holds at most one pool thread per mount.
 */
import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, SelfCounter } from '@sextant/plugin-api';
import { FORGET_AFTER_ROUNDS, type SeenDevice } from './device-states.js';
import { HOST_METRICS } from './host-metrics.js';
import type { HostSeries } from './host-series.js';
import type { MountEntry } from './mounts.js';
import type { NameFilter } from './name-filter.js';

const STATES = ['used', 'free', 'reserved'] as const;
const INODE_STATES = ['used', 'free'] as const;

class MountState implements SeenDevice {
  lastSeenRound = 0;
  usageIds: number[] | undefined;
  utilizationId = -2;
  inodeIds: number[] | undefined;
  /** Set while a statfs call is outstanding. */
  pending: Promise<void> | undefined;
  result: StatsFs | undefined;
  /** errno of the last failed call, to log each distinct failure once. */
  lastError: string | undefined;
  timedOut = false;

  constructor(readonly entry: MountEntry) {}
}

export interface FilesystemRecorderOptions {
  readonly hostRoot: string;
  readonly typeFilter: NameFilter;
  readonly mountpointFilter: NameFilter;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly statfsErrors: SelfCounter;
  readonly statfsTimeouts: SelfCounter;
}

export class FilesystemRecorder {
  /** Keyed by mountpoint, device and type: a remount with another device is a new filesystem. */
  private readonly byKey = new Map<string, MountState>();
  private round = 0;

  constructor(
    private readonly series: HostSeries,
    private readonly options: FilesystemRecorderOptions,
  ) {}

  async record(entries: readonly MountEntry[], signal: AbortSignal): Promise<void> {
    this.round++;
    const asked: MountState[] = [];
    const calls: Promise<void>[] = [];
    for (const entry of entries) {
      if (!this.options.typeFilter.accepts(entry.fsType) || !this.options.mountpointFilter.accepts(entry.mountpoint)) continue;
      const state = this.stateOf(entry);
      if (state.pending) continue;
      state.result = undefined;
      state.pending = this.ask(state);
      asked.push(state);
      calls.push(state.pending);
    }
    if (calls.length > 0) await this.waitAtMost(Promise.all(calls), signal);
    for (const state of asked) {
      if (state.pending) {
        this.options.statfsTimeouts.add(1);
        if (!state.timedOut) this.options.logger.warn(`statfs(${state.entry.mountpoint}) did not answer within ${this.options.timeoutMs} ms; skipping it until it does`, { mountpoint: state.entry.mountpoint });
        state.timedOut = true;
        continue;
      }
      state.timedOut = false;
      if (state.result) this.write(state, state.result);
    }
    if (this.round % FORGET_AFTER_ROUNDS === 0) {
      for (const [key, state] of this.byKey) {
        if (!state.pending && this.round - state.lastSeenRound >= FORGET_AFTER_ROUNDS) this.byKey.delete(key);
      }
    }
  }

  private stateOf(entry: MountEntry): MountState {
    const key = `${entry.mountpoint}\u0000${entry.device}\u0000${entry.fsType}`;
    let state = this.byKey.get(key);
    if (!state) {
      state = new MountState(entry);
      this.byKey.set(key, state);
    }
    state.lastSeenRound = this.round;
    return state;
  }

  private ask(state: MountState): Promise<void> {
    const path = join(this.options.hostRoot, state.entry.mountpoint);
    return statfs(path).then(
      (result) => {
        state.result = result;
        state.lastError = undefined;
        state.pending = undefined;
      },
      (error: NodeJS.ErrnoException) => {
        const errno = error.code ?? 'EIO';
        this.options.statfsErrors.add(1);
        if (state.lastError !== errno) this.options.logger.warn(`statfs(${path}) failed (${errno}); its filesystem metrics are skipped`, { mountpoint: state.entry.mountpoint, errno });
        state.lastError = errno;
        state.pending = undefined;
      },
    );
  }

  private waitAtMost(work: Promise<unknown>, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.options.timeoutMs);
      timer.unref?.();
      if (signal.aborted) return done();
      signal.addEventListener('abort', done, { once: true });
      void work.then(done);
    });
  }

  private write(state: MountState, fs: StatsFs): void {
    const { device, mountpoint, fsType } = state.entry;
    const base = { 'system.device': device, 'system.filesystem.mountpoint': mountpoint, 'system.filesystem.type': fsType };
    if (!state.usageIds) {
      state.usageIds = STATES.map((s) => this.series.id(HOST_METRICS.filesystemUsage, { ...base, 'system.filesystem.state': s }));
      state.utilizationId = this.series.id(HOST_METRICS.filesystemUtilization, base);
    }
    const used = (fs.blocks - fs.bfree) * fs.bsize;
    const free = fs.bavail * fs.bsize;
    const reserved = Math.max(0, fs.bfree - fs.bavail) * fs.bsize;
    this.series.write(state.usageIds[0], used);
    this.series.write(state.usageIds[1], free);
    this.series.write(state.usageIds[2], reserved);
    if (used + free > 0) this.series.write(state.utilizationId, used / (used + free));
    if (fs.files > 0) {
      state.inodeIds ??= INODE_STATES.map((s) => this.series.id(HOST_METRICS.filesystemInodesUsage, { ...base, 'system.filesystem.state': s }));
      this.series.write(state.inodeIds[0], fs.files - fs.ffree);
      this.series.write(state.inodeIds[1], fs.ffree);
    }
  }
}
