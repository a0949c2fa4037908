/**
 * Configuration of the `memcached` collector (`collectors: memcached/<name>:` in sextant.yaml).
 */
import { z } from 'zod';
import { timeoutDurationMs } from '@sextant/integration-kit';

/** A duration in ms: a number (ms) or a string such as `500ms`, `5s`; bounded to 100 ms .. 5 min. */
/** `host:port`, `[v6]:port`, or a host alone (port 11211). */
const endpoint = z.string().superRefine((value, ctx) => {
  if (value.includes('://')) {
    const rest = value.slice(value.indexOf('://') + 3).replace(/\/.*$/, '');
    ctx.addIssue({ code: 'custom', message: `must be host:port, not a URL (got ${JSON.stringify(value)}); did you mean "${rest}"?` });
    return;
  }
  if (parseEndpoint(value) === undefined) ctx.addIssue({ code: 'custom', message: `must be host:port, e.g. "127.0.0.1:11211" (got ${JSON.stringify(value)})` });
});

export const memcachedConfigSchema = z
  .object({
    /** Server to monitor: `host:port` (text protocol over TCP). */
    endpoint,
    /** Connect timeout and the time one `stats` reply may take. */
    timeout: timeoutDurationMs,
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: sessions-cache`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict();

/** Validated configuration with defaults applied. */
export type MemcachedConfig = z.infer<typeof memcachedConfigSchema>;

export const memcachedConfigDefaults: Partial<MemcachedConfig> = {
  endpoint: '127.0.0.1:11211',
  timeout: 5000,
  resource: {},
};

export interface MemcachedEndpoint {
  readonly host: string;
  readonly port: number;
}

export function parseEndpoint(value: string): MemcachedEndpoint | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+))(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match) return undefined;
  const port = match[3] === undefined ? 11211 : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}
