/**
 * The Magento collector against a strict local stand-in of the Magento 2 REST API
 * (magento-stand-in.ts); no Magento can run here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, resolveConfig, startCollector, startTestRuntime, type CollectorHarness } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { magentoCollectorFactory, magentoTime } from '../src/index.js';
import { startMagentoStandIn, type MagentoStandIn } from './magento-stand-in.js';

describe('magento collector', () => {
  let shop: MagentoStandIn;
  let clock: FakeClock;
  let h: CollectorHarness | undefined;
  let nextId = 1;
  const order = (agoMs: number, store: number, total: number | string, currency = 'EUR', status = 'pending') => ({
    entity_id: nextId,
    increment_id: `0000000${nextId++}`,
    store_id: store,
    status,
    state: 'new',
    base_grand_total: total,
    grand_total: total,
    base_currency_code: currency,
    order_currency_code: currency,
    customer_email: 'someone@example.com',
    created_at: magentoTime(clock.now() - agoMs),
  });

  beforeEach(async () => {
    clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
    shop = await startMagentoStandIn();
    shop.orders = [order(2 * 3600_000, 1, 50, 'EUR', 'complete'), order(30_000, 1, 100.5, 'EUR', 'processing'), order(20_000, 1, 20, 'EUR', 'processing'), order(10_000, 2, 9.99, 'USD', 'payment_review')];
    shop.carts = [
      { id: 1, is_active: 1, items_count: 2, updated_at: magentoTime(clock.now() - 2 * 3600_000) }, // abandoned
      { id: 2, is_active: 1, items_count: 1, updated_at: magentoTime(clock.now() - 10 * 60_000) }, // still shopping
      { id: 3, is_active: 0, items_count: 3, updated_at: magentoTime(clock.now() - 3 * 3600_000) }, // ordered
      { id: 4, is_active: 1, items_count: 0, updated_at: magentoTime(clock.now() - 3 * 3600_000) }, // empty
      { id: 5, is_active: 1, items_count: 1, updated_at: magentoTime(clock.now() - 3 * 86_400_000) }, // outside the window
    ];
    shop.stock = [
      { item_id: 1, product_id: 1, qty: 0 },
      { item_id: 2, product_id: 2, qty: 5 },
      { item_id: 3, product_id: 3, qty: -1 },
    ];
  });
  afterEach(async () => {
    await h?.shutdown();
    h = undefined;
    await shop.close();
  });

  const start = async (config: Record<string, unknown> = {}) => {
    h = await startCollector(magentoCollectorFactory, { clock, intervalMs: 60_000, config: { baseUrl: shop.url, token: shop.token, ...config } });
  };
  const last = (metric: string, attributes: Record<string, string> = {}) =>
    h!.sink
      .of(metric)
      .filter((s) => JSON.stringify(s.attributes) === JSON.stringify(attributes))
      .at(-1)?.value;

  it('new orders and revenue per store, orders by status, abandoned carts and out-of-stock products', async () => {
    await start();
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'ok' });
    expect(last('magento.orders', { store: '1' })).toBe(2); // the 2-hour-old order is not new
    expect(last('magento.orders', { store: '2' })).toBe(1);
    expect(last('magento.revenue', { store: '1', currency: 'EUR' })).toBe(120.5);
    expect(last('magento.revenue', { store: '2', currency: 'USD' })).toBe(9.99);
    expect(last('magento.orders.status', { status: 'processing' })).toBe(2);
    expect(last('magento.orders.status', { status: 'complete' })).toBe(1);
    expect(last('magento.orders.status', { status: 'payment_review' })).toBe(1);
    expect(last('magento.orders.status', { status: 'canceled' })).toBe(0);
    expect(last('magento.carts.abandoned')).toBe(1);
    expect(last('magento.products.out_of_stock')).toBe(2);
    expect(last('magento.up')).toBe(1);
    expect(h!.sink.of('magento.revenue')[0].resource['sextant.impact']).toBe('business');

    // next minute: one new order; the overlap re-reads the old ones but counts none twice
    clock.advance(60_000);
    shop.orders.push(order(5_000, 2, 15, 'USD'));
    await h!.collect();
    expect(last('magento.orders', { store: '1' })).toBe(0);
    expect(last('magento.orders', { store: '2' })).toBe(1);
    expect(last('magento.revenue', { store: '2', currency: 'USD' })).toBe(15);
  });

  it('reads a burst over several rounds by total_count, never counting an order twice', async () => {
    shop.orders = Array.from({ length: 7 }, (_, i) => order(50_000 - i * 1000, 1, 10));
    await start({ pageSize: 2, maxPages: 2 });
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'degraded', code: 'SEXTANT_ERR_LIMIT_EXCEEDED' });
    const first = last('magento.orders', { store: '1' })!;
    expect(first).toBe(4);
    clock.advance(60_000);
    await h!.collect();
    expect(last('magento.orders', { store: '1' })).toBe(3);
    expect(h!.lastStatus()).toMatchObject({ state: 'ok' });
  });

  it('skips and counts order rows it cannot read', async () => {
    shop.orders = [order(1000, 1, 'abc'), order(1000, 1, -5), order(1000, 1, 10, 'euro'), order(1000, 1, 7)];
    await start();
    await h!.collect();
    expect(last('magento.orders', { store: '1' })).toBe(1);
    expect(last('magento.revenue', { store: '1', currency: 'EUR' })).toBe(7);
    expect(h!.metrics.counters.orders_skipped_total).toBe(3);
  });

  it('a wrong token is an auth error with the fix; maintenance mode is degraded; both set magento.up to 0', async () => {
    await start({ token: 'wrong-token-123' });
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(h!.lastStatus()!.message).toMatch(/isn't authorized to access Magento_Sales::actions_view.*standalone Bearer tokens/);
    expect(last('magento.up')).toBe(0);
    await h!.shutdown();
    await start();
    shop.failNext({ status: 503, body: '<html>Service Temporarily Unavailable</html>', contentType: 'text/html' });
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'degraded', code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(h!.lastStatus()!.message).toMatch(/maintenance mode/);
    clock.advance(60_000);
    await h!.collect();
    expect(last('magento.up')).toBe(1);
  });

  it('an unknown store code is a config error', async () => {
    await start({ storeCode: 'nope' });
    await h!.collect();
    expect(h!.lastStatus()).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_CONFIG_INVALID' });
    expect(h!.lastStatus()!.message).toMatch(/Requested store is not found/);
  });

  it('loads through the plugin into a real runtime', async () => {
    const rt = await startTestRuntime({ plugins: [plugin], clock, config: { collectors: { magento: { baseUrl: shop.url, token: shop.token } } } });
    try {
      expect(rt.problems).toEqual([]);
      await rt.collect();
      expect(rt.values('magento.products.out_of_stock')).toEqual([2]);
    } finally {
      await rt.stop();
    }
  });
});

describe('configuration', () => {
  it('needs a base URL and a token', async () => {
    await expect(resolveConfig(magentoCollectorFactory, {})).rejects.toThrow(/magento.baseUrl.*magento.token|magento.token.*magento.baseUrl/);
  });
});
