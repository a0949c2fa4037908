/**
 * Keeps a plugin child alive: restarts it after a crash with capped exponential backoff,
 * re-creates every instance that existed, and quarantines the plugin after a crash loop.
 *
 * Backoff: the n-th crash within `windowMs` waits `min(maxDelayMs, initialDelayMs * 2^(n-1))`
 * before the restart; `quarantineAfter` crashes within `windowMs` stop restarts for good
 * (state `quarantined`; every instance reports `quarantined`). A launch that fails its handshake
 * during a restart counts as a crash.
 */
import type { Clock, HealthState, Logger } from '@sextant/plugin-api';
import { ErrorCode, SextantError, formatError } from '@sextant/plugin-api';
import { backoffDelayMs } from '@sextant/plugin-kit';
import { PluginProcess, type PluginProcessOptions, type ProcessExit } from './plugin-process.js';

/** Status codes for instance statuses set by the supervisor (not yet in ErrorCode; see README). */
export const PLUGIN_CRASHED_CODE = 'SEXTANT_ERR_PLUGIN_CRASHED';
export const PLUGIN_QUARANTINED_CODE = 'SEXTANT_ERR_PLUGIN_QUARANTINED';

export interface RestartPolicy {
  /** Delay before the first restart after a crash, ms. Default 200. */
  readonly initialDelayMs?: number;
  /** Upper bound of the doubling delay, ms. Default 30000. */
  readonly maxDelayMs?: number;
  /** Crashes within `windowMs` that quarantine the plugin. Default 5. */
  readonly quarantineAfter?: number;
  /** Default 60000. */
  readonly windowMs?: number;
}

export type RemotePluginState = 'starting' | 'running' | 'restarting' | 'quarantined' | 'stopped';

export interface RemotePluginStatus {
  readonly state: RemotePluginState;
  /** pid of the current child (undefined while it is down). */
  readonly pid: number | undefined;
  /** Successful restarts since launch. */
  readonly restarts: number;
  /** Unexpected exits (and failed relaunches) since launch. */
  readonly crashes: number;
  readonly lastError: string | undefined;
  readonly quarantined: boolean;
  /** Delay before the pending restart, ms (while `restarting`). */
  readonly nextRestartInMs: number | undefined;
  readonly socketPath: string | undefined;
  readonly instances: number;
}

/** What the supervisor needs from a host-side proxy instance. */
export interface SupervisedInstance {
  /** (Re)creates the instance in `process`: Configure, open streams, Start if it was started. */
  attach(process: PluginProcess, afterRestart: boolean): Promise<void>;
  /** The child is gone: drop streams, fail pending calls, report `state` with `message`. */
  detach(state: HealthState, message: string, code: string): void;
  /** Self-metric hooks: restarts_total / crashes_total. */
  countCrash(): void;
  countRestart(): void;
}

export class PluginSupervisor {
  private current: PluginProcess | undefined;
  private state: RemotePluginState = 'starting';
  private restarts = 0;
  private crashes = 0;
  private lastError: string | undefined;
  private crashTimes: number[] = [];
  private nextDelay: number | undefined;
  private cancelRestart: (() => void) | undefined;
  private waiters: { resolve: (p: PluginProcess) => void; reject: (e: unknown) => void }[] = [];
  readonly instances = new Set<SupervisedInstance>();
  private readonly policy: Required<RestartPolicy>;

  constructor(
    private readonly options: PluginProcessOptions,
    private readonly clock: Clock,
    policy: RestartPolicy | undefined,
    private readonly onStatus: ((status: RemotePluginStatus) => void) | undefined,
  ) {
    this.policy = {
      initialDelayMs: policy?.initialDelayMs ?? 200,
      maxDelayMs: policy?.maxDelayMs ?? 30_000,
      quarantineAfter: policy?.quarantineAfter ?? 5,
      windowMs: policy?.windowMs ?? 60_000,
    };
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /** First launch. Throws the handshake error; nothing is restarted for a plugin that never started. */
  async start(): Promise<PluginProcess> {
    const proc = await PluginProcess.launch(this.options);
    this.adopt(proc);
    return proc;
  }

  status(): RemotePluginStatus {
    return {
      state: this.state,
      pid: this.state === 'running' ? this.current?.pid : undefined,
      restarts: this.restarts,
      crashes: this.crashes,
      lastError: this.lastError,
      quarantined: this.state === 'quarantined',
      nextRestartInMs: this.state === 'restarting' ? this.nextDelay : undefined,
      socketPath: this.current?.socketPath,
      instances: this.instances.size,
    };
  }

  /** The running child; waits during a restart (up to `timeoutMs`); rejects when quarantined or stopped. */
  ready(timeoutMs = this.options.handshakeTimeoutMs + this.policy.maxDelayMs): Promise<PluginProcess> {
    if (this.state === 'running' && this.current) return Promise.resolve(this.current);
    if (this.state === 'quarantined' || this.state === 'stopped') return Promise.reject(this.unavailableError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== resolve);
        reject(this.unavailableError());
      }, timeoutMs);
      this.waiters.push({
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** The running child, or undefined while it is down. */
  get process(): PluginProcess | undefined {
    return this.state === 'running' ? this.current : undefined;
  }

  unavailableError(): SextantError {
    const name = this.options.displayName;
    if (this.state === 'quarantined') {
      return new SextantError(ErrorCode.INTERNAL, `plugin "${name}" is quarantined after ${this.crashes} crashes (last: ${this.lastError ?? 'unknown'})`, {
        hint: 'fix the plugin (see its log), then restart the agent',
      });
    }
    if (this.state === 'stopped') return new SextantError(ErrorCode.INTERNAL, `plugin "${name}" has been shut down`);
    return new SextantError(ErrorCode.INTERNAL, `plugin "${name}" is restarting (last error: ${this.lastError ?? 'none'})`, { hint: 'try again in a moment' });
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.cancelRestart?.();
    this.cancelRestart = undefined;
    for (const w of this.waiters.splice(0)) w.reject(this.unavailableError());
    const proc = this.current;
    this.current = undefined;
    this.emit();
    await proc?.stop();
  }

  private adopt(proc: PluginProcess): void {
    this.current = proc;
    this.state = 'running';
    this.nextDelay = undefined;
    void proc.exited.then((exit) => this.onExit(proc, exit));
  }

  private emit(): void {
    try {
      this.onStatus?.(this.status());
    } catch (error) {
      this.logger.warn(`onStatus threw: ${formatError(error)}`);
    }
  }

  private onExit(proc: PluginProcess, exit: ProcessExit): void {
    if (proc !== this.current || this.state === 'stopped') return;
    const reason = `plugin process ${proc.pid ?? ''} exited unexpectedly (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})`.replace('  ', ' ');
    void proc.discard();
    this.current = undefined;
    this.crashed(reason);
  }

  private crashed(reason: string): void {
    this.crashes++;
    this.lastError = reason;
    const now = this.clock.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < this.policy.windowMs);
    this.crashTimes.push(now);
    for (const instance of this.instances) instance.countCrash();
    const name = this.options.displayName;
    if (this.crashTimes.length >= this.policy.quarantineAfter) {
      this.state = 'quarantined';
      const message = `plugin "${name}" crashed ${this.crashTimes.length} times within ${Math.round(this.policy.windowMs / 1000)} s and is quarantined (last: ${reason}); no more restarts — fix the plugin, then restart the agent`;
      this.logger.error(message, { plugin: name });
      for (const instance of this.instances) instance.detach('quarantined', message, PLUGIN_QUARANTINED_CODE);
      for (const w of this.waiters.splice(0)) w.reject(this.unavailableError());
      this.emit();
      return;
    }
    const delay = backoffDelayMs(this.crashTimes.length, { initialMs: this.policy.initialDelayMs, maxMs: this.policy.maxDelayMs, jitter: 0 });
    this.state = 'restarting';
    this.nextDelay = delay;
    const message = `${reason}; restarting in ${delay} ms (crash ${this.crashTimes.length} of ${this.policy.quarantineAfter} allowed within ${Math.round(this.policy.windowMs / 1000)} s)`;
    this.logger.warn(message, { plugin: name });
    for (const instance of this.instances) instance.detach('error', message, PLUGIN_CRASHED_CODE);
    this.emit();
    this.cancelRestart = this.clock.setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    this.cancelRestart = undefined;
    if (this.state !== 'restarting') return;
    let proc: PluginProcess;
    try {
      proc = await PluginProcess.launch(this.options);
    } catch (error) {
      if (this.state !== 'restarting') return;
      this.crashed(`relaunch failed: ${formatError(error)}`);
      return;
    }
    if (this.state !== 'restarting') {
      await proc.stop();
      return;
    }
    this.restarts++;
    // Current (so its exit is noticed) but not yet `running`: ready() waits until every instance is back.
    this.current = proc;
    void proc.exited.then((exit) => this.onExit(proc, exit));
    for (const instance of [...this.instances]) {
      if (!this.instances.has(instance)) continue;
      instance.countRestart();
      try {
        await instance.attach(proc, true);
      } catch (error) {
        if (proc !== this.current) return;
        instance.detach('error', `could not re-create the instance after a restart: ${formatError(error)}`, PLUGIN_CRASHED_CODE);
      }
      if (proc !== this.current) return;
    }
    this.state = 'running';
    this.nextDelay = undefined;
    this.logger.info(`plugin "${this.options.displayName}" restarted (restart ${this.restarts}, pid ${proc.pid})`, { plugin: this.options.displayName });
    for (const w of this.waiters.splice(0)) w.resolve(proc);
    this.emit();
  }
}
