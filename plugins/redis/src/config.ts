/**
 * Configuration of the `redis` collector (`collectors: redis/<name>:` in sextant.yaml).
 *
 * Secrets: `password` arrives already resolved (the runtime expands `${env:NAME}` and
 * `passwordFile`); this package never logs it, never puts it in a status message, and never logs
 * the URL (which may carry `user:password@`).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { durationMs as durationField } from '@sextant/plugin-kit';


/**
 * A duration in milliseconds: a number (ms) or a string such as `500ms`, `5s`, `1m`.
 * Bounded to 10 ms .. 10 min so a typo cannot hang a collection round or spin a loop.
 */
/** A duration in milliseconds, 10 ms .. 10 min so a typo cannot hang a collection round or spin a loop. */
const durationMs = durationField({ min: 10, max: 600_000 });

const redisUrl = z.string().superRefine((value, ctx) => {
  if (!value.includes('://')) {
    const hostPort = /^[\w.-]+(:\d+)?$/.test(value);
    ctx.addIssue({ code: 'custom', message: `must be a redis:// or rediss:// URL (got ${JSON.stringify(redactUrl(value))})${hostPort ? `; did you mean "redis://${value}"?` : ''}` });
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a redis:// or rediss:// URL (got ${JSON.stringify(redactUrl(value))})` });
    return;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    ctx.addIssue({ code: 'custom', message: `must use redis:// (plain) or rediss:// (TLS), not ${url.protocol}//` });
  } else if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: 'must name a host, e.g. "redis://127.0.0.1:6379"' });
  }
});

export const redisConfigSchema = z
  .object({
    /** `redis://host:port` or `rediss://host:port` (TLS). Credentials in the URL work but prefer `username`/`password`. */
    url: redisUrl,
    /** ACL user (Redis 6+). Omit for the `default` user / `requirepass`. */
    username: z.string().min(1).optional(),
    /** Password of `username`, or the `requirepass` password. */
    password: z.string().optional(),
    /** TLS settings; only used with a `rediss://` URL. `ca`/`cert`/`key` are PEM text or a file path. */
    tls: z
      .object({
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        rejectUnauthorized: z.boolean(),
      })
      .strict(),
    /** Connect and per-command timeout. */
    timeout: durationMs,
    slowlog: z
      .object({
        enabled: z.boolean(),
        /** Entries read per round with `SLOWLOG GET n`; entries beyond it between two rounds are counted, not emitted. */
        maxEntries: z.number().int().min(1).max(1000),
      })
      .strict(),
    latency: z.object({ enabled: z.boolean() }).strict(),
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: cache`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict()
  .superRefine((config, ctx) => {
    const tlsConfigured = config.tls.ca !== undefined || config.tls.cert !== undefined || config.tls.key !== undefined;
    if (tlsConfigured && config.url.startsWith('redis://')) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'tls.ca/cert/key are set but the URL is redis:// (plain); use rediss:// to connect with TLS' });
    }
    if ((config.tls.cert === undefined) !== (config.tls.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls.cert and tls.key go together: set both for client-certificate auth, or neither' });
    }
  });

/** Validated configuration with defaults applied. */
export type RedisConfig = z.infer<typeof redisConfigSchema>;

export const redisConfigDefaults: Partial<RedisConfig> = {
  url: 'redis://127.0.0.1:6379',
  tls: { rejectUnauthorized: true },
  timeout: 5000,
  slowlog: { enabled: true, maxEntries: 128 },
  latency: { enabled: true },
  resource: {},
};

/** Where the collector connects, without credentials: what resources and messages show. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

export function endpointOf(url: string): RedisEndpoint {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: parsed.port ? Number(parsed.port) : 6379, tls: parsed.protocol === 'rediss:' };
}

/** The URL with any credentials (everything before the last `@`) replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at === -1) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(url)?.[0] ?? '';
  return `${scheme}***${url.slice(at)}`;
}

/**
 * Reads `ca`/`cert`/`key`: PEM text is used as is, anything else is a file path.
 * Throws SEXTANT_ERR_CONFIG_INVALID naming the key when a file cannot be read.
 */
export function loadPem(value: string | undefined, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (error) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `tls.${key}: cannot read ${JSON.stringify(value)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      hint: `set tls.${key} to a readable PEM file or paste the PEM text`,
    });
  }
}
