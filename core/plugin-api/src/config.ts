/**
 * Config schemas. A factory declares its configuration with any Standard Schema library
 * (zod v4, valibot, arktype, ...): the runtime only speaks the `~standard` interface, so plugins
 * pick their own validator and two plugins never have to agree on a version.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';

export type { StandardSchemaV1 };

/** One problem found in a configuration. Validation reports every problem, not just the first. */
export interface ConfigIssue {
  /** Dotted path from the root of the config file: `collectors.nginx.url`. */
  readonly path: string;
  readonly message: string;
  /** How to fix it, when we can tell. */
  readonly hint?: string;
}

export type ConfigResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

function joinPath(prefix: string, segments: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment> | undefined): string {
  const parts: string[] = prefix ? [prefix] : [];
  for (const seg of segments ?? []) {
    const key = typeof seg === 'object' && seg !== null ? seg.key : seg;
    parts.push(typeof key === 'number' ? `[${key}]` : String(key));
  }
  return parts.join('.').replace(/\.\[/g, '[');
}

/**
 * Validates `value` with a Standard Schema and returns every issue with a full dotted path.
 * `pathPrefix` is where the value sits in the config file (`collectors.nginx`).
 * Async schemas are supported.
 */
export async function validateConfig<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, pathPrefix = ''): Promise<ConfigResult<T>> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) {
    return {
      ok: false,
      issues: result.issues.map((issue) => ({ path: joinPath(pathPrefix, issue.path) || pathPrefix || '(root)', message: issue.message })),
    };
  }
  return { ok: true, value: result.value };
}

/**
 * Deep-merges defaults under a user config: plain objects merge key by key, everything else
 * (arrays, scalars) in `config` replaces the default. Neither input is modified.
 */
export function mergeDefaults<T>(defaults: T, config: unknown): T {
  if (config === undefined || config === null) return structuredClone(defaults);
  if (!isPlainObject(defaults) || !isPlainObject(config)) return config as T;
  const out: Record<string, unknown> = structuredClone(defaults) as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    out[key] = key in out ? mergeDefaults(out[key], value) : value;
  }
  return out as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}
