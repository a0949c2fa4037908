/**
 * Configuration of the `postgresql` collector (`collectors: postgresql/<name>:` in sextant.yaml).
 *
 * Secrets: `password` arrives already resolved (the runtime expands `${env:NAME}` and
 * `passwordFile`); this package never logs it, never puts it in a status message, and never logs
 * the URL (which may carry `user:password@`).
 */
import { z } from 'zod';
import { timeoutDurationMs } from '@sextant/integration-kit';

/** A duration in ms: a number (ms) or a string such as `500ms`, `5s`; bounded to 100 ms .. 5 min. */
const postgresUrl = z.string().superRefine((value, ctx) => {
  if (!value.includes('://')) {
    const hostPort = /^[\w.-]+(:\d+)?$/.test(value);
    ctx.addIssue({ code: 'custom', message: `must be a postgresql:// URL (got ${JSON.stringify(redactUrl(value))})${hostPort ? `; did you mean "postgresql://${value}/postgres"?` : ''}` });
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a postgresql:// URL (got ${JSON.stringify(redactUrl(value))})` });
    return;
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    ctx.addIssue({ code: 'custom', message: `must use postgresql:// (or postgres://), not ${url.protocol}//` });
  } else if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: 'must name a host, e.g. "postgresql://127.0.0.1:5432/postgres"' });
  }
  if (url.search) ctx.addIssue({ code: 'custom', message: 'query parameters (?sslmode=...) are not read; remove them' });
});

const databaseName = z.string().min(1).max(63, 'PostgreSQL names are at most 63 bytes');

export const postgresqlConfigSchema = z
  .object({
    /** `postgresql://host:port/database`; the database is the one the collector connects to (any works). */
    url: postgresUrl,
    /** Role to log in as; overrides the URL's user. Grant it `pg_monitor` (PostgreSQL 10+). */
    username: z.string().min(1).optional(),
    /** Password of `username`; overrides the URL's password. */
    password: z.string().optional(),
    /**
     * Databases that get per-database series. Empty: every database that accepts connections and
     * is not a template, up to `maxDatabases` (in name order).
     */
    databases: z.array(databaseName).max(1000),
    /** Upper bound of databases turned into series; the rest are counted in `series_limited_total`. */
    maxDatabases: z.number().int().min(1).max(1000),
    /** Connect timeout and per-query timeout. */
    timeout: timeoutDurationMs,
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: billing-db`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict();

/** Validated configuration with defaults applied. */
export type PostgresqlConfig = z.infer<typeof postgresqlConfigSchema>;

export const postgresqlConfigDefaults: Partial<PostgresqlConfig> = {
  url: 'postgresql://127.0.0.1:5432/postgres',
  databases: [],
  maxDatabases: 100,
  timeout: 5000,
  resource: {},
};

/** Where the collector connects, without credentials: what resources and messages show. */
export interface PostgresqlEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export function endpointOf(url: string): PostgresqlEndpoint {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  return { host, port: parsed.port ? Number(parsed.port) : 5432, database };
}

/** The URL with any credentials (everything before the last `@`) replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at === -1) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(url)?.[0] ?? '';
  return `${scheme}***${url.slice(at)}`;
}
