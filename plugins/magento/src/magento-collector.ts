/**
 * The `magento` collector: one instance per Magento 2 / Adobe Commerce shop.
 *
 * Each round:
 * - new orders: `GET /V1/orders` with `created_at >= cursor - 2 min`, sorted by `created_at`, read
 *   page by page until `total_count` (Magento answers a page past the end with the last page again,
 *   so `total_count` is the only stop) or `maxPages`; orders already counted (by `entity_id`) are
 *   skipped, so the overlap that absorbs clock skew never double-counts. A burst larger than
 *   `maxPages * pageSize` continues next round exactly from the last order read (no overlap);
 * - statuses: one `pageSize=1` query per status for orders created within `statusWindow`, reading
 *   only `total_count`;
 * - abandoned carts: `GET /V1/carts/search` (active, with items, updated between `statusWindow`
 *   and `abandonAfter` ago), `total_count` only;
 * - out of stock: `GET /V1/stockItems/lowStock?qty=0`, `total_count` only.
 */
import { ErrorCode, SextantError, createCollectorFactory, formatError, isSextantError, type Attributes, type Collector, type CollectorContext, type SeriesId } from '@sextant/plugin-api';
import { z } from 'zod';
import { magentoConfigDefaults, magentoConfigSchema, type MagentoConfig } from './config.js';
import { MagentoClient } from './magento-client.js';
import { magentoSeries, type MagentoMetricName } from './metrics.js';
import { magentoTime, parseMagentoTime } from './search-criteria.js';

const CLOCK_SKEW_OVERLAP_MS = 2 * 60_000;
const ORDER_FIELDS = 'items[entity_id,increment_id,store_id,status,base_grand_total,base_currency_code,created_at],total_count';
const MAX_STORES = 100;

interface OrderRow {
  readonly entity_id?: unknown;
  readonly store_id?: unknown;
  readonly base_grand_total?: unknown;
  readonly base_currency_code?: unknown;
  readonly created_at?: unknown;
}

function createMagentoCollector(ctx: CollectorContext<MagentoConfig>): Collector {
  const config = ctx.config;
  const resource: Attributes = { 'service.name': config.serviceName, 'url.full': config.baseUrl, ...config.resource };
  const client = new MagentoClient(config.baseUrl, config.storeCode, config.token, config.timeout);
  const badOrders = ctx.metrics.counter('orders_skipped_total', 'Orders without a readable id, store, total or currency');
  const ids = new Map<string, SeriesId>();
  const seen = new Map<number, number>(); // entity_id -> created_at (ms)
  const stores = new Set<string>();
  let cursor = Number.NaN;
  /** After a truncated round: the created_at to continue from exactly (no overlap). */
  let resumeFrom = Number.NaN;
  let lastRound = Number.NaN;
  let lastStatus = '';

  const write = (metric: MagentoMetricName, attributes: Attributes, value: number, now: number) => {
    const key = `${metric}\u0000${JSON.stringify(attributes)}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ctx.sink.series(magentoSeries(metric, resource, attributes));
      ids.set(key, id);
    }
    ctx.sink.sample(id, value, now);
  };
  const setStatus = (state: 'ok' | 'degraded' | 'error', message?: string, code?: string) => {
    const key = `${state}|${message ?? ''}`;
    if (key === lastStatus) return;
    lastStatus = key;
    if (message) ctx.logger.warn(message);
    ctx.status.set(state, message, code);
  };

  async function newOrders(now: number, signal: AbortSignal): Promise<string | undefined> {
    const since = Number.isNaN(resumeFrom) ? cursor - CLOCK_SKEW_OVERLAP_MS : resumeFrom;
    const orders = new Map<string, number>();
    const revenue = new Map<string, number>();
    let read = 0;
    let total = 0;
    let lastCreated = Number.NaN;
    for (let page = 1; page <= config.maxPages; page++) {
      const result = await client.search<OrderRow>(
        'orders',
        { filterGroups: [[{ field: 'created_at', value: magentoTime(since), conditionType: 'gteq' }]], sortOrders: [{ field: 'created_at', direction: 'ASC' }], pageSize: config.pageSize, currentPage: page },
        { fields: ORDER_FIELDS },
        signal,
      );
      total = result.totalCount;
      for (const o of result.items) {
        read++;
        const id = Number(o.entity_id);
        const created = parseMagentoTime(o.created_at);
        const value = typeof o.base_grand_total === 'number' ? o.base_grand_total : Number(o.base_grand_total);
        const currency = typeof o.base_currency_code === 'string' && /^[A-Z]{3}$/.test(o.base_currency_code) ? o.base_currency_code : undefined;
        const store = String(o.store_id ?? '');
        if (!Number.isInteger(id) || Number.isNaN(created) || !Number.isFinite(value) || value < 0 || !currency || !/^\d+$/.test(store)) {
          badOrders.add(1);
          continue;
        }
        lastCreated = Math.max(Number.isNaN(lastCreated) ? created : lastCreated, created);
        if (seen.has(id)) continue;
        seen.set(id, created);
        if (!stores.has(store) && stores.size >= MAX_STORES) continue;
        stores.add(store);
        orders.set(store, (orders.get(store) ?? 0) + 1);
        revenue.set(`${store}\u0000${currency}`, (revenue.get(`${store}\u0000${currency}`) ?? 0) + value);
      }
      if (read >= total || result.items.length < config.pageSize) break;
    }
    const perMinute = 60_000 / Math.max(1, now - lastRound);
    for (const store of stores) write('magento.orders', { store }, (orders.get(store) ?? 0) * perMinute, now);
    for (const [key, value] of revenue) {
      const [store, currency] = key.split('\u0000');
      write('magento.revenue', { store, currency }, value * perMinute, now);
    }
    const truncated = read < total && !Number.isNaN(lastCreated);
    resumeFrom = truncated ? lastCreated : Number.NaN;
    if (!truncated) cursor = now;
    const forgetBefore = Math.min(cursor, truncated ? lastCreated : cursor) - CLOCK_SKEW_OVERLAP_MS;
    for (const [id, created] of seen) if (created < forgetBefore) seen.delete(id);
    return truncated ? `more than ${config.maxPages * config.pageSize} new orders in one round; the rest is read next round (raise maxPages)` : undefined;
  }

  async function totals(now: number, signal: AbortSignal): Promise<void> {
    const windowStart = magentoTime(now - config.statusWindow);
    for (const status of config.statuses) {
      const r = await client.search(
        'orders',
        { filterGroups: [[{ field: 'status', value: status, conditionType: 'eq' }], [{ field: 'created_at', value: windowStart, conditionType: 'gteq' }]], pageSize: 1, currentPage: 1 },
        { fields: 'total_count' },
        signal,
      );
      write('magento.orders.status', { status }, r.totalCount, now);
    }
    const carts = await client.search(
      'carts/search',
      {
        filterGroups: [
          [{ field: 'is_active', value: '1', conditionType: 'eq' }],
          [{ field: 'items_count', value: '0', conditionType: 'gt' }],
          [{ field: 'updated_at', value: magentoTime(now - config.abandonAfter), conditionType: 'lteq' }],
          [{ field: 'updated_at', value: windowStart, conditionType: 'gteq' }],
        ],
        pageSize: 1,
        currentPage: 1,
      },
      { fields: 'total_count' },
      signal,
    );
    write('magento.carts.abandoned', {}, carts.totalCount, now);
    if (config.outOfStock) {
      const stock = (await client.get('stockItems/lowStock', new URLSearchParams({ scopeId: '0', qty: '0', pageSize: '1', currentPage: '1' }), signal)) as { total_count?: unknown };
      if (typeof stock?.total_count !== 'number') throw new SextantError(ErrorCode.PARSE_FAILED, 'Magento answered stockItems/lowStock without total_count');
      write('magento.products.out_of_stock', {}, stock.total_count, now);
    }
  }

  return {
    start() {
      setStatus('ok');
    },
    async collect(signal) {
      const now = ctx.clock.now();
      if (Number.isNaN(cursor)) {
        cursor = now - ctx.intervalMs; // the first round counts the last interval's orders
        lastRound = now - ctx.intervalMs;
      }
      try {
        const warning = await newOrders(now, signal);
        await totals(now, signal);
        write('magento.up', {}, 1, now);
        setStatus(warning ? 'degraded' : 'ok', warning, warning ? ErrorCode.LIMIT_EXCEEDED : undefined);
      } catch (e) {
        write('magento.up', {}, 0, now);
        if (!isSextantError(e)) throw e;
        setStatus(e.code === ErrorCode.AUTH_FAILED || e.code === ErrorCode.CONFIG_INVALID ? 'error' : 'degraded', formatError(e), e.code);
      } finally {
        lastRound = now;
      }
    },
    shutdown() {},
  };
}

export const magentoCollectorFactory = createCollectorFactory<MagentoConfig>({
  type: 'magento',
  stability: 'alpha',
  description: 'Magento 2 / Adobe Commerce REST API: new orders and revenue per store, orders by status, abandoned carts and out-of-stock products.',
  configSchema: magentoConfigSchema,
  defaults: magentoConfigDefaults as Partial<MagentoConfig>,
  configJsonSchema: z.toJSONSchema(magentoConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => createMagentoCollector(ctx),
});
