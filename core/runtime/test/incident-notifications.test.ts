/**
 * Which notifications went out for an incident (GET /api/v1/incidents/{id}/notifications), through
 * a real runtime delivering to a real HTTP receiver on 127.0.0.1 and a second notifier instance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { DeliveryRecord } from '../src/outbox/index.js';
import { TestReceiver, incidentUpdate, notifierPlugin, runFor, script } from './outbox-support.js';

let rt: TestRuntime | undefined;
let receiver: TestReceiver | undefined;
afterEach(async () => {
  await rt?.stop();
  await receiver?.stop();
  rt = undefined;
  receiver = undefined;
});

interface Row {
  notifier: string;
  sequence: number;
  change: string;
  outcome: string;
  attempts: number;
  at: number;
  error?: string;
}

describe('GET /api/v1/incidents/{id}/notifications', () => {
  it('lists per notifier and update what was delivered, what is being retried, refused and held back', async () => {
    const clock = new FakeClock();
    receiver = new TestReceiver();
    await receiver.start();
    await receiver.setMode('fail-500');
    script('chat-ok', () => ({ ok: true }));
    rt = await startTestRuntime({
      plugins: [notifierPlugin],
      clock,
      api: true,
      config: { notifiers: { 'http-post/ops': { url: receiver.url }, 'scripted/chat': { script: 'chat-ok' } }, notifications: { backoff: { initial: '1s', max: '5s' }, expiry: '1h' } },
    });
    expect(rt.problems).toEqual([]);
    await rt.runtime.dispatcher.ready();
    const rows = async (id: string) => {
      const res = await fetch(`${rt!.url}/api/v1/incidents/${encodeURIComponent(id)}/notifications`);
      return { status: res.status, body: (await res.json()) as { notifications: Row[]; error?: { message: string; hint: string } } };
    };

    rt.runtime.pipeline.publishIncident(incidentUpdate('inc-n', 1));
    await runFor(rt.runtime, clock, 3_000);
    let list = (await rows('inc-n')).body.notifications;
    expect(list.map((r) => [r.notifier, r.sequence, r.outcome])).toEqual([['http-post/ops', 1, 'pending'], ['scripted/chat', 1, 'delivered']]);
    expect(list[0].attempts).toBeGreaterThanOrEqual(1);
    expect(list[0].error).toBe('HTTP 500');

    await receiver.setMode('ok');
    await runFor(rt.runtime, clock, 10_000);
    list = (await rows('inc-n')).body.notifications;
    expect(list.find((r) => r.notifier === 'http-post/ops')).toMatchObject({ sequence: 1, change: 'opened', outcome: 'delivered' });
    expect(list.find((r) => r.notifier === 'http-post/ops')!.attempts).toBeGreaterThanOrEqual(2);

    await receiver.setMode('reject-400');
    rt.runtime.pipeline.publishIncident(incidentUpdate('inc-n', 2));
    await runFor(rt.runtime, clock, 3_000);
    rt.runtime.pipeline.publishIncident(incidentUpdate('inc-n', 3, {}, { notify: false, reason: 'silenced: db migration' }));
    await runFor(rt.runtime, clock, 1_000);
    list = (await rows('inc-n')).body.notifications;
    expect(list.map((r) => [r.notifier, r.sequence, r.outcome])).toEqual([
      ['http-post/ops', 3, 'held'],
      ['scripted/chat', 3, 'held'],
      ['http-post/ops', 2, 'failed'],
      ['scripted/chat', 2, 'delivered'],
      ['http-post/ops', 1, 'delivered'],
      ['scripted/chat', 1, 'delivered'],
    ]);
    expect(list[0]).toMatchObject({ attempts: 0, error: 'silenced: db migration' });
    expect(list[2]).toMatchObject({ attempts: 1, error: 'refused: HTTP 400' });
    // what the receiver saw agrees: update 1 accepted once, 2 refused, 3 never sent
    expect(receiver.accepted.map((r) => r.sequence)).toEqual([1]);
    expect(receiver.requests.some((r) => r.sequence === 3)).toBe(false);

    const unknown = await rows('inc-nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.hint).toContain('GET /api/v1/incidents');
  });
});

describe('DeliveryRecord', () => {
  it('keeps the newest rows per incident and forgets the incidents touched least recently', () => {
    const record = new DeliveryRecord({ perIncident: 3, incidents: 2 });
    for (let s = 1; s <= 5; s++) record.note('a', { notifier: 'n', sequence: s, change: 'updated', outcome: 'delivered', attempts: 1, at: s });
    expect(record.of('a').map((r) => r.sequence)).toEqual([5, 4, 3]);
    record.note('a', { notifier: 'n', sequence: 5, change: 'updated', outcome: 'failed', attempts: 2, at: 6 });
    expect(record.of('a').map((r) => [r.sequence, r.outcome])).toEqual([[5, 'failed'], [4, 'delivered'], [3, 'delivered']]);
    record.note('b', { notifier: 'n', sequence: 1, change: 'opened', outcome: 'pending', attempts: 0, at: 7 });
    record.note('a', { notifier: 'n', sequence: 6, change: 'updated', outcome: 'pending', attempts: 0, at: 8 });
    record.note('c', { notifier: 'n', sequence: 1, change: 'opened', outcome: 'pending', attempts: 0, at: 9 });
    expect(record.incidents).toBe(2);
    expect(record.of('b')).toEqual([]);
    expect(record.of('a')).toHaveLength(3);
  });
});
