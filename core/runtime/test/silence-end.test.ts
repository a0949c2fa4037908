/**
 * Ending a silence or maintenance window made through the API before its planned end:
 * DELETE /api/v1/silences/{id} (or /api/v1/maintenance/{id}).
 */
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
  const res = await fetch(`${rt!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('ending a silence or maintenance window early', () => {
  const del = async (path: string, token?: string) => {
    const res = await fetch(`${rt!.url}${path}`, { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const list = async () => ((await (await fetch(`${rt!.url}/api/v1/silences`)).json()) as { silences: { id: string; active: boolean; until: number; endedAt?: number }[] }).silences;

  it('needs the token, says 404 for an unknown id, resumes learning and lists the window as ended', async () => {
    const clock = new FakeClock();
    const rec = recordingDetector();
    rt = await startTestRuntime({ plugins: [rec.plugin], api: true, clock, config: { server: { token: TOKEN }, detectors: { recorder: {} } } });
    const maint = await post('/api/v1/maintenance', { match: { 'host.name': 'db-1' }, duration: '2h', comment: 'disk swap' }, TOKEN);
    const silence = await post('/api/v1/silences', { match: { 'service.name': 'db' }, duration: '1h' }, TOKEN);
    const maintId = maint.body.maintenance.id as string;
    const silenceId = silence.body.silence.id as string;
    clock.advance(10 * 60_000);
    expect((await del(`/api/v1/silences/${silenceId}`)).status).toBe(401);
    expect((await del(`/api/v1/silences/${silenceId}`, 'wrong-token-wrong-token-wrong')).status).toBe(401);
    const unknown = await del('/api/v1/silences/evt-nope', TOKEN);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.hint).toContain('GET /api/v1/silences');
    expect((await list()).every((s) => s.active)).toBe(true);

    const ended = await del(`/api/v1/maintenance/${maintId}`, TOKEN);
    expect(ended.status).toBe(200);
    expect(ended.body.silence).toMatchObject({ id: maintId, kind: 'maintenance', active: false, endedAt: clock.now(), until: clock.now() });
    // learning resumes now, not at the planned end
    expect(rec.pauses).toEqual([{ match: { 'host.name': 'db-1' }, paused: true }, { match: { 'host.name': 'db-1' }, paused: false }]);
    expect((await del(`/api/v1/silences/${silenceId}`, TOKEN)).status).toBe(200);
    const after = await list();
    expect(after.map((s) => [s.id, s.active, s.endedAt])).toEqual([[silenceId, false, clock.now()], [maintId, false, clock.now()]]);
    const again = await del(`/api/v1/silences/${silenceId}`, TOKEN);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('already ended');
    const events = (await (await fetch(`${rt.url}/api/v1/events?type=silence.end`)).json()) as { events: { attributes: { window: string } }[] };
    expect(events.events.map((e) => e.attributes.window)).toEqual([silenceId]);
    // the planned end passing later changes nothing more
    clock.advance(3 * 3_600_000);
    expect(rec.pauses).toHaveLength(2);
  });

  it('a window ended before a restart stays ended when the event log is restored', async () => {
    const clock = new FakeClock();
    const rec = recordingDetector();
    rt = await startTestRuntime({ plugins: [rec.plugin], api: true, clock, config: { server: { token: TOKEN }, detectors: { recorder: {} } } });
    const t = clock.now();
    const window = { id: 'evt-m1', type: 'maintenance', title: 'disk swap', timestamp: t - 60_000, resource: { 'host.name': 'db-1' }, attributes: { from: t - 60_000, until: t + 3_600_000 }, source: 'api' };
    const ended = { id: 'evt-m2', type: 'maintenance.end', title: 'maintenance ended early: disk swap', timestamp: t - 30_000, resource: { 'host.name': 'db-1' }, attributes: { window: 'evt-m1' }, source: 'api' };
    rt.runtime.pipeline.restoreState([], [window, ended]);
    // paused while replaying the window, resumed by its end: learning is not left paused for the hour
    expect(rec.pauses.map((p) => p.paused)).toEqual([true, false]);
    const listed = (await (await fetch(`${rt.url}/api/v1/silences`)).json()) as { silences: { id: string; active: boolean; endedAt?: number }[] };
    expect(listed.silences).toMatchObject([{ id: 'evt-m1', active: false, endedAt: t - 30_000 }]);
    clock.advance(2 * 3_600_000);
    expect(rec.pauses).toHaveLength(2);
  });
});
