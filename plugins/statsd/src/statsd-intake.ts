/**
 * From received text to the aggregator: splits a packet into lines, parses each, records the good
 * ones and counts the rest by reason. A bad line never costs the other lines of its packet.
 *
 * Counting is per packet (one `add` per reason per packet), not per line, so the self-metrics
 * cost nothing on the hot path.
 */
import type { SelfCounter } from '@sextant/plugin-api';
import type { RecordOutcome, StatsdAggregator } from './statsd-aggregator.js';
import { parseDogStatsdEvent, type DogStatsdEvent } from './dogstatsd-event.js';
import { newParsedLine, parseStatsdLine, type MalformedReason } from './statsd-line.js';

/** Takes a DogStatsD event; returns false when it was not kept (the per-interval cap). */
export type StatsdEventHandler = (event: DogStatsdEvent) => boolean;

export interface StatsdIntakeCounters {
  /** Lines recorded. */
  readonly lines: SelfCounter;
  /** Lines refused, by `reason` ({@link MalformedReason}, plus `series_limit`). */
  readonly malformed: SelfCounter;
  /** DogStatsD service checks, and events beyond the cap or without a handler, by `kind`, ignored. */
  readonly ignored: SelfCounter;
  /** DogStatsD events passed on as Sextant events. */
  readonly events: SelfCounter;
}

export interface StatsdIntakeTotals {
  lines: number;
  malformed: number;
  ignored: number;
  events: number;
}

export class StatsdIntake {
  /** Running totals (also exported as self-metrics); tests and the benchmark read them. */
  readonly totals: StatsdIntakeTotals = { lines: 0, malformed: 0, ignored: 0, events: 0 };
  private readonly line = newParsedLine();
  private readonly refused = new Map<string, number>();

  constructor(
    private readonly aggregator: StatsdAggregator,
    private readonly counters: StatsdIntakeCounters | undefined,
    private readonly now: () => number,
    /** Longer lines are refused as `too_long` (bounds the work and memory per line). */
    private readonly maxLineBytes = Number.POSITIVE_INFINITY,
    /** Where DogStatsD events go; without one they are counted as ignored. */
    private readonly onEvent?: StatsdEventHandler,
  ) {}

  /** Ingests newline-separated lines (one datagram, or a run of complete TCP lines). */
  ingest(text: string): void {
    const now = this.now();
    let lines = 0;
    let events = 0;
    let eventsKept = 0;
    let checks = 0;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const raw = text.slice(start, end);
      const outcome = end - start > this.maxLineBytes ? 'too_long' : parseStatsdLine(raw, this.line);
      start = end + 1;
      if (outcome === 'ok') {
        const recorded = this.aggregator.record(this.line, now);
        if (recorded === 'ok') lines++;
        else this.refuse(recorded);
      } else if (outcome === 'empty') continue;
      else if (outcome === 'event') {
        if (this.onEvent === undefined) events++;
        else {
          const event = parseDogStatsdEvent(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
          if (event === undefined) this.refuse('event');
          else if (this.onEvent(event)) eventsKept++;
          else events++; // over the per-interval cap
        }
      } else if (outcome === 'service_check') checks++;
      else this.refuse(outcome);
    }
    this.totals.lines += lines;
    if (lines > 0) this.counters?.lines.add(lines);
    if (events > 0) this.counters?.ignored.add(events, { kind: 'event' });
    if (eventsKept > 0) this.counters?.events.add(eventsKept);
    this.totals.events += eventsKept;
    if (checks > 0) this.counters?.ignored.add(checks, { kind: 'service_check' });
    this.totals.ignored += events + checks;
    if (this.refused.size > 0) {
      for (const [reason, n] of this.refused) {
        this.totals.malformed += n;
        this.counters?.malformed.add(n, { reason });
      }
      this.refused.clear();
    }
  }

  /** Counts input cut by the listener (an oversized datagram or TCP line). */
  oversize(what: 'packet' | 'line'): void {
    this.totals.malformed++;
    this.counters?.malformed.add(1, { reason: what === 'packet' ? 'packet_too_large' : 'too_long' });
  }

  private refuse(reason: MalformedReason | Exclude<RecordOutcome, 'ok'> | 'event'): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }
}
