import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDetectorFactory, createPlugin, detectorsExtensionPoint, type Attributes } from '@sextant/plugin-api';
import { FakeClock, startTestRuntime, type TestRuntime } from '@sextant/testkit';

const TOKEN = 'a-test-token-of-sufficient-length';
let rt: TestRuntime | undefined;
afterEach(async () => {
  await rt?.stop();
  rt = undefined;
});

function recordingDetector() {
  const pauses: { match: Attributes; paused: boolean }[] = [];
  const factory = createDetectorFactory({
    type: 'recorder',
    stability: 'alpha',
    description: 'records pauseLearning calls',
    configSchema: z.object({}),
    defaults: {},
    create: () => ({ process() {}, pauseLearning: (match: Attributes, paused: boolean) => void pauses.push({ match, paused }), shutdown() {} }),
  });
  return { pauses, plugin: createPlugin({ pluginId: 'rec', deps: { d: detectorsExtensionPoint }, register: ({ d }) => d.addFactory(factory) }) };
}

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${rt!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('write API', () => {
  it('records change events with the token, and refuses bad input with 4xx and nothing stored', async () => {
    rt = await startTestRuntime({ plugins: [], api: true, config: { server: { token: TOKEN } } });
    expect((await post('/api/v1/events', { type: 'deploy', title: 'x' })).status).toBe(401);
    expect((await post('/api/v1/events', { type: 'deploy', title: 'x' }, 'wrong-token-wrong-token-wrong')).status).toBe(401);
    const bad = await post('/api/v1/events', '{"type": "deploy", ', TOKEN);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/not valid JSON/);
    const unknown = await post('/api/v1/events', { type: 'deploy', title: 'x', colour: 'red' }, TOKEN);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('unknown fields: colour');
    const huge = await post('/api/v1/events', { type: 'deploy', title: 'x', resource: { blob: 'x'.repeat(10 * 1024 * 1024) } }, TOKEN).catch(() => ({ status: 413, body: {} }));
    expect(huge.status).toBe(413);
    expect(rt.runtime.pipeline.events.size).toBe(0);
    const ok = await post('/api/v1/events', { type: 'deploy', title: 'checkout 2.1 deployed', resource: { 'service.name': 'checkout' } }, TOKEN);
    expect(ok.status).toBe(201);
    const list = (await (await fetch(`${rt.url}/api/v1/events?type=deploy`)).json()) as { events: { title: string }[] };
    expect(list.events.map((e) => e.title)).toEqual(['checkout 2.1 deployed']);
  });

  it('opens a maintenance window that pauses learning until it ends', async () => {
    const clock = new FakeClock();
    const rec = recordingDetector();
    rt = await startTestRuntime({ plugins: [rec.plugin], api: true, clock, config: { server: { token: TOKEN }, detectors: { recorder: {} } } });
    const bad = await post('/api/v1/maintenance', { match: {}, duration: 'soon' }, TOKEN);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('match must be a non-empty map');
    expect(bad.body.error.message).toContain('give "duration"');
    const ok = await post('/api/v1/maintenance', { match: { 'host.name': 'db-1' }, duration: '30m', comment: 'disk swap' }, TOKEN);
    expect(ok.status).toBe(201);
    expect(rec.pauses).toEqual([{ match: { 'host.name': 'db-1' }, paused: true }]);
    clock.advance(29 * 60_000);
    expect(rec.pauses).toHaveLength(1);
    clock.advance(2 * 60_000);
    expect(rec.pauses.at(-1)).toEqual({ match: { 'host.name': 'db-1' }, paused: false });
    const silence = await post('/api/v1/silences', { match: { 'service.name': 'db' }, duration: '1h' }, TOKEN);
    expect(silence.status).toBe(201);
    expect(silence.body.silence.type).toBe('silence');
  });
});

describe('expected value and band next to the samples', () => {
  it('serves the modelling detector\'s expectation with every sample, so a chart can draw the band', async () => {
    const { collectorsExtensionPoint, createCollectorFactory } = await import('@sextant/plugin-api');
    let t = 1_000_000;
    const collector = createCollectorFactory({
      type: 'ramp',
      stability: 'alpha',
      description: 'writes 10, 20, 30, ...',
      configSchema: z.object({}),
      defaults: {},
      create: (ctx) => {
        let v = 0;
        return {
          collect() {
            ctx.sink.sample(ctx.sink.series({ metric: 'ramp', unit: '1', type: 'gauge', resource: {}, attributes: {} }), (v += 10), (t += 1000));
          },
          shutdown() {},
        };
      },
    });
    const last = new Map<number, { t: number; v: number }>();
    const modeller = createDetectorFactory({
      type: 'modeller',
      stability: 'alpha',
      description: 'expects 90% of each value, band +-10%',
      configSchema: z.object({}),
      defaults: {},
      create: () => ({
        process(b) {
          for (let i = 0; i < b.length; i++) last.set(b.series[i], { t: b.timestamps[i], v: b.values[i] });
        },
        expectation(id: number) {
          const p = last.get(id);
          return p ? { timestamp: p.t, expected: p.v * 0.9, lower: p.v * 0.8, upper: p.v, state: 'trusted' as const } : undefined;
        },
        shutdown() {},
      }),
    });
    const plugin = createPlugin({ pluginId: 'band', deps: { c: collectorsExtensionPoint, d: detectorsExtensionPoint }, register: ({ c, d }) => { c.addFactory(collector); d.addFactory(modeller); } });
    rt = await startTestRuntime({ plugins: [plugin], api: true, config: { collectors: { ramp: {} }, detectors: { modeller: {} } } });
    for (let i = 0; i < 3; i++) await rt.collect();
    const [series] = rt.runtime.registry.find({ metric: 'ramp' });
    const body = (await (await fetch(`${rt.url}/api/v1/series/${series.id}/samples`)).json()) as { samples: { value: number; expected: number; lower: number; upper: number }[] };
    expect(body.samples.map((s) => [s.value, s.expected, s.lower, s.upper])).toEqual([
      [10, 9, 8, 10],
      [20, 18, 16, 20],
      [30, 27, 24, 30],
    ]);
  });
});

describe('read API honesty', () => {
  it('healthz says degraded and names the instance when one is failing', async () => {
    const broken = createDetectorFactory({
      type: 'broken',
      stability: 'alpha',
      description: 'reports an error after start',
      configSchema: z.object({}),
      defaults: {},
      create: (ctx) => ({
        start() {
          ctx.status.set('error', 'cannot reach its model store');
        },
        process() {},
        shutdown() {},
      }),
    });
    const plugin = createPlugin({ pluginId: 'broken', deps: { d: detectorsExtensionPoint }, register: ({ d }) => d.addFactory(broken) });
    rt = await startTestRuntime({ plugins: [plugin], api: true, config: { detectors: { broken: {} } } });
    const res = await fetch(`${rt.url}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; problems: { id: string; state: string; message: string }[] };
    expect(body.status).toBe('degraded');
    expect(body.problems).toEqual([{ id: 'broken', state: 'error', message: 'cannot reach its model store' }]);
  });

  it('pages /api/v1/series instead of stopping silently at the limit', async () => {
    rt = await startTestRuntime({ plugins: [], api: true });
    for (let i = 0; i < 2503; i++) rt.runtime.registry.intern({ metric: 'page.test', unit: '1', type: 'gauge', resource: { i: String(i) }, attributes: {} }, 'test');
    const seen = new Set<number>();
    let path: string | null = '/api/v1/series?metric=page.test';
    let pages = 0;
    while (path) {
      const body = (await (await fetch(`${rt.url}${path}`)).json()) as { series: { id: number }[]; truncated: boolean; next: string | null };
      for (const s of body.series) seen.add(s.id);
      expect(body.truncated).toBe(body.next !== null);
      path = body.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.size).toBe(2503);
    const small = (await (await fetch(`${rt.url}/api/v1/series?metric=page.test&limit=10&after=5`)).json()) as { series: { id: number }[] };
    expect(small.series.map((s) => s.id)[0]).toBeGreaterThan(5);
    expect((await fetch(`${rt.url}/api/v1/series?after=x`)).status).toBe(400);
  });
});

describe('an API reachable beyond this machine', () => {
  it('is warned about when it has no token, and not on loopback or with a token', async () => {
    const { exposureWarning } = await import('../src/http/api-server.js');
    expect(exposureWarning('0.0.0.0', 7070, undefined)).toMatch(/listens on 0\.0\.0\.0:7070, beyond this machine, without a token/);
    expect(exposureWarning('::', 7070, undefined)).toBeDefined();
    expect(exposureWarning('0.0.0.0', 7070, 'a-test-token-of-sufficient-length')).toBeUndefined();
    expect(exposureWarning('127.0.0.1', 7070, undefined)).toBeUndefined();
    expect(exposureWarning('::1', 7070, undefined)).toBeUndefined();
  });
});

describe('feedback without labels', () => {
  it('hands a verdict on an anomaly or a series to the detectors that model it, with the token, and exports the record', async () => {
    const said: { series: number; verdict: 'not-a-problem' | 'missed-here'; t: number; score?: number }[] = [];
    const factory = createDetectorFactory({
      type: 'listening',
      stability: 'alpha',
      description: 'records feedback',
      configSchema: z.object({}),
      defaults: {},
      create: (ctx) => ({
        process() {},
        feedback(series: number, verdict: 'not-a-problem' | 'missed-here', t: number, score?: number) {
          said.push({ series, verdict, t, ...(score !== undefined ? { score } : {}) });
          return verdict === 'not-a-problem' ? 0.8 : 0.25;
        },
        feedbackLog: () => said.map((s) => ({ ...s, thresholdBefore: 0.35, thresholdAfter: s.verdict === 'not-a-problem' ? 0.8 : 0.25 })),
        start() {
          ctx.emit({ detector: 'listening', seriesId: 0, timestamp: 1_000, value: 9, expected: 1, lower: 0, upper: 2, score: 0.7, kind: 'spike', severity: 'warning', message: 'x jumped' });
        },
        shutdown() {},
      }),
    });
    const plugin = createPlugin({ pluginId: 'listening', deps: { d: detectorsExtensionPoint }, register: ({ d }) => d.addFactory(factory) });
    rt = await startTestRuntime({ plugins: [plugin], api: true, config: { server: { token: TOKEN }, detectors: { listening: {} } } });
    rt.runtime.registry.intern({ metric: 'x', unit: '1', type: 'gauge', resource: {}, attributes: {} }, 'test');
    // the anomaly emitted at start refers to series 0, registered just now
    const anomaly = rt.runtime.pipeline.anomalies.query({})[0] ?? rt.runtime.pipeline.raiseAnomaly({ detector: 'listening', seriesId: 0, timestamp: 1_000, value: 9, expected: 1, lower: 0, upper: 2, score: 0.7, kind: 'spike', severity: 'warning', message: 'x jumped' }, 'listening');
    expect(anomaly).toBeDefined();
    expect((await post('/api/v1/feedback', { verdict: 'not-a-problem', anomaly: anomaly!.id })).status).toBe(401);
    const ok = await post('/api/v1/feedback', { verdict: 'not-a-problem', anomaly: anomaly!.id }, TOKEN);
    expect(ok.status).toBe(201);
    expect(ok.body.feedback).toEqual([{ detector: 'listening', series: 0, threshold: 0.8 }]);
    expect(said[0]).toEqual({ series: 0, verdict: 'not-a-problem', t: 1_000, score: 0.7 });
    const missed = await post('/api/v1/feedback', { verdict: 'missed-here', series: 0, timestamp: 5_000 }, TOKEN);
    expect(missed.body.feedback[0].threshold).toBe(0.25);
    const bad = await post('/api/v1/feedback', { verdict: 'meh', series: 0, colour: 1 }, TOKEN);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/verdict must be .*unknown fields: colour|unknown fields: colour.*verdict must be/);
    expect((await post('/api/v1/feedback', { verdict: 'missed-here', series: 999 }, TOKEN)).status).toBe(404);
    const log = (await (await fetch(`${rt.url}/api/v1/feedback`)).json()) as { feedback: { detector: string; verdict: string }[] };
    expect(log.feedback.map((f) => [f.detector, f.verdict])).toEqual([
      ['listening', 'not-a-problem'],
      ['listening', 'missed-here'],
    ]);
  });
});
