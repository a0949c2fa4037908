/**
 * Runs one collector instance's rounds: one `collect()` every interval, each bounded by the
 * interval (its signal is aborted when the time is up), and never two calls at once.
 *
 * Contract (plugin-api `Collector.collect`: "never concurrently with itself"):
 * - A round that times out is reported as failed at once, but the call itself may keep running if
 *   the collector ignores its signal. Until that call returns, every round that falls due is
 *   skipped and reported (`skipped`), so the instance can say it is stuck; the first due round
 *   after the call returned runs normally.
 * - After a round that ran to the end, the next one starts one interval after the previous one
 *   started; after a timed-out or skipped round, one interval later.
 * - `collectNow()` joins the round in flight instead of starting another; with none in flight it
 *   runs one at once (outside the timer, which then joins it if it falls due meanwhile).
 * - After `stop()` nothing is reported any more; the round in flight is aborted.
 */
import { ErrorCode, SextantError, type Clock, type Collector } from '@sextant/plugin-api';

/** What the scheduler tells its owner (the runtime keeps status, metrics and the sink). */
export interface CollectorRoundObserver {
  /** A round returned without error. */
  succeeded(): void;
  /** A round threw or ran out of time. */
  failed(error: SextantError | unknown): void;
  /** A due round was not started: the timed-out call has not returned after `stuckForMs`. */
  skipped(stuckForMs: number, skippedRounds: number): void;
  /** After every round that was started, success or not, also after stop() (flush the sink, record the duration). */
  finished(durationMs: number): void;
}

export interface CollectorSchedulerOptions {
  /** The instance id, for messages. */
  readonly name: string;
  readonly collect: NonNullable<Collector['collect']>;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly observer: CollectorRoundObserver;
}

/** How a round ended; decides when the next one is due. */
type RoundOutcome = 'completed' | 'timed-out' | 'skipped';

export class CollectorScheduler {
  private inFlight?: Promise<RoundOutcome>;
  /** The collect() call still running, also after its round timed out. */
  private runningCall?: Promise<unknown>;
  /** When the running call's round timed out (the call is then stuck until it returns). */
  private timedOutAt?: number;
  private roundController?: AbortController;
  private cancelTimer?: () => void;
  private stopped = false;
  private skippedRounds = 0;

  constructor(private readonly options: CollectorSchedulerOptions) {}

  /** Starts the periodic rounds: the first one now, or after one interval. */
  start(immediately: boolean): void {
    if (immediately) void this.tick();
    else this.cancelTimer = this.options.clock.setTimeout(() => void this.tick(), this.options.intervalMs);
  }

  /** Rounds that fell due while a timed-out call had not returned. */
  get skipped(): number {
    return this.skippedRounds;
  }

  /** True while a call whose round timed out has not returned. */
  get stuck(): boolean {
    return this.timedOutAt !== undefined;
  }

  /** Runs a round now, or joins the one in flight; resolves when it has ended. */
  async collectNow(): Promise<void> {
    await this.round();
  }

  /** Stops the timer and aborts the round in flight; reports nothing after this. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.roundController?.abort(new SextantError(ErrorCode.COLLECT_FAILED, 'the instance is stopping'));
  }

  private async tick(): Promise<void> {
    this.cancelTimer = undefined;
    if (this.stopped) return;
    const { clock, intervalMs } = this.options;
    const started = clock.now();
    const outcome = await this.round();
    if (this.stopped) return;
    const delay = outcome === 'completed' ? Math.max(0, intervalMs - (clock.now() - started)) : intervalMs;
    this.cancelTimer = clock.setTimeout(() => void this.tick(), delay);
  }

  private round(): Promise<RoundOutcome> {
    if (this.stopped) return Promise.resolve('skipped');
    if (this.inFlight) return this.inFlight;
    if (this.runningCall) {
      this.skippedRounds++;
      this.options.observer.skipped(this.options.clock.now() - (this.timedOutAt ?? this.options.clock.now()), this.skippedRounds);
      return Promise.resolve('skipped');
    }
    const round = this.runRound().finally(() => {
      if (this.inFlight === round) this.inFlight = undefined;
    });
    this.inFlight = round;
    return round;
  }

  private async runRound(): Promise<RoundOutcome> {
    const { clock, intervalMs, observer } = this.options;
    const controller = new AbortController();
    this.roundController = controller;
    const t0 = performance.now();
    let call: Promise<unknown>;
    try {
      call = Promise.resolve(this.options.collect(controller.signal));
    } catch (e) {
      call = Promise.reject(e);
    }
    this.runningCall = call;
    void call.then(
      () => this.callReturned(call),
      () => this.callReturned(call),
    );
    let cancelTimeout: () => void = () => undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      cancelTimeout = clock.setTimeout(() => resolve('timeout'), intervalMs);
    });
    try {
      const result = await Promise.race([call.then(() => 'returned' as const), timeout]);
      if (result === 'returned') {
        if (!this.stopped) observer.succeeded();
        return 'completed';
      }
      this.timedOutAt = clock.now();
      const error = new SextantError(ErrorCode.COLLECT_FAILED, `${this.options.name}: collect() took longer than the ${intervalMs} ms interval`, {
        hint: 'the target is slow or unreachable; raise the interval, or make collect() honour its abort signal',
      });
      controller.abort(error);
      if (!this.stopped) observer.failed(error);
      return 'timed-out';
    } catch (e) {
      if (!this.stopped) observer.failed(e);
      return 'completed';
    } finally {
      cancelTimeout();
      if (this.roundController === controller) this.roundController = undefined;
      observer.finished(performance.now() - t0);
    }
  }

  private callReturned(call: Promise<unknown>): void {
    if (this.runningCall !== call) return;
    this.runningCall = undefined;
    this.timedOutAt = undefined;
  }
}

/**
 * The scheduling service (`TOKENS.scheduler`): makes and starts the scheduler of each collector
 * instance on the runtime's clock, first round now or after one interval (`collectImmediately`).
 */
export class CollectorScheduling {
  constructor(
    private readonly clock: Clock,
    private readonly immediately: boolean,
  ) {}

  start(options: Omit<CollectorSchedulerOptions, 'clock'>): CollectorScheduler {
    const scheduler = new CollectorScheduler({ ...options, clock: this.clock });
    scheduler.start(this.immediately);
    return scheduler;
  }
}
