/// <reference lib="dom" />
/**
 * The web UI in a real browser (Debian's chromium through playwright-core) against a real runtime
 * serving it: the shop workload (two days of history, then injected faults), the production
 * baseline and threshold detectors and the incident correlator. What a person would notice: the
 * topology on the overview, the learned band and an anomaly on a chart, an incident appearing
 * without a reload, a silence created with the token, the next incident listed as silenced and the silence ended early,
 * the banner when the API is down, a phone-width layout, and no serious accessibility violation.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import analysisPlugin from '@sextant/analysis/plugin';
import { createNotifierFactory, createPlugin, notifiersExtensionPoint, type Notification } from '@sextant/plugin-api';
import { ApiServer } from '@sextant/runtime';
import { FakeClock, findBinary, needBinary, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUiInto, launchChromium, screenshotDir, seriousA11yViolations } from './browser-session.js';
import { DAY, faults, LONG_VALUE, shopBuiltin } from './fixtures/shop-workload.js';
import { z } from 'zod';

/** An in-process notifier that accepts every update and keeps it, so the incident page has deliveries to show. */
const delivered: Notification[] = [];
const recordingNotifier = createPlugin({
  pluginId: 'ui-test-notify',
  deps: { notifiers: notifiersExtensionPoint },
  register: ({ notifiers }) =>
    notifiers.addFactory(
      createNotifierFactory({
        type: 'recorder',
        stability: 'development',
        description: 'keeps every update it is handed',
        configSchema: z.object({}),
        defaults: {},
        create: () => ({ deliver: async (n: Notification) => (delivered.push(n), { ok: true as const }), shutdown() {} }),
      }),
    ),
});

const TOKEN = 'ui-test-token-0123456789';
const STEP = 300_000;
const START = Date.UTC(2026, 10, 1);
const INSTALL = 'apt-get install chromium';

let clock: FakeClock;
let rt: TestRuntime | undefined;
let api: ApiServer | undefined;
let url = '';
let uiDir: string | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let shots = '';
/** Uncaught exceptions and content-security-policy refusals seen on any page, checked at the end. */
const pageProblems: string[] = [];

/** expect.poll with room for a busy machine (the default gives up after 1 s). */
function eventually<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 15_000, interval: 100 });
}

async function steps(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    clock.advance(STEP);
    await rt!.collect();
  }
}

function seriesId(metric: string, match: Record<string, string>): number {
  return rt!.runtime.registry.find({ metric, match })[0].id;
}

/** A screenshot of the page down to the end of its content (at most one screen). */
async function shot(name: string): Promise<void> {
  const box = await page.locator('main').boundingBox();
  const viewport = page.viewportSize()!;
  const height = Math.min(viewport.height, Math.ceil((box?.y ?? 0) + (box?.height ?? viewport.height)));
  await page.screenshot({ path: join(shots, `${name}.png`), clip: { x: 0, y: 0, width: viewport.width, height } });
}

async function expectAccessible(): Promise<void> {
  expect(await seriousA11yViolations(page)).toEqual([]);
}

beforeAll(async () => {
  const chromiumPath = findBinary('chromium');
  if (!chromiumPath) return; // each test skips (or fails under SEXTANT_REQUIRE_ALL=1) with the reason
  uiDir = buildUiInto();
  clock = new FakeClock(START);
  const holeFrom = START + 2 * DAY;
  rt = await startTestRuntime({
    plugins: [analysisPlugin, shopBuiltin, recordingNotifier],
    clock,
    config: {
      interval: '5m',
      collectors: { shop: { holeFrom, holeUntil: holeFrom + 3_600_000 } },
      detectors: { baseline: {}, threshold: { rules: [{ metric: 'http.server.errors', above: 5, severity: 'critical' }] } },
      correlators: { incidents: {} },
      notifiers: { 'recorder/ops': {} },
      autodiscovery: { enabled: false }, // the CLI runs it; here the Plugins page shows what it would start
      server: { token: TOKEN },
    } as never,
  });
  expect(rt.problems).toEqual([]);
  await steps((2.5 * DAY) / STEP);
  // A deploy of web two hours before the spike, then a spike the baseline flags.
  rt.runtime.pipeline.ingestEvent({ type: 'deploy', title: 'web 1.4.2', timestamp: clock.now() - 7_200_000, resource: { 'service.name': 'web' } }, 'test');
  faults.spike.set('web', 3);
  await steps(2);
  faults.spike.clear();
  await steps(3);
  api = new ApiServer(rt.runtime, { host: '127.0.0.1', port: 0, token: TOKEN, logger: rt.runtime.logger, ui: uiDir, live: { tickMs: 500 } });
  url = (await api.listen()).url;
  browser = await launchChromium(chromiumPath);
  context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageProblems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) pageProblems.push(`console: ${m.text()}`);
  });
  shots = screenshotDir();
  console.log(JSON.stringify({ ui: 'screenshots', dir: shots }));
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await rt?.stop();
  faults.spike.clear();
  faults.errors.clear();
  if (uiDir) rmSync(uiDir, { recursive: true, force: true });
});

describe('web UI in chromium', () => {
  it('serves the page with a strict content security policy and no third-party origin', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    const res = await fetch(`${url}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('<div id="app">');
    expect(html).not.toMatch(/https?:\/\//);
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url) && !r.url().startsWith('data:')) external.push(r.url());
    });
    await page.goto(`${url}/#/overview`);
    await page.getByTestId('topology').waitFor();
    expect(external).toEqual([]);
    expect((await fetch(`${url}/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('overview: the topology of hosts, containers and services, and the counts', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    await page.goto(`${url}/#/overview`);
    for (const id of ['host:node-1', 'host:node-2', 'container:web-1', 'container:db-1', 'service:api']) {
      await eventually(() => page.locator(`[data-entity="${id}"]`).count()).toBe(1);
    }
    const count = rt!.runtime.registry.size;
    await eventually(() => page.getByTestId('series-count').innerText()).toMatch(new RegExp(`^${count}\\s+series`));
    await eventually(() => page.getByTestId('live').innerText()).toBe('live');
    await eventually(() => page.getByTestId('samples-rate').innerText()).toMatch(/samples\/s/);
    await shot('overview');
    await expectAccessible();
  });

  it('series: the chart shows the learned band, the spike as an anomaly, the deploy as a marker, and the learning state', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    const id = seriesId('http.server.requests', { 'container.id': 'web-1' });
    await page.goto(`${url}/#/series/${id}?range=24h&q=http.server.requests`);
    const chart = page.locator(`[data-series="${id}"]`).getByTestId('series-chart');
    await chart.waitFor();
    expect(await chart.getAttribute('data-band')).toBe('true');
    await eventually(async () => Number(await chart.getAttribute('data-anomalies'))).toBeGreaterThanOrEqual(1);
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(200);
    expect(await chart.getAttribute('data-events')).toBe('1'); // the deploy, as a vertical marker
    await eventually(() => page.getByTestId('learning-state').innerText()).toMatch(/^(Trusted|Provisional|Learning):/);
    // The API gives how far along learning is; the page words it while the series is not trusted yet.
    const served = (await (await fetch(`${url}/api/v1/series/${id}/samples?from=-5m`)).json()) as { expectation: { state: string; progress: { samples: number; samplesNeeded: number; spanMs: number; spanNeededMs: number } } };
    expect(served.expectation.progress).toMatchObject({ samplesNeeded: 250, spanNeededMs: 2 * DAY });
    expect(served.expectation.progress.samples).toBeGreaterThan(500);
    expect(await page.getByTestId('learning-progress').count()).toBe(served.expectation.state === 'trusted' ? 0 : 1);
    expect(await page.locator('canvas').count()).toBeGreaterThan(0);
    expect(page.url()).toContain(`#/series/${id}?range=24h`);
    await shot('series');
    await expectAccessible();
    // Drag across the middle of the chart: the window goes into the URL and fewer points are drawn.
    const before = Number(await chart.getAttribute('data-points'));
    const over = (await page.locator('.u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.4, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.6, over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.getByTestId('zoomed').waitFor();
    expect(page.url()).toMatch(/[?&]from=\d+&to=\d+/);
    const zoomedUrl = page.url();
    await page.goto('about:blank');
    await page.goto(zoomedUrl);
    const zoomed = page.locator(`[data-series="${id}"]`).getByTestId('series-chart');
    await zoomed.waitFor();
    const points = Number(await zoomed.getAttribute('data-points'));
    expect(points).toBeGreaterThan(0);
    expect(points).toBeLessThan(before / 2);
  });

  it('series: a hole in the data stays a gap, and a very long attribute value is cut with its full text on hover', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    const id = seriesId('http.server.request.duration', { 'container.id': 'api-1' });
    const samples = rt!.runtime.store.read(id, clock.now() - DAY);
    await page.goto(`${url}/#/series/${id}?range=24h&q=http.server.request.duration`);
    const chart = page.locator(`[data-series="${id}"]`).getByTestId('series-chart');
    await chart.waitFor();
    // One null point is inserted at the hole, so the line is not drawn across it.
    expect(Number(await chart.getAttribute('data-points'))).toBe(samples.length + 1);
    const cut = page.getByTestId('series-list').locator('.attr-value.truncated').first();
    expect(await cut.getAttribute('title')).toBe(LONG_VALUE);
    expect((await cut.innerText()).length).toBeLessThan(60);
  });

  it('incidents: a new incident appears without a reload, with its likely causes', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    await page.goto(`${url}/#/incidents?status=open`);
    await page.getByTestId('incident-list').waitFor({ state: 'attached' });
    await eventually(() => page.getByTestId('live').innerText()).toBe('live');
    const before = await page.locator('[data-incident]').count();
    faults.errors.set('api', 20);
    await steps(1);
    const item = page.locator('[data-incident]', { hasText: 'container:api-1' });
    await item.waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-incident]').count()).toBe(before + 1);
    expect(await item.innerText()).toContain('http.server.errors');
    await shot('incidents');
    await expectAccessible();
    await item.getByRole('link').click();
    await page.getByTestId('incident-page').waitFor();
    expect(await page.getByTestId('causes').locator('li').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('causes').innerText()).toContain('container:api-1');
    // Which notifications went out: the recorder got the opening update, and the page says so.
    const openedApi = () => delivered.find((n) => n.update.change === 'opened' && n.update.incident.entities.includes('container:api-1'));
    await eventually(() => openedApi() !== undefined).toBe(true); // delivery runs after the update is published
    const opened = openedApi();
    const row = page.getByTestId('deliveries').locator(`tr[data-outcome="delivered"]`, { hasText: `#${opened!.update.sequence} opened` });
    await eventually(() => row.count()).toBe(1);
    expect(await row.innerText()).toContain('recorder/ops');
    // The overview colours the container of the open critical incident.
    await page.goto(`${url}/#/overview`);
    await page.locator('[data-entity="container:api-1"][data-health="critical"]').waitFor();
    expect(await page.locator('[data-entity="container:web-2"]').getAttribute('data-health')).toBe('ok');
    await shot('overview-incident');
    await page.goBack();
    await page.getByTestId('incident-page').waitFor();
    await shot('incident');
    await expectAccessible();
    // From the incident to the chart of its anomaly.
    await page.getByTestId('incident-anomalies').getByRole('link').first().click();
    const chart = page.locator('[data-series]').getByTestId('series-chart');
    await chart.waitFor();
    await eventually(async () => Number(await chart.getAttribute('data-anomalies'))).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#series-detail-title').innerText()).toContain('http.server.errors');
    faults.errors.clear();
    await steps(4); // quiet for 20 min: the api incident resolves
  });

  it('silences: refused without the token with a clear message; created with it; the next incident is listed as silenced', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    await page.goto(`${url}/#/silences`);
    await page.locator('#token').fill('');
    await page.locator('#match').fill('service.name=db');
    await page.locator('#comment').fill('db migration');
    await page.getByRole('button', { name: 'Create' }).click();
    await eventually(() => page.getByTestId('silence-message').innerText()).toContain('token is missing or wrong');
    await page.locator('#token').fill(TOKEN);
    await page.getByRole('button', { name: 'Create' }).click();
    await eventually(() => page.getByTestId('silence-message').innerText()).toContain('Silence created');
    await eventually(() => page.getByTestId('silence-list').innerText()).toContain('db migration');
    expect(await page.getByTestId('silence-list').innerText()).toContain('active');
    await shot('silences');
    await expectAccessible();
    await page.goto(`${url}/#/incidents?status=open`);
    await eventually(() => page.getByTestId('live').innerText()).toBe('live');
    faults.errors.set('db', 20);
    await steps(1);
    const item = page.locator('[data-incident]', { hasText: 'container:db-1' });
    await item.waitFor({ timeout: 15_000 });
    expect(await item.locator('.badge-silenced').innerText()).toBe('silenced');
    expect(await item.locator('.badge-silenced').getAttribute('title')).toContain('db migration');
    // Filtering by impact class keeps the URL shareable; no business incident here.
    await page.getByRole('group', { name: 'Impact' }).getByRole('button', { name: 'Business' }).click();
    await eventually(() => page.locator('[data-incident]').count()).toBe(0);
    expect(page.url()).toContain('impact=business');
    await page.getByRole('group', { name: 'Impact' }).getByRole('button', { name: 'User' }).click();
    await eventually(() => page.locator('[data-incident]', { hasText: 'container:db-1' }).count()).toBe(1);
    faults.errors.clear();
    // End it early from its row: the server lists it as ended and the row loses its End button.
    await page.goto(`${url}/#/silences`);
    await page.getByRole('button', { name: 'End silence db migration now' }).click();
    await eventually(() => page.getByTestId('silence-message').innerText()).toContain('ended');
    await eventually(() => page.getByTestId('silence-list').innerText()).toContain('ended early');
    expect(await page.getByRole('button', { name: 'End silence db migration now' }).count()).toBe(0);
    const listed = (await (await fetch(`${url}/api/v1/silences`)).json()) as { silences: { comment: string; active: boolean; endedAt?: number }[] };
    expect(listed.silences.find((s) => s.comment === 'db migration')).toMatchObject({ active: false, endedAt: clock.now() });
  });

  it('anomalies and plugins pages render what the runtime knows', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    await page.goto(`${url}/#/anomalies?range=24h`);
    const timeline = page.getByTestId('anomaly-timeline');
    await timeline.waitFor();
    await eventually(() => timeline.locator('.dot').count()).toBeGreaterThanOrEqual(3);
    expect(await timeline.innerText()).toContain('web');
    await shot('anomalies');
    await expectAccessible();
    await page.goto(`${url}/#/plugins`);
    const instances = page.getByTestId('instances');
    await eventually(() => instances.innerText()).toContain('shop');
    expect(await instances.innerText()).toContain('baseline');
    // What autodiscovery would start for each container, and why.
    const discovery = page.getByTestId('autodiscovery');
    await eventually(() => discovery.innerText()).toContain('db-1');
    const db = discovery.locator('li', { hasText: 'db-1' }).first();
    expect(await db.innerText()).toMatch(/shop\/c-db-1 .*would start/);
    expect(await discovery.locator('li', { hasText: 'web-1' }).first().innerText()).toContain('nothing to start');
    await shot('plugins');
    await expectAccessible();
  });

  it('says so when the API is down, retries, and recovers', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    let refused = 0;
    const refuse = (route: { abort: (code: string) => Promise<void> }) => {
      refused++;
      return route.abort('connectionrefused');
    };
    await page.route('**/api/v1/**', refuse);
    await page.route('**/healthz', refuse);
    await page.goto(`${url}/#/overview`);
    const banner = page.getByTestId('api-down');
    await banner.waitFor();
    expect(await banner.innerText()).toContain('Cannot reach the Sextant API');
    await shot('api-down');
    const before = refused;
    await banner.getByRole('button', { name: 'Retry now' }).click();
    await eventually(() => refused).toBeGreaterThan(before);
    expect(await banner.isVisible()).toBe(true);
    await page.unroute('**/api/v1/**');
    await page.unroute('**/healthz');
    // The next retry (at most 15 s away) gets through and the banner goes away by itself.
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await page.getByTestId('topology').waitFor();
  });

  it('says so when the API is slow, and shows the answer when it comes', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    await page.route('**/api/v1/topology', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 8000)); // the banner shows after 3-4 s of waiting
      await route.continue();
    });
    try {
      await page.goto('about:blank');
      await page.goto(`${url}/#/overview`);
      const slow = page.getByTestId('api-slow');
      await slow.waitFor({ timeout: 10_000 });
      expect(await slow.innerText()).toContain('slow to answer');
      await slow.waitFor({ state: 'detached', timeout: 20_000 });
      await page.getByTestId('topology').waitFor();
    } finally {
      await page.unroute('**/api/v1/topology');
    }
  });

  it('threw no uncaught exception and broke no content-security-policy rule on any page', (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    expect(pageProblems).toEqual([]);
  });

  it('fits a phone screen, in dark mode too', async (ctx) => {
    needBinary(ctx, 'chromium', INSTALL);
    // A phone in dark mode: the layout must not scroll sideways, and the dark palette must pass axe too.
    const phone = await browser!.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    try {
      const p = await phone.newPage();
      const id = seriesId('http.server.requests', { 'container.id': 'web-1' });
      for (const route of ['#/overview', `#/series/${id}?range=6h`, '#/incidents', '#/silences']) {
        await p.goto(`${url}/${route}`);
        await p.locator('main h1').waitFor();
        await p.waitForTimeout(300);
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${route} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
        expect(await seriousA11yViolations(p), route).toEqual([]);
      }
      await p.goto(`${url}/#/series/${id}?range=6h`);
      await p.getByTestId('series-chart').waitFor();
      await p.screenshot({ path: join(shots, 'phone-series.png') });
    } finally {
      await phone.close();
    }
  });
});
