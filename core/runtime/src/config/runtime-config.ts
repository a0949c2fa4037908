/**
 * `sextant.yaml`: one file, validated at start with every error listed (docs/architecture.md, "Runtime").
 *
 * ```yaml
 * interval: 10s                 # default collection interval
 * server: { host: 127.0.0.1, port: 7070, token: ${env:SEXTANT_TOKEN} }
 * store: { points: 8640, maxSeries: 200000, maxSeriesPerInstance: 20000 }
 * dataDir: ./.sextant
 * checkpoint: { interval: 60s, maxShare: 0.02 }   # what a SIGKILL can lose
 * plugins: { discover: true, paths: [], isolation: in-process, startTimeout: 10s, config: { kubernetes: {} } }
 * collectors:
 *   host: {}
 *   nginx/web: { url: http://127.0.0.1:8080/nginx_status, interval: 5s }
 * detectors: { baseline: {} }
 * ```
 *
 * Component sections map `<type>` or `<type>/<name>` to that factory's configuration plus the
 * runtime's own per-instance keys (`enabled`, `interval`, `isolation`, `startTimeout`, and `route`
 * for notifiers), which are removed before the factory sees it.
 *
 * ```yaml
 * notifications: { backoff: { initial: 1s, max: 5m }, expiry: 24h, attemptTimeout: 60s }
 * notifiers:
 *   webhook/shop: { url: https://hooks.example.com/x, route: { impact: [business], services: [checkout], severity: warning } }
 * ```
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ErrorCode, SextantError, type ConfigIssue, type ExtensionKind } from '@sextant/plugin-api';
import { durationMs } from '@sextant/plugin-kit';
import type { NotificationRoute } from '../outbox/notification-route.js';

/** Kept only for http/api-server.ts until its owner imports it from @sextant/plugin-kit (not part of the package's exports). */

export const ISOLATION_MODES = ['in-process', 'process', 'in-container'] as const;
export type Isolation = (typeof ISOLATION_MODES)[number];

/**
 * `route` of a notifier instance: which incident updates it gets (default: all). Every condition
 * that is set must hold. See src/outbox/notification-route.ts.
 */
const notificationRouteSchema = z
  .object({
    impact: z.array(z.enum(['business', 'user', 'infrastructure'])).min(1).optional(),
    services: z.array(z.string().min(1)).min(1).optional(),
    /** Minimum severity. */
    severity: z.enum(['info', 'warning', 'critical']).optional(),
    match: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();

const instanceKeys = z.object({
  container: z.string().min(1).optional(),
  enabled: z.boolean().optional(),
  interval: durationMs().optional(),
  isolation: z.enum(ISOLATION_MODES).optional(),
  startTimeout: durationMs().optional(),
  route: notificationRouteSchema.optional(),
});

export const runtimeConfigSchema = z
  .object({
    interval: durationMs().default(10_000),
    dataDir: z.string().optional(),
    /**
     * How often learned state, open incidents and the series registry are written to dataDir (what a
     * SIGKILL can lose), stretched so checkpoints never take more than `maxShare` of one core.
     */
    checkpoint: z
      .object({ interval: durationMs().default(60_000), maxShare: z.number().gt(0).max(1).default(0.02) })
      .strict()
      .default({ interval: 60_000, maxShare: 0.02 }),
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7070),
        // An empty value (e.g. `${env:SEXTANT_TOKEN:-}` with the variable unset) means no token.
        token: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'server.token must be at least 16 characters').optional()),
        enabled: z.boolean().default(true),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 7070, enabled: true }),
    store: z
      .object({
        /** Newest samples kept per series (compressed; 8640 = 24 h at 10 s). */
        points: z.number().int().min(2).max(1_000_000).default(8640),
        maxSeries: z.number().int().min(1).default(200_000),
        maxSeriesPerInstance: z.number().int().min(1).default(20_000),
        anomalies: z.number().int().min(1).default(10_000),
        events: z.number().int().min(1).default(10_000),
        /**
         * Samples stamped further than this ahead of the server's clock are refused (counted as
         * `future_timestamp`): one stored far-future sample would make every later sample of its
         * series "out of order".
         */
        maxFuture: durationMs().default(600_000),
      })
      .strict()
      .default({ points: 8640, maxSeries: 200_000, maxSeriesPerInstance: 20_000, anomalies: 10_000, events: 10_000, maxFuture: 600_000 }),
    plugins: z
      .object({
        discover: z.boolean().default(true),
        paths: z.array(z.string()).default([]),
        isolation: z.enum(ISOLATION_MODES).default('in-process'),
        startTimeout: durationMs().default(10_000),
        disabled: z.array(z.string()).default([]),
        /** Plugin-wide settings by plugin id, given to that plugin as `coreServices.config` (not per instance). */
        config: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
      })
      .strict()
      .default({ discover: true, paths: [], isolation: 'in-process', startTimeout: 10_000, disabled: [], config: {} }),
    autodiscovery: z
      .object({
        /** Start matching plugins for containers from the rules in plugin manifests. */
        enabled: z.boolean().default(true),
        /** How long a container must be up before its instances start (debounces flapping containers). */
        settle: durationMs().default(10_000),
        /** Isolation of discovered instances (default: plugins.isolation). */
        isolation: z.enum(ISOLATION_MODES).optional(),
        /** Collection interval of discovered instances (default: interval). */
        interval: durationMs().optional(),
      })
      .strict()
      .default({ enabled: true, settle: 10_000 }),
    /** Limits of `sextant server` per sending source (agent id or OTLP peer). */
    ingest: z
      .object({
        /** Distinct series one source may create; more are refused and counted (series-limit). */
        maxSeriesPerSource: z.number().int().min(1).default(100_000),
        /** Samples/s one source may send; faster messages are refused as retryable (the agent resends). 0 = no limit. */
        maxSamplesPerSecondPerSource: z.number().int().min(0).default(1_000_000),
        /** Distinct series all sources of one token (tenant) may create together; unset = only store.maxSeries. */
        maxSeriesPerToken: z.number().int().min(1).optional(),
      })
      .strict()
      .default({ maxSeriesPerSource: 100_000, maxSamplesPerSecondPerSource: 1_000_000 }),
    collectors: z.record(z.string(), z.unknown()).default({}),
    detectors: z.record(z.string(), z.unknown()).default({}),
    correlators: z.record(z.string(), z.unknown()).default({}),
    notifiers: z.record(z.string(), z.unknown()).default({}),
    exporters: z.record(z.string(), z.unknown()).default({}),
    /** Delivery of incident updates: retry backoff (full jitter, capped) and expiry of the durable outbox. */
    notifications: z
      .object({
        backoff: z
          .object({ initial: durationMs().default(1000), max: durationMs().default(300_000) })
          .strict()
          .refine((b) => b.initial > 0 && b.initial <= b.max, { message: 'notifications.backoff.initial must be > 0 and not above notifications.backoff.max' })
          .default({ initial: 1000, max: 300_000 }),
        /** Undelivered notifications are dropped (and counted) this long after they were first queued. */
        expiry: durationMs().default(86_400_000),
        /** A delivery attempt that has not finished after this long counts as a retryable failure. */
        attemptTimeout: durationMs().default(60_000),
      })
      .strict()
      .default({ backoff: { initial: 1000, max: 300_000 }, expiry: 86_400_000, attemptTimeout: 60_000 }),
  })
  .strict();

export type RuntimeConfig = z.output<typeof runtimeConfigSchema>;
export type RuntimeConfigInput = z.input<typeof runtimeConfigSchema>;

export const SECTION_KIND: Record<'collectors' | 'detectors' | 'correlators' | 'notifiers' | 'exporters', ExtensionKind> = {
  collectors: 'collector',
  detectors: 'detector',
  correlators: 'correlator',
  notifiers: 'notifier',
  exporters: 'exporter',
};

/** One configured component instance, with the runtime's keys split from the factory's config. */
export interface InstanceSpec {
  readonly kind: ExtensionKind;
  readonly section: keyof typeof SECTION_KIND;
  /** `nginx/web` or `nginx`. */
  readonly id: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly intervalMs?: number;
  readonly isolation?: Isolation;
  readonly startTimeoutMs?: number;
  /** The factory's part of the configuration (runtime keys removed). */
  readonly config: Record<string, unknown>;
  /** For `isolation: in-container`: the container (id or name) whose network namespace the plugin joins. */
  readonly container?: string;
  /** Notifiers only: which incident updates this instance gets (default: all). */
  readonly route?: NotificationRoute;
}

/** Splits the component sections into instance specs, adding issues for malformed entries. */
export function instanceSpecs(config: RuntimeConfig, issues: ConfigIssue[]): InstanceSpec[] {
  const specs: InstanceSpec[] = [];
  for (const section of Object.keys(SECTION_KIND) as (keyof typeof SECTION_KIND)[]) {
    for (const [id, raw] of Object.entries(config[section])) {
      const path = `${section}.${id}`;
      const type = id.split('/')[0];
      if (!/^[a-z][a-z0-9-]*(\/[A-Za-z0-9._-]+)?$/.test(id)) {
        issues.push({ path, message: `instance name "${id}" must be "<type>" or "<type>/<name>"`, hint: 'e.g. nginx/web-1' });
        continue;
      }
      const value = raw ?? {};
      if (typeof value !== 'object' || Array.isArray(value)) {
        issues.push({ path, message: 'must be a mapping of settings (use {} for defaults)' });
        continue;
      }
      const { enabled, interval, isolation, startTimeout, container, ...rest } = value as Record<string, unknown>;
      // `route` is a runtime key only for notifiers; other factories may use the name themselves.
      const route = section === 'notifiers' ? rest.route : undefined;
      if (section === 'notifiers') delete rest.route;
      const parsed = instanceKeys.safeParse({ enabled, interval, isolation, startTimeout, container, route });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) issues.push({ path: `${path}.${issue.path.join('.')}`, message: issue.message });
        continue;
      }
      specs.push({
        kind: SECTION_KIND[section],
        section,
        id,
        type,
        enabled: parsed.data.enabled ?? true,
        ...(parsed.data.interval !== undefined ? { intervalMs: parsed.data.interval } : {}),
        ...(parsed.data.isolation !== undefined ? { isolation: parsed.data.isolation } : {}),
        ...(parsed.data.startTimeout !== undefined ? { startTimeoutMs: parsed.data.startTimeout } : {}),
        ...(parsed.data.container !== undefined ? { container: parsed.data.container } : {}),
        ...(parsed.data.route !== undefined ? { route: parsed.data.route } : {}),
        config: rest,
      });
    }
  }
  return specs;
}

/**
 * Replaces `${env:NAME}` and `${file:PATH}` in every string of a parsed document. Missing
 * variables become issues (never silently empty). `${env:NAME:-default}` supplies a default.
 */
export function substituteReferences(value: unknown, issues: ConfigIssue[], path = '', env: NodeJS.ProcessEnv = process.env): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(env|file):([^}:]+)(?::-([^}]*))?\}/g, (_m, kind: string, name: string, fallback: string | undefined) => {
      if (kind === 'env') {
        const v = env[name];
        if (v !== undefined) return v;
        if (fallback !== undefined) return fallback;
        issues.push({ path: path || '(root)', message: `environment variable ${name} is not set`, hint: `export ${name}=... or use \${env:${name}:-default}` });
        return '';
      }
      try {
        return readFileSync(name, 'utf8').trim();
      } catch (e) {
        issues.push({ path: path || '(root)', message: `cannot read file ${name}: ${(e as Error).message}` });
        return '';
      }
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteReferences(v, issues, `${path}[${i}]`, env));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteReferences(v, issues, path ? `${path}.${k}` : k, env);
    return out;
  }
  return value;
}

export interface LoadedConfig {
  readonly config: RuntimeConfig | undefined;
  readonly issues: ConfigIssue[];
  readonly file?: string;
  /** The parsed document after `${...}` substitution, before validation (when it parsed at all). */
  readonly raw?: unknown;
}

/** Parses YAML text (with line numbers in syntax errors), substitutes references, validates the root. */
export function parseRuntimeConfig(text: string, file = 'sextant.yaml', env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const issues: ConfigIssue[] = [];
  const doc = parseDocument(text, { prettyErrors: true });
  for (const err of doc.errors) {
    const line = err.linePos?.[0];
    issues.push({ path: line ? `${file}:${line.line}:${line.col}` : file, message: err.message.split('\n')[0], hint: 'fix the YAML syntax' });
  }
  if (issues.length) return { config: undefined, issues, file };
  const raw = substituteReferences(doc.toJS() ?? {}, issues, '', env);
  return { ...validateRuntimeConfig(raw, issues), file, raw };
}

/** Validates an already-parsed configuration object. */
export function validateRuntimeConfig(raw: unknown, issues: ConfigIssue[] = []): LoadedConfig {
  const parsed = runtimeConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.') || '(root)';
      let hint: string | undefined;
      if (issue.code === 'unrecognized_keys') {
        hint = `known keys: ${Object.keys(shapeAt(issue.path.map(String))).join(', ')}`;
      }
      issues.push({ path, message: issue.message, ...(hint ? { hint } : {}) });
    }
    return { config: undefined, issues };
  }
  return { config: issues.length ? undefined : parsed.data, issues };
}

function shapeAt(path: string[]): Record<string, unknown> {
  let shape: Record<string, unknown> = runtimeConfigSchema.shape;
  for (const key of path) {
    const next = shape[key] as { unwrap?: () => unknown; shape?: Record<string, unknown>; def?: { innerType?: { shape?: Record<string, unknown> } } } | undefined;
    const inner = next?.def?.innerType?.shape ?? next?.shape;
    if (!inner) break;
    shape = inner;
  }
  return shape;
}

/** Reads and parses a config file; unreadable files become one issue. */
export function loadRuntimeConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { config: undefined, issues: [{ path: file, message: `cannot read config file: ${(e as Error).message}`, hint: 'check the path given to --config' }], file };
  }
  return parseRuntimeConfig(text, file, env);
}

/** Throws one CONFIG_INVALID error listing every issue. */
export function configError(issues: readonly ConfigIssue[]): SextantError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`);
  return new SextantError(ErrorCode.CONFIG_INVALID, `${issues.length} problem${issues.length === 1 ? '' : 's'} in the configuration:\n${lines.join('\n')}`, {
    details: { issues },
  });
}
