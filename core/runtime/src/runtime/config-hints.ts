/**
 * Hints for configuration mistakes a person makes: a setting the factory does not know (almost
 * always a typo that would otherwise be ignored in silence) and a component type nobody installed.
 */
import type { ConfigIssue } from '@sextant/plugin-api';
import type { InstanceSpec } from '../config/runtime-config.js';

export function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/**
 * The top-level setting names a factory's schema knows, when the schema says (a zod object, also
 * inside a pipe/default/optional); undefined for schemas that do not expose a shape.
 */
function schemaKeys(schema: unknown): Set<string> | undefined {
  let node = schema as { shape?: Record<string, unknown>; def?: { shape?: Record<string, unknown>; in?: unknown; innerType?: unknown; catchall?: unknown } } | undefined;
  for (let depth = 0; node && depth < 5; depth++) {
    const shape = node.shape ?? node.def?.shape;
    if (shape && typeof shape === 'object') {
      // an object that accepts any extra key (catchall / passthrough) has no unknown settings
      const catchall = node.def?.catchall as { def?: { type?: string } } | undefined;
      if (catchall && catchall.def?.type !== 'never') return undefined;
      return new Set(Object.keys(shape));
    }
    node = (node.def?.in ?? node.def?.innerType) as typeof node;
  }
  return undefined;
}

/** Settings of `spec` its factory's schema does not know, each with the closest known name. */
export function unknownSettings(schema: unknown, spec: InstanceSpec, path: string): ConfigIssue[] {
  const known = schemaKeys(schema);
  if (!known) return [];
  const out: ConfigIssue[] = [];
  for (const key of Object.keys(spec.config)) {
    if (known.has(key)) continue;
    const close = [...known].filter((k) => levenshtein(k, key) <= 2);
    out.push({
      path: `${path}.${key}`,
      message: `unknown setting "${key}" for ${spec.kind} type "${spec.type}"`,
      hint: close.length ? `did you mean "${close[0]}"?` : `known settings: ${[...known].join(', ') || '(none)'}`,
    });
  }
  return out;
}
