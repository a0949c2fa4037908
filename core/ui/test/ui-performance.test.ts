/// <reference lib="dom" />
/**
 * The UI at scale, in chromium: the overview and series pages with 10,000 series and 200 containers,
 * and a 24 h chart at 10 s resolution (8,640 points of value, expected value and band). Asserts what
 * a person would see (every container drawn, the counts, every point charted); the timings are
 * printed as one JSON line (`{"ui":"performance",...}`) and not asserted — the machine is shared.
 * Figures are in the package README.
 */
import { rmSync } from 'node:fs';
import { z } from 'zod';
import analysisPlugin from '@sextant/analysis/plugin';
import { collectorsExtensionPoint, createCollectorFactory, createPlugin } from '@sextant/plugin-api';
import { ApiServer } from '@sextant/runtime';
import { FakeClock, findBinary, needBinary, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUiInto, launchChromium } from './browser-session.js';

const INSTALL = 'apt-get install chromium';
const HOSTS = 10;
const CONTAINERS = 200;
const SERVICES = 20;
const METRICS_PER_CONTAINER = 50; // 200 x 50 = 10,000 series
const POINTS = 8640;

/** 10,000 series over 200 containers on 10 hosts, with their topology. */
const fleetFactory = createCollectorFactory({
  type: 'fleet',
  stability: 'development',
  description: 'Many series for UI scale tests',
  configSchema: z.object({}),
  defaults: {},
  create: (ctx) => {
    let ids: number[] | undefined;
    return {
      collect() {
        if (!ids) {
          ids = [];
          ctx.sink.topology({
            upsertEntities: [
              ...Array.from({ length: HOSTS }, (_, h) => ({ id: `host:node-${h}`, type: 'host', name: `node-${h}`, attributes: { 'host.name': `node-${h}` } })),
              ...Array.from({ length: CONTAINERS }, (_, c) => ({ id: `container:c-${c}`, type: 'container', name: `svc-${c % SERVICES}-${c}`, attributes: { 'container.id': `c-${c}` } })),
              ...Array.from({ length: SERVICES }, (_, s) => ({ id: `service:svc-${s}`, type: 'service', name: `svc-${s}`, attributes: { 'service.name': `svc-${s}` } })),
            ],
            upsertEdges: [
              ...Array.from({ length: CONTAINERS }, (_, c) => ({ from: `container:c-${c}`, to: `host:node-${c % HOSTS}`, type: 'runs-on' })),
              ...Array.from({ length: CONTAINERS }, (_, c) => ({ from: `container:c-${c}`, to: `service:svc-${c % SERVICES}`, type: 'member-of' })),
            ],
          });
          for (let c = 0; c < CONTAINERS; c++) {
            for (let m = 0; m < METRICS_PER_CONTAINER; m++) {
              ids.push(ctx.sink.series({ metric: `app.metric.${m}`, unit: '1', type: 'gauge', resource: { 'host.name': `node-${c % HOSTS}`, 'container.id': `c-${c}`, 'service.name': `svc-${c % SERVICES}` }, attributes: {} }));
            }
          }
        }
        for (let i = 0; i < ids.length; i++) ctx.sink.sample(ids[i], (i % 97) + Math.random());
      },
      shutdown() {},
    };
  },
});

/** One series sampled every 10 s with a daily curve: the long chart. */
const longFactory = createCollectorFactory({
  type: 'long',
  stability: 'development',
  description: 'One series for the 8,640-point chart',
  configSchema: z.object({}),
  defaults: {},
  create: (ctx) => {
    let id: number | undefined;
    return {
      collect() {
        id ??= ctx.sink.series({ metric: 'shop.orders', unit: '{order}/s', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: {} });
        const t = ctx.clock.now();
        ctx.sink.sample(id, 50 + 30 * Math.sin((2 * Math.PI * (t % 86_400_000)) / 86_400_000) + 3 * Math.random());
      },
      shutdown() {},
    };
  },
});

const scalePlugin = createPlugin({
  pluginId: 'ui-scale',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(fleetFactory);
    collectors.addFactory(longFactory);
  },
});

let uiDir: string | undefined;
let browser: Browser | undefined;
const started: { rt: TestRuntime; api: ApiServer }[] = [];

async function serve(rt: TestRuntime): Promise<string> {
  const api = new ApiServer(rt.runtime, { host: '127.0.0.1', port: 0, logger: rt.runtime.logger, ui: uiDir! });
  started.push({ rt, api });
  return (await api.listen()).url;
}

const figures: Record<string, number> = {};

beforeAll(async () => {
  const chromiumPath = findBinary('chromium');
  if (!chromiumPath) return;
  uiDir = buildUiInto();
  browser = await launchChromium(chromiumPath);
});

afterAll(async () => {
  if (Object.keys(figures).length) console.log(JSON.stringify({ ui: 'performance', ...figures }));
  await browser?.close();
  for (const { rt, api } of started) {
    await api.close();
    await rt.stop();
  }
  if (uiDir) rmSync(uiDir, { recursive: true, force: true });
});

describe('UI at scale (timings recorded, not asserted)', () => {
  it('overview and series pages with 10,000 series and 200 containers', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    const rt = await startTestRuntime({ plugins: [scalePlugin], clock: new FakeClock(), config: { collectors: { fleet: {} }, store: { maxSeries: 20_000, maxSeriesPerInstance: 20_000 } } as never });
    await rt.collect();
    await rt.collect();
    expect(rt.runtime.registry.size).toBe(CONTAINERS * METRICS_PER_CONTAINER);
    const url = await serve(rt);
    const page = await browser!.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${url}/#/overview`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-entity]').length >= n && /10,000/.test(document.querySelector('[data-testid="series-count"]')?.textContent ?? ''), HOSTS + CONTAINERS + SERVICES);
    figures.overviewInteractiveMs = Math.round(await page.evaluate(() => performance.now()));
    if (process.env.SEXTANT_UI_PERF_DETAIL) console.log(await page.evaluate(() => JSON.stringify(performance.getEntries().map((e) => [e.name.slice(-40), Math.round(e.startTime), Math.round(e.duration)]))));
    const id = rt.runtime.registry.find({ metric: 'app.metric.7', match: { 'container.id': 'c-123' } })[0].id;
    await page.goto('about:blank');
    await page.goto(`${url}/#/series/${id}?range=1h&q=app.metric.7`);
    await page.waitForSelector(`[data-series="${id}"] [data-testid="series-chart"][data-render-ms]`);
    figures.seriesInteractiveMs = Math.round(await page.evaluate(() => performance.now()));
    // The search is paged: 50 shown of the 200 that match, never the whole list.
    expect(await page.getByTestId('series-list').locator(':scope > li').count()).toBe(50);
    await page.close();
  });

  it('a 24 h chart at 10 s resolution: 8,640 points with expected value and band', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    const clock = new FakeClock(Date.UTC(2026, 10, 1));
    const rt = await startTestRuntime({ plugins: [analysisPlugin, scalePlugin], clock, config: { interval: '10s', collectors: { long: {} }, detectors: { baseline: {} }, store: { points: POINTS } } as never });
    for (let i = 0; i < POINTS; i++) {
      clock.advance(10_000);
      await rt.collect();
    }
    const url = await serve(rt);
    const id = rt.runtime.registry.find({ metric: 'shop.orders' })[0].id;
    const page = await browser!.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${url}/#/series/${id}?range=24h`);
    const chart = page.locator('[data-testid="series-chart"][data-render-ms]');
    await chart.waitFor();
    expect(Number(await chart.getAttribute('data-points'))).toBe(POINTS);
    expect(await chart.getAttribute('data-band')).toBe('true');
    figures.chart8640x3RenderMs = Number(await chart.getAttribute('data-render-ms'));
    // A redraw at another size (what a window resize costs).
    figures.chart8640x3ResizeMs = await page.evaluate(async () => {
      const t = performance.now();
      document.querySelector<HTMLElement>('.chart-canvas')!.style.width = '900px';
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return Math.round(performance.now() - t);
    });
    await page.close();
  });
});
