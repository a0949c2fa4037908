/**
 * Configuration of one `nginx` collector instance (`collectors.nginx/<name>` in sextant.yaml).
 *
 * At least one source must be configured: the stub_status page (`url`, or `host`/`port` to probe
 * {@link DEFAULT_STATUS_PATHS}) and/or an access log (`accessLog.path`). Top-level defaults live in
 * the factory's `defaults`; the defaults inside `accessLog` are applied by the schema, because the
 * section itself is optional and a default would switch it on.
 */
import { z } from 'zod';
import { isSextantError } from '@sextant/plugin-api';
import { durationMs as durationField } from '@sextant/plugin-kit';
import { DEFAULT_LOG_FORMAT, LogLineParser } from './log-format.js';

/** Paths tried, in order, when only `host`/`port` are given. */
export const DEFAULT_STATUS_PATHS = ['/nginx_status', '/status', '/stub_status', '/basic_status'] as const;

/** `250`, `250ms`, `5s`, `1m` -> milliseconds (a bare number is milliseconds), at most 10 minutes. */
const durationMs = durationField({ min: 1, max: 600_000 });

const httpUrl = z.string().superRefine((value, ctx) => {
  let ok = false;
  try {
    const u = new URL(value);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) {
    ctx.addIssue({ code: 'custom', message: `must be an http(s) URL (got ${JSON.stringify(value)}); did you mean "http://${value.replace(/^\w+:\/\//, '')}"?` });
  }
});

const logFormat = z.string().superRefine((value, ctx) => {
  try {
    LogLineParser.compile(value);
  } catch (e) {
    const hint = isSextantError(e) && e.hint ? `; ${e.hint}` : '';
    ctx.addIssue({ code: 'custom', message: `${(e as Error).message}${hint}` });
  }
});

export const accessLogConfigSchema = z.object({
  /** The file nginx's `access_log` directive writes to. */
  path: z.string().min(1, 'must be the path of the access log file'),
  /** The `log_format` string used for that file, in nginx syntax. */
  format: logFormat.default(DEFAULT_LOG_FORMAT),
  /** Length of the slowest / most-erroring URL pattern lists. */
  topN: z.number().int().min(1).max(100).default(10),
  /** Read the lines already in the file at start instead of only new ones. */
  fromStart: z.boolean().default(false),
  /** Status at or above which a response counts as an error for URL patterns. */
  errorStatus: z.number().int().min(100).max(599).default(500),
  /** Distinct URL patterns tracked per round (memory bound). */
  maxRoutes: z.number().int().min(1).max(100_000).default(1000),
  /** Distinct `url.template` values that ever get series (cardinality bound over the instance's life). */
  maxRouteSeries: z.number().int().min(0).max(10_000).default(100),
  /** Longer lines are skipped and counted. */
  maxLineBytes: z.number().int().min(256).max(1 << 20).default(16_384),
  /** Most bytes read per round; a larger backlog is read over the next rounds. */
  maxReadBytes: z.number().int().min(1 << 16).default(256 << 20),
});

export const nginxConfigSchema = z
  .object({
    /** Full stub_status URL. */
    url: httpUrl.optional(),
    /** Host and port to probe the common status paths on, when `url` is not given. */
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    scheme: z.enum(['http', 'https']),
    paths: z.array(z.string().startsWith('/', 'must start with "/"')).min(1),
    /** Per-request timeout of the stub_status fetch. */
    timeout: durationMs,
    /** Extra request headers (e.g. Authorization for a protected status page). Never logged. */
    headers: z.record(z.string(), z.string()),
    serviceName: z.string().min(1),
    /** Extra resource attributes merged last (the runtime adds container attributes here). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    accessLog: accessLogConfigSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.url === undefined && c.host === undefined && c.port === undefined && c.accessLog === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'nothing to collect: set url (e.g. "http://127.0.0.1:8080/nginx_status"), host/port, or accessLog.path',
      });
    }
  });

export type NginxConfig = z.output<typeof nginxConfigSchema>;
export type AccessLogConfig = z.output<typeof accessLogConfigSchema>;

export const nginxConfigDefaults: Partial<NginxConfig> = {
  scheme: 'http',
  paths: [...DEFAULT_STATUS_PATHS],
  timeout: 5000,
  headers: {},
  serviceName: 'nginx',
  resource: {},
};

/** The stub_status URLs to try, in order; empty when the instance only tails a log. */
export function statusUrlCandidates(c: NginxConfig): string[] {
  if (c.url !== undefined) return [c.url];
  if (c.host === undefined && c.port === undefined) return [];
  const host = c.host ?? '127.0.0.1';
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const port = c.port ?? (c.scheme === 'https' ? 443 : 80);
  return c.paths.map((p) => `${c.scheme}://${hostPart}:${port}${p}`);
}

/** `server.address` / `server.port` of the monitored nginx, when known. */
export function serverAttributes(c: NginxConfig): Record<string, string | number> {
  if (c.url !== undefined) {
    const u = new URL(c.url);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { 'server.address': u.hostname.replace(/^\[|\]$/g, ''), 'server.port': port };
  }
  if (c.host !== undefined || c.port !== undefined) {
    return { 'server.address': c.host ?? '127.0.0.1', 'server.port': c.port ?? (c.scheme === 'https' ? 443 : 80) };
  }
  return {};
}
