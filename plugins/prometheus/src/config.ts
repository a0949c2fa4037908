/**
 * Configuration of one `prometheus` collector instance: one scrape target
 * (`collectors.prometheus/<name>` in sextant.yaml). The scrape interval is the runtime's
 * per-instance `interval` key, as for every collector.
 *
 * Names follow the project's camelCase; the Prometheus `scrape_config` equivalent of each key is
 * given in the README.
 */
import { readFileSync } from 'node:fs';
import { durationMs } from '@sextant/plugin-kit';
import { z } from 'zod';
import { compileNamePattern } from './metric-filter.js';

/** `250`, `250ms`, `5s`, `1m` -> whole milliseconds (a bare number is milliseconds), more than 0, at most 10 minutes. */
const timeoutMs = durationMs({ min: 1, max: 600_000 });

const httpUrl = z.string().superRefine((value, ctx) => {
  let ok = false;
  try {
    const u = new URL(value);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) ctx.addIssue({ code: 'custom', message: `must be an http(s) URL (got ${JSON.stringify(value)}); did you mean "http://${value.replace(/^\w+:\/\//, '')}"?` });
});

const namePattern = z.string().superRefine((value, ctx) => {
  try {
    compileNamePattern(value);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `is not a valid glob or /regex/: ${(e as Error).message}` });
  }
});

/** A secret given inline (usually `${env:NAME}`) or as the path of a file that holds it. */
const secretFile = z.string().min(1, 'must be the path of a file');

export const prometheusConfigSchema = z
  .object({
    /** The page to scrape, e.g. `http://127.0.0.1:9100/metrics`. */
    url: httpUrl,
    /** `service.name` of the target's resource (Prometheus' `job`). */
    job: z.string().min(1),
    /** Whole-scrape timeout; should be below the interval. */
    timeout: timeoutMs,
    /** When true, `job` and `instance` labels on scraped samples win over the target's; otherwise they become `exported_job` / `exported_instance`. */
    honourLabels: z.boolean(),
    /** Globs or /regexes/ of sample names to keep (empty: all). */
    keep: z.array(namePattern),
    /** Globs or /regexes/ of sample names to drop. */
    drop: z.array(namePattern),
    /** A page with more samples than this (after keep/drop) is refused as a whole, like Prometheus' sample_limit. 0: no limit. */
    sampleLimit: z.number().int().min(0),
    /** Series with more labels than this are dropped and counted. 0: no limit. */
    labelLimit: z.number().int().min(0),
    /** Series with a label value longer than this are dropped and counted. 0: no limit. */
    labelValueLengthLimit: z.number().int().min(0),
    /** Largest page accepted, in bytes after decompression; a larger one is refused (up = 0). */
    maxBodyBytes: z.number().int().min(1024).max(1 << 30),
    /** Extra attributes of the target's resource (Prometheus' static_configs labels). */
    labels: z.record(z.string(), z.string()),
    /** `Authorization: Bearer ...`; use `${env:NAME}` rather than a literal. */
    bearerToken: z.string().min(1).optional(),
    /** File holding the bearer token, read at every scrape (so a rotated token is picked up). */
    bearerTokenFile: secretFile.optional(),
    basicAuth: z
      .object({
        username: z.string(),
        password: z.string().optional(),
        passwordFile: secretFile.optional(),
      })
      .strict()
      .optional(),
    /** Extra request headers. */
    headers: z.record(z.string(), z.string()),
    /** Ask for the native protobuf format first (the only format with native histograms); off: text formats only. */
    protobuf: z.boolean(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const auths = [c.bearerToken, c.bearerTokenFile, c.basicAuth].filter((v) => v !== undefined).length;
    if (auths > 1) ctx.addIssue({ code: 'custom', message: 'use only one of bearerToken, bearerTokenFile and basicAuth' });
    if (c.basicAuth && c.basicAuth.password !== undefined && c.basicAuth.passwordFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['basicAuth'], message: 'use only one of password and passwordFile' });
    }
  });

export type PrometheusConfig = z.output<typeof prometheusConfigSchema>;

export const prometheusConfigDefaults: Partial<PrometheusConfig> = {
  job: 'prometheus',
  timeout: 10_000,
  honourLabels: false,
  keep: [],
  drop: [],
  sampleLimit: 50_000,
  labelLimit: 64,
  labelValueLengthLimit: 2048,
  maxBodyBytes: 20 << 20,
  labels: {},
  headers: {},
  protobuf: true,
};

/** The `Authorization` header for a scrape, or undefined. Reads secret files each time; throws when one cannot be read. */
export function authorizationHeader(c: PrometheusConfig): string | undefined {
  if (c.bearerToken !== undefined) return `Bearer ${c.bearerToken}`;
  if (c.bearerTokenFile !== undefined) return `Bearer ${readFileSync(c.bearerTokenFile, 'utf8').trim()}`;
  if (c.basicAuth) {
    const password = c.basicAuth.passwordFile !== undefined ? readFileSync(c.basicAuth.passwordFile, 'utf8').trim() : (c.basicAuth.password ?? '');
    return `Basic ${Buffer.from(`${c.basicAuth.username}:${password}`).toString('base64')}`;
  }
  return undefined;
}
