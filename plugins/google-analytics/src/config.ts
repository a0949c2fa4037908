/** Configuration of the `google-analytics` collector. */
import { durationMs as durationField } from '@sextant/plugin-kit';
import { z } from 'zod';

const duration = durationField();

export const ga4ConfigSchema = z.object({
  /** The numeric GA4 property id (Admin > Property details), not the G-XXXX measurement id. */
  propertyId: z.string().regex(/^\d{4,20}$/, 'must be the numeric property id (Admin > Property details), not a G-... measurement id'),
  /** The service account's JSON key, e.g. `${file:/etc/sextant/ga4-key.json}`. */
  serviceAccountKey: z.string().min(2, 'put the service account JSON key here, e.g. ${file:/etc/sextant/ga4-key.json}'),
  /** Split the report by page path, by session source, or not at all. */
  breakdown: z.enum(['page', 'source', 'none']),
  /** Report date range: GA4 date strings (`today`, `yesterday`, `7daysAgo`, `2026-01-31`). */
  startDate: z.string().regex(/^(today|yesterday|\d+daysAgo|\d{4}-\d{2}-\d{2})$/),
  endDate: z.string().regex(/^(today|yesterday|\d+daysAgo|\d{4}-\d{2}-\d{2})$/),
  /** Rows per report (top pages/sources by sessions). */
  limit: z.number().int().min(1).max(250),
  /** How often the (quota-costly) core report runs; the realtime report runs every collection round. */
  reportInterval: duration,
  /** Run the realtime report (active users, events of the last minutes). */
  realtime: z.boolean(),
  /** Event names whose realtime counts become series. */
  realtimeEvents: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/)).max(20),
  /** Base URL of the Data API (a proxy, or a stand-in in tests). */
  apiBase: z.string().url(),
  timeout: duration,
  /** Longest wait after quota or server errors. */
  maxBackoff: duration,
  serviceName: z.string().min(1),
  resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
export type Ga4Config = z.output<typeof ga4ConfigSchema>;

export const ga4ConfigDefaults: Partial<z.input<typeof ga4ConfigSchema>> = {
  breakdown: 'page',
  startDate: 'today',
  endDate: 'today',
  limit: 20,
  reportInterval: '15m',
  realtime: true,
  realtimeEvents: ['page_view', 'add_to_cart', 'begin_checkout', 'purchase'],
  apiBase: 'https://analyticsdata.googleapis.com',
  timeout: '30s',
  maxBackoff: '1h',
  serviceName: 'google-analytics',
  resource: {},
};
