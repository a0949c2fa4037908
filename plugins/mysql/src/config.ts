/**
 * Configuration of the `mysql` collector (`collectors: mysql/<name>:` in sextant.yaml).
 *
 * Secrets: `password` arrives already resolved (the runtime expands `${env:NAME}` and
 * `passwordFile`); this package never logs it, never puts it in a status message, and never logs
 * the URL (which may carry `user:password@`).
 */
import { z } from 'zod';
import { timeoutDurationMs } from '@sextant/integration-kit';

const mysqlUrl = z.string().superRefine((value, ctx) => {
  if (!value.includes('://')) {
    const hostPort = /^[\w.-]+(:\d+)?$/.test(value);
    ctx.addIssue({ code: 'custom', message: `must be a mysql:// URL (got ${JSON.stringify(redactUrl(value))})${hostPort ? `; did you mean "mysql://${value}"?` : ''}` });
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a mysql:// URL (got ${JSON.stringify(redactUrl(value))})` });
    return;
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    ctx.addIssue({ code: 'custom', message: `must use mysql:// (or mariadb://), not ${url.protocol}//` });
  } else if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: 'must name a host, e.g. "mysql://127.0.0.1:3306"' });
  }
  if (url.search) ctx.addIssue({ code: 'custom', message: 'query parameters are not read; remove them' });
});

export const mysqlConfigSchema = z
  .object({
    /** `mysql://host:port` (or `mariadb://`); a path (database) is ignored: the statistics are server-wide. */
    url: mysqlUrl,
    /** User to log in as; overrides the URL's user. Grant it `PROCESS, REPLICATION CLIENT ON *.*`. */
    username: z.string().min(1).optional(),
    /** Password of `username`; overrides the URL's password. */
    password: z.string().optional(),
    /** Connect timeout and per-query timeout. */
    timeout: timeoutDurationMs,
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: orders-db`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict();

/** Validated configuration with defaults applied. */
export type MysqlConfig = z.infer<typeof mysqlConfigSchema>;

export const mysqlConfigDefaults: Partial<MysqlConfig> = {
  url: 'mysql://127.0.0.1:3306',
  timeout: 5000,
  resource: {},
};

/** Where the collector connects, without credentials: what resources and messages show. */
export interface MysqlEndpoint {
  readonly host: string;
  readonly port: number;
}

export function endpointOf(url: string): MysqlEndpoint {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: parsed.port ? Number(parsed.port) : 3306 };
}

/** The URL with any credentials (everything before the last `@`) replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at === -1) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(url)?.[0] ?? '';
  return `${scheme}***${url.slice(at)}`;
}
