/** Configuration of the `magento` collector. */
import { durationMs as durationField } from '@sextant/plugin-kit';
import { z } from 'zod';

const duration = durationField();

export const ORDER_STATUSES = ['pending', 'processing', 'complete', 'canceled', 'holded', 'payment_review', 'fraud', 'closed'];

export const magentoConfigSchema = z.object({
  /** The shop's base URL (the REST API is under `<baseUrl>/rest/`). */
  baseUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
  /** Store view code in the REST path (`/rest/<storeCode>/V1/...`). */
  storeCode: z.string().regex(/^[a-z0-9_]+$/i),
  /** The integration's access token (System > Extensions > Integrations). Use ${env:NAME}. */
  token: z.string().min(8, 'put the integration access token here, e.g. ${env:MAGENTO_TOKEN}'),
  /** Order statuses counted in magento.orders.status. */
  statuses: z.array(z.string().regex(/^[a-z0-9_]+$/)).min(1).max(30),
  /** Orders and carts are looked at over this window (statuses, abandoned carts). */
  statusWindow: duration,
  /** A cart with items untouched this long is abandoned. */
  abandonAfter: duration,
  /** Orders per page and most pages read per round (a burst beyond is read over the next rounds). */
  pageSize: z.number().int().min(1).max(500),
  maxPages: z.number().int().min(1).max(1000),
  /** Count products with no stock (stockItems/lowStock with qty 0). */
  outOfStock: z.boolean(),
  timeout: duration,
  serviceName: z.string().min(1),
  resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
export type MagentoConfig = z.output<typeof magentoConfigSchema>;

export const magentoConfigDefaults: Partial<z.input<typeof magentoConfigSchema>> = {
  storeCode: 'default',
  statuses: ORDER_STATUSES,
  statusWindow: '24h',
  abandonAfter: '1h',
  pageSize: 100,
  maxPages: 20,
  outOfStock: true,
  timeout: '30s',
  serviceName: 'magento',
  resource: {},
};
