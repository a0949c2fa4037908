/**
 * Delivery guarantees of the notification outbox (issue 8) through a real runtime with a fake
 * clock: outages of a real HTTP receiver, expiry, refusals, ordering per incident, routing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { validateRuntimeConfig, type RuntimeConfigInput } from '../src/index.js';
import { fullJitterBackoffMs, routeMatches } from '../src/outbox/index.js';
import { TestReceiver, incidentUpdate, notifierPlugin, runFor, runUntilDelivered, script, sequencesByIncident } from './outbox-support.js';

let rt: TestRuntime | undefined;
let receiver: TestReceiver | undefined;
afterEach(async () => {
  await rt?.stop();
  await receiver?.stop();
  rt = undefined;
  receiver = undefined;
});

async function start(clock: FakeClock, config: RuntimeConfigInput): Promise<TestRuntime> {
  rt = await startTestRuntime({ plugins: [notifierPlugin], clock, config });
  expect(rt.problems).toEqual([]);
  await rt.runtime.dispatcher.ready();
  return rt;
}

const metric = (t: TestRuntime, name: string, labels?: Record<string, string>) => t.runtime.telemetry.value(name, labels);

describe('outbox delivery', () => {
  it('delivers every update exactly once per key, in order per incident, after a 10-minute outage (500s, then refused connections)', async () => {
    const clock = new FakeClock();
    receiver = new TestReceiver();
    await receiver.start();
    await receiver.setMode('fail-500');
    const t = await start(clock, {
      notifiers: { 'http-post/ops': { url: receiver.url } },
      notifications: { backoff: { initial: '1s', max: '30s' }, expiry: '1h' },
    });
    const incidents = ['inc-a', 'inc-b', 'inc-c'];
    const next = new Map(incidents.map((i) => [i, 1]));
    let published = 0;
    // 10 simulated minutes, one update every 30 s round-robin over three incidents:
    // 5 minutes of HTTP 500, then 5 minutes with the port closed.
    for (let second = 0; second < 600; second += 30) {
      if (second === 300) await receiver.setMode('refuse');
      const id = incidents[published % incidents.length];
      const seq = next.get(id)!;
      next.set(id, seq + 1);
      t.runtime.pipeline.publishIncident(incidentUpdate(id, seq));
      published++;
      await runFor(t.runtime, clock, 30_000);
    }
    expect(receiver.accepted).toEqual([]);
    expect(receiver.requests.filter((r) => r.status === 500).length).toBeGreaterThan(0);
    const failures = metric(t, 'sextant_notification_failures_total', { notifier: 'http-post/ops' });
    expect(failures).toBeGreaterThan(receiver.requests.length); // refused attempts never reached the receiver
    expect(t.runtime.dispatcher.pending).toBe(published);
    expect(t.runtime.statuses().find((s) => s.id === 'http-post/ops')?.state).toBe('degraded');

    await receiver.setMode('ok');
    await runUntilDelivered(t.runtime, clock, 120_000);

    expect(t.runtime.dispatcher.pending).toBe(0);
    expect(receiver.accepted).toHaveLength(published);
    expect(receiver.duplicates).toEqual([]);
    expect(new Set(receiver.accepted.map((r) => r.key)).size).toBe(published);
    for (const [id, seqs] of sequencesByIncident(receiver.accepted)) {
      expect(seqs, id).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs, id).toEqual(Array.from({ length: next.get(id)! - 1 }, (_, i) => i + 1));
    }
    // In order also means: no request for sequence n+1 of an incident before n was accepted.
    for (const id of incidents) {
      const reqs = receiver.requests.filter((r) => r.incidentId === id);
      for (let i = 1; i < reqs.length; i++) expect(reqs[i].sequence).toBeGreaterThanOrEqual(reqs[i - 1].sequence);
    }
    expect(metric(t, 'sextant_notifications_delivered_total', { notifier: 'http-post/ops' })).toBe(published);
    expect(metric(t, 'sextant_outbox_pending', { notifier: 'http-post/ops' })).toBe(0);
    expect(t.runtime.statuses().find((s) => s.id === 'http-post/ops')?.state).toBe('ok');
  });

  it('expires updates that could not be delivered within the expiry, and counts them', async () => {
    const clock = new FakeClock();
    const calls = script('always-500', () => ({ ok: false, retryable: true, error: 'HTTP 500' }));
    const t = await start(clock, { notifiers: { 'scripted/x': { script: 'always-500' } }, notifications: { backoff: { initial: '1s', max: '10s' }, expiry: '2m' } });
    t.runtime.pipeline.publishIncident(incidentUpdate('inc-e', 1));
    t.runtime.pipeline.publishIncident(incidentUpdate('inc-e', 2));
    await runFor(t.runtime, clock, 119_000);
    expect(t.runtime.dispatcher.pending).toBe(2);
    expect(metric(t, 'sextant_notifications_expired_total', { notifier: 'scripted/x' })).toBe(0);
    await runFor(t.runtime, clock, 2_000);
    expect(t.runtime.dispatcher.pending).toBe(0);
    expect(metric(t, 'sextant_notifications_expired_total', { notifier: 'scripted/x' })).toBe(2);
    // The second update waited behind the first the whole time: never attempted.
    expect(calls.every((c) => c.idempotencyKey === 'inc-e:1')).toBe(true);
    expect(calls.length).toBeGreaterThan(5);
  });

  it('drops a non-retryable refusal with a counter and moves on to the next update of the incident', async () => {
    const clock = new FakeClock();
    receiver = new TestReceiver();
    await receiver.start();
    await receiver.setMode('reject-400');
    const t = await start(clock, { notifiers: { 'http-post/ops': { url: receiver.url } } });
    t.runtime.pipeline.publishIncident(incidentUpdate('inc-r', 1));
    await runFor(t.runtime, clock, 1000);
    expect(receiver.requests.map((r) => [r.key, r.status])).toEqual([['inc-r:1', 400]]);
    expect(metric(t, 'sextant_notifications_rejected_total', { notifier: 'http-post/ops' })).toBe(1);
    const status = t.runtime.statuses().find((s) => s.id === 'http-post/ops')!;
    expect(status.state).toBe('degraded');
    expect(status.message).toContain('inc-r:1');
    await receiver.setMode('ok');
    t.runtime.pipeline.publishIncident(incidentUpdate('inc-r', 2));
    await runUntilDelivered(t.runtime, clock, 10_000);
    await runFor(t.runtime, clock, 60_000);
    expect(receiver.accepted.map((r) => r.key)).toEqual(['inc-r:2']);
    expect(receiver.requests.filter((r) => r.key === 'inc-r:1')).toHaveLength(1); // never retried
  });

  it('keeps other incidents flowing while one incident is stuck, and honours retryAfterMs', async () => {
    const clock = new FakeClock();
    const calls = script('one-stuck', (n) =>
      n.update.incident.id === 'stuck' ? { ok: false, retryable: true, error: '429 slow down', retryAfterMs: 45_000 } : { ok: true },
    );
    const t = await start(clock, { notifiers: { 'scripted/x': { script: 'one-stuck' } } });
    t.runtime.pipeline.publishIncident(incidentUpdate('stuck', 1));
    t.runtime.pipeline.publishIncident(incidentUpdate('stuck', 2));
    t.runtime.pipeline.publishIncident(incidentUpdate('fine', 1));
    t.runtime.pipeline.publishIncident(incidentUpdate('fine', 2));
    await runFor(t.runtime, clock, 1000);
    const stuckAttempts = () => calls.filter((c) => c.idempotencyKey === 'stuck:1').map((c) => c.attempt);
    expect(calls.filter((c) => c.update.incident.id === 'fine').map((c) => c.idempotencyKey)).toEqual(['fine:1', 'fine:2']);
    expect(stuckAttempts()).toEqual([1]);
    const entry = t.runtime.dispatcher.entries().find((e) => e.key === 'stuck:1')!;
    expect(entry.nextAttemptAt - entry.enqueuedAt).toBe(45_000);
    await runFor(t.runtime, clock, 43_000);
    expect(stuckAttempts()).toEqual([1]);
    await runFor(t.runtime, clock, 2_000);
    expect(stuckAttempts()).toEqual([1, 2]);
    expect(calls.some((c) => c.idempotencyKey === 'stuck:2')).toBe(false);
  });

  it('never delivers updates held back by noise control (notify: false)', async () => {
    const clock = new FakeClock();
    const calls = script('ok', () => ({ ok: true }));
    const t = await start(clock, { notifiers: { 'scripted/x': { script: 'ok' } } });
    t.runtime.pipeline.publishIncident(incidentUpdate('inc-h', 1, {}, { notify: false }));
    t.runtime.pipeline.publishIncident(incidentUpdate('inc-h', 2));
    await runFor(t.runtime, clock, 5000);
    expect(calls.map((c) => c.idempotencyKey)).toEqual(['inc-h:2']);
    expect(metric(t, 'sextant_notifications_held_total')).toBe(1);
  });

  it('treats a notifier that throws, returns garbage or hangs as a retryable failure, and refuses malformed updates', async () => {
    const clock = new FakeClock();
    let round = 0;
    const calls = script('misbehaving', () => {
      round++;
      if (round === 1) throw new Error('boom');
      if (round === 2) return 'yes' as never;
      if (round === 3) return new Promise(() => {});
      return { ok: true };
    });
    const t = await start(clock, { notifiers: { 'scripted/x': { script: 'misbehaving' } }, notifications: { backoff: { initial: '1s', max: '2s' }, attemptTimeout: '10s' } });
    t.runtime.pipeline.publishIncident(incidentUpdate('inc-m', 1));
    t.runtime.dispatcher.enqueue({ ...incidentUpdate('inc-m', 2), sequence: Number.NaN });
    t.runtime.dispatcher.enqueue({ change: 'opened', sequence: 1 } as never);
    t.runtime.dispatcher.enqueue(null as never);
    expect(metric(t, 'sextant_notifications_invalid_total')).toBe(3);
    // The hanging attempt only ends when the fake clock passes its timeout: step without whenIdle().
    for (let i = 0; i < 60 && t.runtime.dispatcher.pending > 0; i++) {
      await clock.advanceAsync(1000);
      await new Promise((r) => setImmediate(r));
    }
    expect(t.runtime.dispatcher.pending).toBe(0);
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
    expect(metric(t, 'sextant_notification_failures_total', { notifier: 'scripted/x' })).toBe(3);
  });
});

describe('routing', () => {
  it('sends each notifier only what its route selects (impact, services, minimum severity, attribute match)', async () => {
    const clock = new FakeClock();
    const business = script('business', () => ({ ok: true }));
    const db = script('db', () => ({ ok: true }));
    const prod = script('prod', () => ({ ok: true }));
    const all = script('all', () => ({ ok: true }));
    const t = await start(clock, {
      notifiers: {
        'scripted/business': { script: 'business', route: { impact: ['business', 'user'] } },
        'scripted/db': { script: 'db', route: { services: ['db'], severity: 'critical' } },
        'scripted/prod': { script: 'prod', route: { match: { 'k8s.namespace.name': 'prod' } } },
        'scripted/all': { script: 'all' },
      },
    });
    t.runtime.topology.apply({ upsertEntities: [{ id: 'container:c1', type: 'container', name: 'c1', attributes: { 'k8s.namespace.name': 'prod' } }] });
    t.runtime.pipeline.publishIncident(incidentUpdate('shop', 1, { impact: 'business', severity: 'warning', entities: ['service:checkout'] }));
    t.runtime.pipeline.publishIncident(incidentUpdate('db-warn', 1, { severity: 'warning', entities: ['service:db'] }));
    t.runtime.pipeline.publishIncident(incidentUpdate('db-crit', 1, { severity: 'critical', entities: ['service:db', 'container:c1'] }));
    await runFor(t.runtime, clock, 2000);
    const keys = (calls: { idempotencyKey: string }[]) => calls.map((c) => c.idempotencyKey).sort();
    expect(keys(business)).toEqual(['shop:1']);
    expect(keys(db)).toEqual(['db-crit:1']);
    expect(keys(prod)).toEqual(['db-crit:1']);
    expect(keys(all)).toEqual(['db-crit:1', 'db-warn:1', 'shop:1']);
    expect(metric(t, 'sextant_notifications_filtered_total', { notifier: 'scripted/db' })).toBe(2);
  });

  it('validates route and notifications settings with the path of every problem', () => {
    const loaded = validateRuntimeConfig({
      notifications: { backoff: { initial: '10m', max: '1m' }, expiry: 'soon' },
    });
    expect(loaded.config).toBeUndefined();
    const paths = loaded.issues.map((i) => i.path);
    expect(paths).toContain('notifications.expiry');
    expect(paths.some((p) => p.startsWith('notifications.backoff'))).toBe(true);
  });

  it('reports a bad route as a config problem and keeps `route` for non-notifier factories', async () => {
    const clock = new FakeClock();
    await expect(
      startTestRuntime({ plugins: [notifierPlugin], clock, config: { notifiers: { 'scripted/x': { script: 'ok', route: { impact: ['money'], sevrity: 'critical' } } } } }),
    ).rejects.toThrow(/notifiers\.scripted\/x\.route/);
    const ok = validateRuntimeConfig({ notifiers: { 'scripted/x': { script: 'ok', route: { severity: 'critical' } } }, notifications: { expiry: '48h' } });
    expect(ok.issues).toEqual([]);
    expect(ok.config?.notifications).toEqual({ backoff: { initial: 1000, max: 300_000 }, expiry: 172_800_000, attemptTimeout: 60_000 });
  });

  it('matches routes on incident fields too', () => {
    const u = incidentUpdate('x', 1, { status: 'resolved', impact: 'user' });
    expect(routeMatches({ match: { status: 'resolved' } }, u)).toBe(true);
    expect(routeMatches({ match: { status: 'open' } }, u)).toBe(false);
    expect(routeMatches({ severity: 'critical' }, u)).toBe(false);
    expect(routeMatches(undefined, u)).toBe(true);
  });
});

describe('fullJitterBackoffMs', () => {
  it('doubles the ceiling per attempt, caps it, and spreads delays down to zero', () => {
    const top = () => 0.999999;
    expect(fullJitterBackoffMs(1, 1000, 300_000, top)).toBe(999);
    expect(fullJitterBackoffMs(2, 1000, 300_000, top)).toBe(1999);
    expect(fullJitterBackoffMs(9, 1000, 300_000, top)).toBe(255_999);
    expect(fullJitterBackoffMs(10, 1000, 300_000, top)).toBe(299_999);
    expect(fullJitterBackoffMs(5000, 1000, 300_000, top)).toBe(299_999);
    expect(fullJitterBackoffMs(3, 1000, 300_000, () => 0)).toBe(0);
  });
});
