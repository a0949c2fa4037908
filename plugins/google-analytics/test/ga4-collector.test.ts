/**
 * The GA4 collector against a strict local stand-in of Google's token endpoint and the Data API
 * (see ga4-stand-in.ts): the real services cannot be reached from tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, resolveConfig, startCollector, startTestRuntime, type CollectorHarness } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { ga4CollectorFactory, type Ga4Collector } from '../src/index.js';
import { startGa4StandIn, type Ga4StandIn } from './ga4-stand-in.js';

describe('google-analytics collector', () => {
  let ga: Ga4StandIn;
  let clock: FakeClock;
  let h: CollectorHarness | undefined;

  beforeEach(async () => {
    clock = new FakeClock(Date.now());
    ga = await startGa4StandIn(() => clock.now());
    ga.coreRows = [
      { dimension: '/product/sextant', metrics: { sessions: 120, activeUsers: 100, keyEvents: 9, purchaseRevenue: 539.82, addToCarts: 30, ecommercePurchases: 9 } },
      { dimension: '/', metrics: { sessions: 300, activeUsers: 250, keyEvents: 1, purchaseRevenue: 0, addToCarts: 2, ecommercePurchases: 0 } },
    ];
    ga.realtimeActiveUsers = 17;
    ga.realtimeEvents = { page_view: 50, add_to_cart: 10, purchase: 5, scroll: 99 };
  });
  afterEach(async () => {
    await h?.shutdown();
    h = undefined;
    await ga.close();
  });

  const start = async (config: Record<string, unknown> = {}) => {
    h = await startCollector(ga4CollectorFactory, { clock, config: { propertyId: ga.propertyId, serviceAccountKey: ga.serviceAccountKey, apiBase: ga.url, ...config } });
    return h;
  };
  const last = (metric: string, attributes: Record<string, string> = {}) =>
    h!.sink
      .of(metric)
      .filter((s) => JSON.stringify(s.attributes) === JSON.stringify(attributes))
      .at(-1)?.value;

  it('signs in with the service account (JWT bearer) and writes per-page, total and realtime series with impact classes', async () => {
    await start();
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'ok' });
    expect(last('ga4.sessions', { page: '/product/sextant' })).toBe(120);
    expect(last('ga4.sessions')).toBe(420);
    expect(last('ga4.purchase_revenue', { page: '/product/sextant', currency: 'EUR' })).toBe(539.82);
    expect(last('ga4.add_to_carts')).toBe(32);
    expect(last('ga4.key_events', { page: '/' })).toBe(1);
    expect(last('ga4.purchases')).toBe(9);
    expect(last('ga4.realtime.active_users')).toBe(17);
    expect(last('ga4.realtime.events', { event: 'purchase' })).toBe(1); // 5 in the last 5 minutes
    expect(last('ga4.realtime.events', { event: 'begin_checkout' })).toBe(0);
    expect(h!.sink.of('ga4.realtime.events', { event: 'scroll' })).toEqual([]);
    expect(last('ga4.quota.remaining', { quota: 'tokensPerHour' })).toBe(39_990);
    const impact = (metric: string) => h!.sink.of(metric)[0].resource['sextant.impact'];
    expect([impact('ga4.purchase_revenue'), impact('ga4.sessions'), impact('ga4.quota.remaining')]).toEqual(['business', 'user', 'infrastructure']);
    // the request the stand-in accepted is the documented one
    const core = ga.apiCalls.find((c) => c.method === 'runReport')!.body;
    expect(core).toMatchObject({ dimensions: [{ name: 'pagePath' }], dateRanges: [{ startDate: 'today', endDate: 'today' }], metricAggregations: ['TOTAL'], returnPropertyQuota: true });
    // second round: the token is cached, the core report waits for reportInterval, realtime runs
    clock.advance(60_000);
    await h!.collect();
    expect(ga.tokensIssued).toHaveLength(1);
    expect(ga.apiCalls.map((c) => c.method)).toEqual(['runReport', 'runRealtimeReport', 'runRealtimeReport', 'runRealtimeReport', 'runRealtimeReport']);
  });

  it('splits by session source when configured', async () => {
    ga.coreRows = [{ dimension: 'google', metrics: { sessions: 7 } }];
    await start({ breakdown: 'source', realtime: false });
    await h!.collect();
    expect(ga.apiCalls[0].body.dimensions).toEqual([{ name: 'sessionSource' }]);
    expect(last('ga4.sessions', { source: 'google' })).toBe(7);
  });

  it('refreshes the token before it expires, and once more when the API says 401', async () => {
    ga.tokenLifetimeSeconds = 120;
    await start({ reportInterval: '1m' });
    await h!.collect();
    clock.advance(70_000); // within a minute of expiry: refreshed before use
    await h!.collect();
    expect(ga.tokensIssued).toHaveLength(2);
    ga.revokeTokens();
    clock.advance(10_000);
    await h!.collect();
    expect(ga.tokensIssued).toHaveLength(3);
    expect(ga.refusals).toContain('401 UNAUTHENTICATED');
    expect(h!.lastStatus()).toMatchObject({ state: 'ok' });
  });

  it('backs off on quota exhaustion (429 RESOURCE_EXHAUSTED), reports it, and resumes', async () => {
    await start();
    ga.failNext({ status: 429, grpcStatus: 'RESOURCE_EXHAUSTED', message: 'Exhausted property tokens per hour for the property.', retryAfterSeconds: 300 });
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'degraded', code: 'SEXTANT_ERR_LIMIT_EXCEEDED' });
    expect(h!.lastStatus()!.message).toMatch(/tokens per hour.*next attempt in 300 s/);
    expect(h!.metrics.counters.quota_errors_total).toBe(1);
    const calls = ga.apiCalls.length;
    clock.advance(120_000);
    await h!.collect(); // still backing off: nothing asked
    expect(ga.apiCalls.length).toBe(calls);
    expect((h!.collector as Ga4Collector).backoffUntil()).toBeGreaterThan(clock.now());
    clock.advance(200_000);
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'ok' });
    expect(last('ga4.sessions')).toBe(420);
  });

  it('backs off exponentially on server errors, and refuses with a hint on 403', async () => {
    await start();
    ga.failNext({ status: 503, grpcStatus: 'UNAVAILABLE', message: 'The service is currently unavailable.' }, { status: 500, grpcStatus: 'INTERNAL', message: 'Internal error encountered.' });
    await h!.collect();
    expect(h!.lastStatus()!.message).toMatch(/UNAVAILABLE.*next attempt in 60 s/);
    clock.advance(60_000);
    await h!.collect();
    expect(h!.lastStatus()!.message).toMatch(/INTERNAL.*next attempt in 120 s/);
    expect(h!.metrics.counters.request_errors_total).toBe(2);
    clock.advance(120_000);
    ga.failNext({ status: 403, grpcStatus: 'PERMISSION_DENIED', message: 'User does not have sufficient permissions for this property.' });
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(h!.lastStatus()!.message).toMatch(/Viewer of the GA4 property/);
  });

  it('a key the token endpoint does not accept is an auth error, not a crash', async () => {
    h = await startCollector(ga4CollectorFactory, { clock, config: { propertyId: ga.propertyId, serviceAccountKey: ga.forgedKey, apiBase: ga.url } });
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(h.lastStatus()!.message).toMatch(/invalid_grant: Invalid JWT Signature/);
    expect(ga.apiCalls).toEqual([]);
  });

  it('garbage numbers from the API are not written', async () => {
    ga.coreRows = [{ dimension: '/x', metrics: { sessions: Number.NaN } }];
    await start({ realtime: false });
    await h!.collect();
    expect(h!.sink.of('ga4.sessions', { page: '/x' })).toEqual([]);
    expect(h!.sink.rejected).toBe(0);
  });

  it('loads through the plugin into a real runtime', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], clock, config: { collectors: { 'google-analytics': { propertyId: ga.propertyId, serviceAccountKey: ga.serviceAccountKey, apiBase: ga.url } } } });
    try {
      expect(rt.problems).toEqual([]);
      await rt.collect();
      expect(rt.values('ga4.realtime.active_users')).toEqual([17]);
    } finally {
      await rt.stop();
    }
  });
});

describe('configuration', () => {
  it('explains a measurement id given as property id, and a key that is not a service account key', async () => {
    await expect(resolveConfig(ga4CollectorFactory, { propertyId: 'G-ABC123', serviceAccountKey: '{}' })).rejects.toThrow(/google-analytics.propertyId: must be the numeric property id/);
    const h = await startCollector(ga4CollectorFactory, { config: { propertyId: '1234', serviceAccountKey: '{"type":"authorized_user"}' } }).catch((e: Error) => e);
    expect(String(h)).toMatch(/not "service_account"/);
  });
});
