/**
 * Follows the engine's `/events` stream across disconnects without losing or repeating an event.
 *
 * Contract:
 * - Every event is delivered once, in engine order, as long as the gap between two connections
 *   stays inside the engine's replay buffer (Docker keeps its last 256 events in memory; an engine
 *   restart empties it, but a stopped engine makes no events either).
 * - The cursor is the `timeNano` of the newest event delivered. A reconnect asks for
 *   `since=<cursor>` (the engine's `since` is inclusive), so the events that share the cursor's
 *   nanosecond come back: the ones already delivered are recognised by their content and dropped
 *   (counted in {@link ResumableEventStream.duplicatesDropped}).
 * - The first connection already asks for `since=<now>` (the clock's time at start, or the saved
 *   `resumeFrom` position): events from that moment on are delivered even if they happen while
 *   the connection is being set up, and none from before it. The clock must be the engine's wall
 *   clock (same host, or synchronised).
 * - Reconnects back off exponentially (250 ms doubling, capped at `maxBackoffMs`, no jitter:
 *   `backoffDelayMs` of `@sextant/plugin-kit`); the state goes
 *   through `onState` so a collector can report it.
 */
import { formatError, isSextantError, ErrorCode, SextantError, type Clock } from '@sextant/plugin-api';
import { backoffDelayMs } from '@sextant/plugin-kit';
import type { EngineClient } from './engine-client.js';
import type { EngineEvent } from './engine-types.js';

export type EventStreamState =
  /** Connected and live. `replayed` is true when the connection resumed from a cursor. */
  | { readonly kind: 'open'; readonly replayed: boolean }
  /** Lost; reconnecting after `retryInMs`. */
  | { readonly kind: 'reconnecting'; readonly error: SextantError; readonly retryInMs: number };

export interface ResumableEventStreamOptions {
  readonly client: EngineClient;
  /** `/events` filters, e.g. `{ type: ['service', 'node'] }`. */
  readonly filters: Readonly<Record<string, readonly string[]>>;
  readonly onEvent: (event: EngineEvent) => void;
  readonly onMalformed?: (line: string) => void;
  readonly onState?: (state: EventStreamState) => void;
  readonly clock: Clock;
  readonly maxBackoffMs?: number;
  /**
   * Where a previous run stopped ({@link ResumableEventStream.position}): the first connection
   * then replays from there, so a restarted agent catches up on what happened while it was down.
   */
  readonly resumeFrom?: EventStreamPosition;
}

/** A resume position that can be saved (JSON) and handed to the next run. */
export interface EventStreamPosition {
  /** The cursor: `timeNano` of the newest delivered event, as a decimal string. */
  readonly timeNano: string;
  /** Identities of the delivered events at the cursor (they come back on replay and are dropped). */
  readonly delivered: readonly string[];
}

/** A nanosecond timestamp as the `since` parameter: `<seconds>.<nanoseconds>`. */
export function sinceParameter(timeNano: bigint): string {
  const s = timeNano / 1_000_000_000n;
  const ns = timeNano % 1_000_000_000n;
  return `${s}.${ns.toString().padStart(9, '0')}`;
}

/**
 * The event's time in nanoseconds. `timeNano` arrives as a JSON number above 2^53, so it is
 * rounded by the parser (to ~256 ns); identity at the cursor therefore also uses the content.
 */
function timeNanoOf(e: EngineEvent): bigint | undefined {
  if (typeof e.timeNano === 'number' && Number.isFinite(e.timeNano) && e.timeNano > 0) return BigInt(Math.round(e.timeNano));
  if (typeof e.time === 'number' && Number.isFinite(e.time) && e.time > 0) return BigInt(Math.round(e.time)) * 1_000_000_000n;
  return undefined;
}

function identity(e: EngineEvent): string {
  return JSON.stringify([e.Type, e.Action, e.Actor?.ID, e.Actor?.Attributes ?? null, e.timeNano ?? e.time]);
}

/** Slack around the cursor for the rounding of `timeNano` by JSON.parse (doubles near 1.8e18 are 256 ns apart). */
const ROUNDING_NS = 1_000n;

export class ResumableEventStream {
  /** Events dropped because an earlier connection had delivered them. */
  duplicatesDropped = 0;
  /** Times the stream was reopened after it ended or failed. */
  reconnects = 0;
  private cursor: bigint | undefined;
  /** Identities of delivered events within {@link ROUNDING_NS} of the cursor. */
  private atCursor = new Map<string, bigint>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private cancelSleep: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private interrupt: AbortController | undefined;

  constructor(private readonly options: ResumableEventStreamOptions) {
    const from = options.resumeFrom;
    if (from && /^\d{1,20}$/.test(from.timeNano) && Array.isArray(from.delivered)) {
      this.cursor = BigInt(from.timeNano);
      for (const id of from.delivered) if (typeof id === 'string') this.atCursor.set(id, this.cursor);
    }
  }

  /** Where the stream stands now, to save and pass as `resumeFrom` next run; undefined before start(). */
  get position(): EventStreamPosition | undefined {
    return this.cursor === undefined ? undefined : { timeNano: this.cursor.toString(), delivered: [...this.atCursor.keys()] };
  }

  /** Starts following in the background; resolves once the first connection is open or has failed. */
  start(): Promise<void> {
    return new Promise((resolveFirst) => {
      this.loop = this.run(resolveFirst);
    });
  }

  /** The resume cursor as a `since` value (less the rounding slack), or undefined before start(). */
  get since(): string | undefined {
    return this.cursor === undefined ? undefined : sinceParameter(this.cursor > ROUNDING_NS ? this.cursor - ROUNDING_NS : 0n);
  }

  /** Drops the current connection (it reconnects from the cursor). For fault tests and manual resync. */
  breakConnection(): void {
    this.interrupt?.abort();
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.cancelSleep?.();
    this.wake?.();
    await this.loop;
  }

  private async run(firstDone: () => void): Promise<void> {
    let failures = 0;
    let first = true;
    let resumed = this.cursor !== undefined;
    this.cursor ??= BigInt(Math.floor(this.options.clock.now())) * 1_000_000n;
    while (!this.closed) {
      const connection = new AbortController();
      this.interrupt = connection;
      const signal = AbortSignal.any([this.abort.signal, connection.signal]);
      let opened = false;
      let error: SextantError | undefined;
      try {
        await this.options.client.followEvents((e) => this.deliver(e), (line) => this.options.onMalformed?.(line), signal, {
          filters: this.options.filters,
          since: this.since,
          onOpen: () => {
            opened = true;
            failures = 0;
            this.options.onState?.({ kind: 'open', replayed: resumed });
            if (first) {
              first = false;
              firstDone();
            }
          },
        });
      } catch (e) {
        error = isSextantError(e) ? e : new SextantError(ErrorCode.CONNECTION_FAILED, formatError(e));
      }
      if (this.closed) break;
      if (opened) resumed = true;
      if (!opened) failures++;
      this.reconnects++;
      // After a stream that was open, reconnect almost at once (not in a hot loop if the engine keeps dropping it).
      const retryInMs = opened ? 100 : backoffDelayMs(failures, { initialMs: 250, maxMs: this.options.maxBackoffMs ?? 30_000, jitter: 0 });
      this.options.onState?.({
        kind: 'reconnecting',
        error: error ?? new SextantError(ErrorCode.CONNECTION_FAILED, `event stream from ${this.options.client.socketPath} ended (engine restarted?)`, { hint: 'reconnecting by itself' }),
        retryInMs,
      });
      if (first) {
        first = false;
        firstDone();
      }
      await this.sleep(retryInMs);
    }
    if (first) firstDone();
  }

  private deliver(e: EngineEvent): void {
    const t = timeNanoOf(e);
    if (t !== undefined && this.cursor !== undefined) {
      if (t + ROUNDING_NS < this.cursor) {
        this.duplicatesDropped++;
        return;
      }
      const id = identity(e);
      if (this.atCursor.has(id)) {
        this.duplicatesDropped++;
        return;
      }
      if (t > this.cursor) {
        this.cursor = t;
        for (const [k, at] of this.atCursor) if (at + ROUNDING_NS < t) this.atCursor.delete(k);
      }
      this.atCursor.set(id, t);
    } else if (t !== undefined) {
      this.cursor = t;
      this.atCursor.set(identity(e), t);
    }
    this.options.onEvent(e);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.cancelSleep = this.options.clock.setTimeout(resolve, ms);
    });
  }
}
