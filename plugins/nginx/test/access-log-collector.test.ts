/**
 * The access-log half of the collector on a plain file (no nginx needed): cardinality bounds, the
 * series limit, error classification and a log file that appears late.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, startCollector, type CollectorHarness } from '@sextant/testkit';
import { nginxCollectorFactory } from '../src/index.js';

let dir: string;
let log: string;
const open: CollectorHarness[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sextant-nginx-log-'));
  log = join(dir, 'access.log');
});
afterEach(async () => {
  for (const h of open.splice(0)) await h.shutdown();
  await rm(dir, { recursive: true, force: true });
});

const line = (path: string, status = 200, rt = '0.010') => `127.0.0.1 - - [24/Nov/2026:18:53:38 +0000] "GET ${path} HTTP/1.1" ${status} 10 "-" "t" ${rt} -\n`;
/** Letters-only words, so no two collapse into one pattern. */
const word = (i: number) => String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + ((i / 26) | 0) % 26) + String.fromCharCode(97 + ((i / 676) | 0) % 26);

async function start(accessLog: Record<string, unknown>, maxSeries?: number) {
  const clock = new FakeClock();
  const h = await startCollector(nginxCollectorFactory, { config: { accessLog: { path: log, ...accessLog } }, clock, maxSeries });
  open.push(h);
  return { h, clock };
}

describe('access-log collector on a file', () => {
  it('keeps url.template cardinality bounded by maxRoutes, topN and maxRouteSeries', async () => {
    await writeFile(log, '');
    const { h, clock } = await start({ maxRoutes: 50, maxRouteSeries: 5, topN: 3 });
    for (let round = 0; round < 4; round++) {
      let text = '';
      for (let i = 0; i < 300; i++) text += line(`/p/${word(i + round * 300)}`, i % 7 === 0 ? 503 : 200, (i / 1000).toFixed(3));
      await appendFile(log, text);
      clock.advance(10_000);
      await h.collect();
    }
    const templates = new Set(h.sink.descriptors.map((d) => d.attributes['url.template']).filter((t) => t !== undefined));
    expect(templates.size).toBe(5);
    expect(h.metrics.counters.log_routes_overflow_total).toBe(4 * 250);
    expect(h.metrics.counters.series_limit_total).toBeGreaterThan(0);
    expect(h.sink.last('nginx.http.requests', { 'http.response.status_class': '2xx' })).toBeCloseTo((300 - 43) / 10, 9);
    const events = h.sink.events.filter((e) => e.type === 'nginx.top_urls');
    expect(events).toHaveLength(4);
    for (const e of events) {
      expect(e.attributes!['nginx.top_urls.slowest.3.url.template']).toBeDefined();
      expect(e.attributes!['nginx.top_urls.slowest.4.url.template']).toBeUndefined();
    }
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('survives the runtime series limit: counts refused series instead of throwing', async () => {
    await writeFile(log, '');
    const { h, clock } = await start({}, 4);
    await appendFile(log, line('/a') + line('/b', 500) + line('/c', 404));
    clock.advance(10_000);
    await expect(h.collect()).resolves.toBeUndefined();
    expect(h.sink.descriptors).toHaveLength(4);
    expect(h.metrics.counters.series_limit_total).toBeGreaterThan(0);
  });

  it('uses errorStatus to decide which responses are errors for URL patterns', async () => {
    await writeFile(log, '');
    const { h, clock } = await start({ errorStatus: 400 });
    await appendFile(log, line('/items/1', 404) + line('/items/2', 404) + line('/items/3', 200));
    clock.advance(10_000);
    await h.collect();
    expect(h.sink.last('nginx.http.route.errors', { 'url.template': '/items/{id}' })).toBeCloseTo(0.2, 9);
    expect(h.sink.last('nginx.http.route.requests', { 'url.template': '/items/{id}' })).toBeCloseTo(0.3, 9);
  });

  it('reports a missing log as degraded with a hint, then reads the whole file once it appears', async () => {
    const { h, clock } = await start({});
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()).toMatchObject({ state: 'degraded' });
    expect(h.lastStatus()?.message).toMatch(/does not exist.*access_log directive/);
    await writeFile(log, line('/x') + line('/y'));
    clock.advance(10_000);
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('nginx.http.requests', { 'http.response.status_class': '2xx' })).toBeCloseTo(0.2, 9);
  });

  it('ignores lines already in the file at start unless fromStart is set', async () => {
    await writeFile(log, line('/old') + line('/old'));
    const later = await start({});
    const all = await start({ fromStart: true });
    for (const { h, clock } of [later, all]) {
      clock.advance(10_000);
      await h.collect();
    }
    expect(later.h.sink.last('nginx.http.requests', { 'http.response.status_class': '2xx' })).toBe(0);
    expect(all.h.sink.last('nginx.http.requests', { 'http.response.status_class': '2xx' })).toBeCloseTo(0.2, 9);
  });
});
