/**
 * Configuration of the `haproxy` collector (`collectors: haproxy/<name>:` in sextant.yaml).
 * Exactly one source: `url` (the stats page over HTTP) or `socket` (the stats socket).
 *
 * Secrets: `password` arrives already resolved (the runtime expands `${env:NAME}` and
 * `passwordFile`); this package never logs it or puts it in a status message.
 */
import { z } from 'zod';
import { timeoutDurationMs } from '@sextant/integration-kit';

const statsUrl = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = value.includes('://') ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) {
    const hostPort = /^[\w.-]+(:\d+)?(\/.*)?$/.test(value);
    ctx.addIssue({ code: 'custom', message: `must be an http(s):// URL of the stats page (got ${JSON.stringify(value)})${hostPort ? `; did you mean "http://${value}"?` : ''}` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `must use http:// or https://, not ${url.protocol}//` });
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'put the stats credentials in username/password, not in the URL' });
});

export const haproxyConfigSchema = z
  .object({
    /** The stats page (`stats uri`), e.g. `http://127.0.0.1:8404/stats`; `;csv;norefresh` is appended. */
    url: statsUrl.optional(),
    /** Path of the stats socket (`stats socket /run/haproxy/admin.sock`); adds process-wide metrics. */
    socket: z.string().min(1).optional(),
    /** `stats auth` user of the stats page. */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Proxies (frontend/backend/listen names) to report; empty: all. */
    proxies: z.array(z.string().min(1)).max(10_000),
    /** At most this many stats rows (frontends + backends + servers) become series; the rest are counted. */
    maxRows: z.number().int().min(1).max(100_000),
    /** Connect + reply timeout. */
    timeout: timeoutDurationMs,
    /** Verify the certificate of an https:// stats page. */
    rejectUnauthorized: z.boolean(),
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: edge-lb`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict()
  .superRefine((config, ctx) => {
    if ((config.url === undefined) === (config.socket === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'set exactly one of url (the stats page, e.g. "http://127.0.0.1:8404/stats") or socket (the stats socket path)' });
    }
    if (config.socket !== undefined && (config.username !== undefined || config.password !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'username/password are for the stats page (url); the stats socket is protected by its file mode' });
    }
  });

export type HaproxyConfig = z.infer<typeof haproxyConfigSchema>;

export const haproxyConfigDefaults: Partial<HaproxyConfig> = {
  proxies: [],
  maxRows: 1000,
  timeout: 5000,
  rejectUnauthorized: true,
  resource: {},
};

/** The CSV address of a stats page URL (`;csv;norefresh` appended to the path unless present). */
export function csvUrl(url: string): string {
  const parsed = new URL(url);
  if (!/;csv/.test(parsed.pathname)) parsed.pathname = `${parsed.pathname.replace(/\/$/, '') || ''};csv;norefresh`;
  return parsed.toString();
}
