/**
 * The snippet in a real browser (Debian's chromium driven by playwright-core, no browser download):
 * a visitor browses the demo shop, adds to cart and buys; the runtime's series show the page
 * views, the timings and the exact order value. Then the collect endpoint is made to fail in every
 * way a page can meet — dead port, 500s, blocked requests, a throwing sendBeacon — and the shop
 * must keep working with no error thrown into it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { FakeClock, findBinary, freePort, needBinary, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { SNIPPET_PATHS } from '../src/snippet-assets.js';
import { CURRENCY, PRICE, startDemoShop, type DemoShop } from './demo-shop.js';
// @ts-expect-error plain JS build script without types
import { buildSnippet } from '../build-snippet.mjs';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/**
 * A desktop browser's user agent: the default HeadlessChrome one is refused as a bot, as it should be.
 * Set for the whole browser (--user-agent): a per-context override does not reach beacons sent at pagehide.
 */
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

interface Visit {
  readonly page: Page;
  readonly pageErrors: string[];
}

async function openPage(context: BrowserContext): Promise<Visit> {
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { page, pageErrors };
}

/** Home -> product -> add to cart twice -> checkout -> buy -> thanks. Returns the order total the shop shows. */
async function shopAndBuy(page: Page, shop: DemoShop): Promise<string> {
  await page.goto(`${shop.origin}/`);
  await page.click('#product');
  await page.waitForURL('**/product/1');
  await page.click('#add');
  await page.click('#add');
  await expect.poll(() => page.textContent('#count')).toBe('2');
  await page.click('#checkout');
  await page.waitForURL('**/checkout');
  await page.click('#buy');
  await page.waitForURL('**/thanks');
  return (await page.textContent('#order')) ?? '';
}

describe('RUM snippet in Chromium', () => {
  let browser: Browser | undefined;
  let chromiumPath: string | undefined;

  beforeAll(async () => {
    await buildSnippet();
    chromiumPath = findBinary('chromium');
    if (chromiumPath) browser = await chromium.launch({ executablePath: chromiumPath, args: [...CHROMIUM_FLAGS, `--user-agent=${USER_AGENT}`], chromiumSandbox: false });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a visitor browses, adds to cart and buys: page views, timings and the exact order value reach the series', async (ctx) => {
    needBinary(ctx, 'chromium', 'apt-get install chromium');
    const port = await freePort();
    const collector = `http://127.0.0.1:${port}`;
    const shop = await startDemoShop({ snippetUrl: `${collector}${SNIPPET_PATHS.script}` });
    const clock = new FakeClock(Date.now());
    let rt: TestRuntime | undefined;
    const context = await browser!.newContext();
    try {
      rt = await startTestRuntime({ plugins: [plugin], clock, config: { collectors: { rum: { interval: '1h', listen: `127.0.0.1:${port}`, allowedOrigins: [shop.origin] } } } });
      expect(rt.problems).toEqual([]);
      const { page, pageErrors } = await openPage(context);
      expect(await shopAndBuy(page, shop)).toBe(String(2 * PRICE));
      await page.click('#broken'); // the shop's own bug: one uncaught error, which the snippet counts
      await page.goto('about:blank'); // pagehide: the last page's vitals are sent
      await page.close({ runBeforeUnload: true });
      // beacons arrive asynchronously: wait until the last page's ones are in
      const accepted = () => rt!.runtime.telemetry.sum('sextant_plugin_beacons_total');
      let last = -1;
      await expect.poll(async () => {
        const now = accepted();
        const settled = now === last && now >= 5;
        last = now;
        return settled;
      }, { timeout: 15_000, interval: 500 }).toBe(true);

      for (const reason of ['origin', 'bot', 'rate_limited', 'too_large', 'malformed', 'invalid', 'replayed']) expect(rt.runtime.telemetry.sum('sextant_plugin_rejected_total', { reason }), reason).toBe(0);
      // one collection round covering exactly one minute (the scheduler's 1 h interval never fires): per-minute figures are counts
      clock.advance(60_000);
      await rt.collect();
      for (const name of ['home', 'product', 'checkout', 'thanks']) expect(rt.values('rum.page_views', { page: name }), name).toEqual([1]);
      const total = rt.runtime.registry.find({ metric: 'rum.page_views' }).find((s) => s.attributes.page === undefined)!;
      expect(rt.runtime.store.read(total.id).map((p) => p.value)).toEqual([4]);
      expect(rt.values('rum.orders.total')).toEqual([1]);
      expect(rt.values('rum.orders')).toEqual([1]);
      expect(rt.values('rum.revenue.total', { currency: CURRENCY })).toEqual([2 * PRICE]);
      expect(rt.values('rum.ecommerce.events', { event: 'add_to_cart' })).toEqual([2]);
      expect(rt.values('rum.ecommerce.events', { event: 'view_item' })).toEqual([1]);
      expect(rt.values('rum.ecommerce.events', { event: 'begin_checkout' })).toEqual([1]);
      expect(rt.values('rum.conversion_rate')).toEqual([1]);
      expect(rt.values('rum.cart_abandonment')).toEqual([0]);
      expect(rt.values('rum.sessions')).toEqual([1]);
      expect(rt.values('rum.errors', { page: 'thanks' })).toEqual([1]);
      expect(pageErrors).toEqual([expect.stringContaining('undefinedWidget')]);
      // timings measured by the browser itself, per page and site-wide
      for (const metric of ['rum.ttfb', 'rum.fcp', 'rum.lcp', 'rum.inp', 'rum.load', 'rum.dom_content_loaded']) {
        const p75 = rt.values(metric, { page: 'product', quantile: 'p75' });
        expect(p75, metric).toHaveLength(1);
        // an interaction can be faster than the 8 ms granularity of event timing: INP may be 0
        if (metric === 'rum.inp') expect(p75[0], metric).toBeGreaterThanOrEqual(0);
        else expect(p75[0], metric).toBeGreaterThan(0);
        expect(p75[0], metric).toBeLessThan(60_000);
      }
      expect(rt.values('rum.cls', { page: 'product', quantile: 'p50' })).toHaveLength(1);
      // impact classes on the resource, for the incident correlator
      const impact = (metric: string) => rt!.runtime.registry.find({ metric })[0]?.resource['sextant.impact'];
      expect([impact('rum.revenue.total'), impact('rum.conversion_rate'), impact('rum.lcp'), impact('rum.page_views')]).toEqual(['business', 'business', 'user', 'user']);
    } finally {
      await context.close();
      await rt?.stop();
      await shop.close();
    }
  });

  it('works as an ES module in a single-page app: route changes are page views, the purchase value comes from its items', async (ctx) => {
    needBinary(ctx, 'chromium', 'apt-get install chromium');
    const port = await freePort();
    const shop = await startDemoShop({ snippetUrl: `http://127.0.0.1:${port}${SNIPPET_PATHS.script}` });
    const clock = new FakeClock(Date.now());
    const rt = await startTestRuntime({ plugins: [plugin], clock, config: { collectors: { rum: { interval: '1h', listen: `127.0.0.1:${port}`, allowedOrigins: [shop.origin] } } } });
    const context = await browser!.newContext();
    try {
      const { page, pageErrors } = await openPage(context);
      await page.goto(`${shop.origin}/app`);
      await expect.poll(() => page.textContent('#state')).toBe('ready');
      await page.goto('about:blank');
      // one beacon at the route change (view + add_to_cart), one at once for the purchase
      await expect.poll(() => rt.runtime.telemetry.sum('sextant_plugin_beacons_total'), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      clock.advance(60_000);
      await rt.collect();
      expect(rt.values('rum.page_views', { page: 'app-home' })).toEqual([1]);
      expect(rt.values('rum.page_views', { page: 'app-cart' })).toEqual([1]);
      expect(rt.values('rum.revenue.total', { currency: CURRENCY })).toEqual([3 * PRICE]);
      expect(rt.values('rum.ecommerce.events', { event: 'add_to_cart' })).toEqual([1]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
      await rt.stop();
      await shop.close();
    }
  });

  it('a dead, failing or blocked collect endpoint never breaks the page or throws into it', async (ctx) => {
    needBinary(ctx, 'chromium', 'apt-get install chromium');
    const snippetPort = await freePort();
    // serves only the snippet; beacons go elsewhere
    const rt = await startTestRuntime({ plugins: [plugin], config: { collectors: { rum: { listen: `127.0.0.1:${snippetPort}`, allowedOrigins: ['http://127.0.0.1:1'] } } } });
    const failing = createServer((_req, res) => res.writeHead(500).end('boom'));
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const deadPort = await freePort();
    const endpoints = {
      dead: `http://127.0.0.1:${deadPort}/rum/v1/collect`,
      failing: `http://127.0.0.1:${(failing.address() as { port: number }).port}/rum/v1/collect`,
      refused: `http://127.0.0.1:${snippetPort}/rum/v1/collect`, // 403: the shop's origin is not allowed
    };
    try {
      for (const [how, endpoint] of Object.entries(endpoints)) {
        const shop = await startDemoShop({ snippetUrl: `http://127.0.0.1:${snippetPort}${SNIPPET_PATHS.script}`, endpoint });
        const context = await browser!.newContext();
        try {
          const { page, pageErrors } = await openPage(context);
          expect(await shopAndBuy(page, shop), how).toBe(String(2 * PRICE));
          expect(await page.evaluate(() => typeof (globalThis as unknown as { sextantRum?: unknown }).sextantRum), how).toBe('object');
          await page.goto('about:blank');
          expect(pageErrors, how).toEqual([]);
        } finally {
          await context.close();
          await shop.close();
        }
      }
      // blocked by the browser (an ad blocker), and a sendBeacon/fetch that throw synchronously
      const shop = await startDemoShop({ snippetUrl: `http://127.0.0.1:${snippetPort}${SNIPPET_PATHS.script}` });
      const context = await browser!.newContext();
      try {
        await context.route('**/rum/v1/collect', (route) => route.abort('blockedbyclient'));
        await context.addInitScript(() => {
          (globalThis as unknown as { navigator: { sendBeacon: () => boolean } }).navigator.sendBeacon = () => {
            throw new Error('sendBeacon broken');
          };
        });
        const { page, pageErrors } = await openPage(context);
        expect(await shopAndBuy(page, shop)).toBe(String(2 * PRICE));
        await page.evaluate(() => (globalThis as unknown as { sextantRum: { flush(): void } }).sextantRum.flush());
        await page.evaluate(() => {
          globalThis.fetch = () => {
            throw new Error('fetch broken');
          };
          (globalThis as unknown as { sextant: (...a: unknown[]) => void }).sextant('purchase', { value: Number.NaN, items: 'nonsense' });
          (globalThis as unknown as { sextantRum: { flush(): void } }).sextantRum.flush();
        });
        await page.goto('about:blank');
        expect(pageErrors).toEqual([]);
      } finally {
        await context.close();
        await shop.close();
      }
      // the snippet was served with a long cache lifetime and its endpoint kept refusing the unknown origin
      expect(rt.runtime.telemetry.sum('sextant_plugin_rejected_total', { reason: 'origin' })).toBeGreaterThan(0);
      expect(rt.runtime.telemetry.sum('sextant_plugin_beacons_total')).toBe(0);
    } finally {
      failing.closeAllConnections();
      await new Promise<void>((r) => failing.close(() => r()));
      await rt.stop();
    }
  });
});
