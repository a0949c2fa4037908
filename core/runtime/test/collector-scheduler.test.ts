/**
 * CollectorScheduler on its own (the runtime-level behaviour is in collector-scheduling.test.ts):
 * when rounds fall due, what is reported, and that stop() really stops.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSextantError } from '@sextant/plugin-api';
import { FakeClock } from '@sextant/testkit';
import { CollectorScheduler, type CollectorRoundObserver } from '../src/runtime/collector-scheduler.js';

const settle = () => new Promise((r) => setImmediate(r));

function recorder() {
  const events: string[] = [];
  const errors: unknown[] = [];
  const observer: CollectorRoundObserver = {
    succeeded: () => events.push('ok'),
    failed: (e) => {
      events.push('failed');
      errors.push(e);
    },
    skipped: (_ms, n) => events.push(`skipped:${n}`),
    finished: () => events.push('finished'),
  };
  return { events, errors, observer };
}

describe('CollectorScheduler', () => {
  it('runs a round every interval, measured from the start of the previous one', async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    const { events, observer } = recorder();
    const scheduler = new CollectorScheduler({ name: 'test', collect: () => void starts.push(clock.now()), intervalMs: 1000, clock, observer });
    scheduler.start(true);
    await settle();
    await clock.advanceAsync(3000);
    expect(starts).toEqual([0, 1000, 2000, 3000]);
    expect(events.filter((e) => e === 'ok')).toHaveLength(4);
    scheduler.stop();
  });

  it('a collector that honours its abort signal times out, is reported with a coded error, and runs again one interval later without skipping', async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    const { events, errors, observer } = recorder();
    let slow = true;
    const collect = (signal: AbortSignal) => {
      starts.push(clock.now());
      if (!slow) return;
      slow = false;
      return new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    };
    const scheduler = new CollectorScheduler({ name: 'test', collect, intervalMs: 1000, clock, observer });
    scheduler.start(true);
    await settle();
    await clock.advanceAsync(2000);
    expect(starts).toEqual([0, 2000]);
    expect(events).toEqual(['failed', 'finished', 'ok', 'finished']);
    expect(isSextantError(errors[0]) && errors[0].code).toBe(ErrorCode.COLLECT_FAILED);
    expect(scheduler.skipped).toBe(0);
    expect(scheduler.stuck).toBe(false);
    scheduler.stop();
  });

  it('a collect() that throws synchronously is a failed round, and the schedule goes on', async () => {
    const clock = new FakeClock(0);
    const { events, observer } = recorder();
    const scheduler = new CollectorScheduler({
      name: 'test',
      collect: () => {
        throw new Error('connection refused');
      },
      intervalMs: 1000,
      clock,
      observer,
    });
    scheduler.start(true);
    await settle();
    await clock.advanceAsync(1000);
    expect(events).toEqual(['failed', 'finished', 'failed', 'finished']);
    scheduler.stop();
  });

  it('collectNow() on a stuck collector returns at once, counted as skipped, without calling collect() again', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    let release!: () => void;
    const { events, observer } = recorder();
    const scheduler = new CollectorScheduler({
      name: 'test',
      collect: () => {
        calls++;
        return new Promise<void>((resolve) => (release = resolve)); // ignores its signal
      },
      intervalMs: 1000,
      clock,
      observer,
    });
    scheduler.start(true);
    await settle();
    await clock.advanceAsync(1000); // times out
    expect(scheduler.stuck).toBe(true);
    await scheduler.collectNow();
    expect(calls).toBe(1);
    expect(scheduler.skipped).toBe(1);
    expect(events).toEqual(['failed', 'finished', 'skipped:1']);
    release();
    await settle();
    expect(scheduler.stuck).toBe(false);
    await clock.advanceAsync(1000); // the next due round runs
    expect(calls).toBe(2);
    scheduler.stop();
  });

  it('after stop() no round starts and nothing is reported, even when the round in flight returns', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    let release!: () => void;
    const { events, observer } = recorder();
    const scheduler = new CollectorScheduler({
      name: 'test',
      collect: (signal) => {
        calls++;
        return new Promise<void>((resolve) => {
          release = resolve;
          expect(signal.aborted).toBe(false);
        });
      },
      intervalMs: 1000,
      clock,
      observer,
    });
    scheduler.start(true);
    await settle();
    scheduler.stop();
    release();
    await settle();
    await clock.advanceAsync(5000);
    expect(calls).toBe(1);
    expect(events).toEqual(['finished']); // the sink is still flushed; no success, failure or skip
    await scheduler.collectNow();
    expect(calls).toBe(1);
  });
});
