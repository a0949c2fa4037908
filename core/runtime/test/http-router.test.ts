import { afterEach, describe, expect, it } from 'vitest';
import { coreServices, createPlugin, type HttpRouterService } from '@sextant/plugin-api';
import { startTestRuntime, type TestRuntime } from '@sextant/testkit';

/** A plugin that only keeps the router it was given, as a receiver plugin would. */
function routerProbe() {
  const probe: { http?: HttpRouterService } = {};
  const plugin = createPlugin({ pluginId: 'router-probe', deps: { http: coreServices.httpRouter }, register: ({ http }) => void (probe.http = http) });
  return { probe, plugin };
}

let rt: TestRuntime | undefined;
afterEach(async () => {
  await rt?.stop();
  rt = undefined;
});

describe('coreServices.httpRouter', () => {
  it('serves mounts under /ingest/<name>/ of the API port, added and removed while it runs', async () => {
    const { probe, plugin } = routerProbe();
    rt = await startTestRuntime({ plugins: [plugin], api: true });
    const http = probe.http!;
    expect(http.available).toBe(true);
    const seen: { method: string; path: string; query: string; body: string }[] = [];
    const a = http.mount('shop/a', { bodyLimit: 64, handle: (r) => (seen.push({ method: r.method, path: r.path, query: r.query, body: r.body.toString() }), { status: 202, body: { ok: true } }) });
    const outer = http.mount('shop', { bodyLimit: 64, handle: () => ({ status: 200, headers: { 'x-mount': 'shop' }, body: 'outer' }) });
    expect(a.path).toBe('/ingest/shop/a');
    const res = await fetch(`${rt.url}/ingest/shop/a/hooks/x?y=1`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ ok: true });
    expect(seen).toEqual([{ method: 'POST', path: '/hooks/x', query: 'y=1', body: 'hello' }]);
    const other = await fetch(`${rt.url}/ingest/shop/b`);
    expect(other.headers.get('x-mount')).toBe('shop');
    expect(await other.text()).toBe('outer');
    const big = await fetch(`${rt.url}/ingest/shop/a/`, { method: 'POST', body: 'x'.repeat(65) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('SEXTANT_ERR_LIMIT_EXCEEDED');
    expect(seen).toHaveLength(1);
    expect(() => http.mount('shop/a', { bodyLimit: 1, handle: () => ({ status: 200 }) })).toThrow(/already mounted/);
    expect(() => http.mount('../etc', { bodyLimit: 1, handle: () => ({ status: 200 }) })).toThrow(/cannot mount/);
    a.close();
    outer.close();
    a.close();
    const gone = await fetch(`${rt.url}/ingest/shop/a/`, { method: 'POST', body: '{}' });
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { message: string } }).error.message).toContain('nothing is mounted at /ingest/shop/a/');
  });

  it('answers from precheck without reading the body, and a throwing handler is a 500 that names no cause', async () => {
    const { probe, plugin } = routerProbe();
    rt = await startTestRuntime({ plugins: [plugin], api: true });
    let handled = 0;
    probe.http!.mount('guarded', {
      bodyLimit: 1024,
      precheck: (r) => (r.headers['x-token'] === 'ok' ? undefined : { status: 401, body: { error: 'token' } }),
      handle: (r) => {
        handled++;
        if (r.path === '/boom') throw new Error('secret detail');
        return { status: 204 };
      },
    });
    expect((await fetch(`${rt.url}/ingest/guarded/`, { method: 'POST', body: 'x'.repeat(5000) })).status).toBe(401);
    expect(handled).toBe(0);
    expect((await fetch(`${rt.url}/ingest/guarded/`, { method: 'POST', headers: { 'x-token': 'ok' }, body: '{}' })).status).toBe(204);
    const boom = await fetch(`${rt.url}/ingest/guarded/boom`, { method: 'POST', headers: { 'x-token': 'ok' }, body: '{}' });
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('secret detail');
  });

  it('is unavailable where no API is served, and mount() says what to do', async () => {
    const { probe, plugin } = routerProbe();
    rt = await startTestRuntime({ plugins: [plugin], config: { server: { enabled: false } } });
    expect(probe.http!.available).toBe(false);
    expect(() => probe.http!.mount('x', { bodyLimit: 1, handle: () => ({ status: 200 }) })).toThrow(/serves no HTTP API/);
  });
});
