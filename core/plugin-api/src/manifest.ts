/**
 * The plugin manifest: the `sextant` field of a plugin package's package.json. It is the single
 * source of truth about a plugin that can be read without running its code: discovery, the
 * builder, `sextant plugins list` and generated docs all read it (docs/architecture.md, "Extension points").
 *
 * ```json
 * "sextant": {
 *   "plugin": "./dist/plugin.js",
 *   "protocol": [1],
 *   "provides": ["collector"],
 *   "stability": "beta",
 *   "discovery": [{
 *     "factory": "nginx",
 *     "images": ["nginx", "*\/nginx", "bitnami/nginx"],
 *     "ports": [80, 8080],
 *     "config": { "url": "http://{{host}}:{{port}}/nginx_status" }
 *   }]
 * }
 * ```
 */
import { STABILITY_LEVELS, type Stability } from './components.js';
import type { ConfigIssue } from './config.js';
import { EXTENSION_KINDS, type ExtensionKind } from './refs.js';

/**
 * One autodiscovery rule. A container matches when its image matches one of `images` (glob with
 * `*`; registry host and tag/digest ignored), or — when `images` is absent — when it exposes one of
 * `ports`; and every entry of `labels` equals the container's label. `config` is a template for the
 * instance configuration; `{{host}}`, `{{port}}`, `{{container.id}}`, `{{container.name}}`,
 * `{{container.pid}}` and `{{labels.NAME}}` are replaced per container.
 */
export interface DiscoveryRule {
  /** Factory type to instantiate (must be a collector this plugin provides). */
  readonly factory: string;
  readonly images?: readonly string[];
  readonly ports?: readonly number[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface PluginManifest {
  /** Path (relative to the package root) of the module that default-exports the plugin. */
  readonly plugin: string;
  /** Plugin protocol major versions (`sextant.plugin.vN`) the package can serve out of process. */
  readonly protocol: readonly number[];
  readonly provides: readonly ExtensionKind[];
  /** Overall stability; each factory also declares its own. */
  readonly stability?: Stability;
  readonly discovery?: readonly DiscoveryRule[];
}

export type ManifestResult = { readonly ok: true; readonly manifest: PluginManifest } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** Validates the raw `sextant` field of a package.json and lists every problem. */
export function parseManifest(raw: unknown, path = 'sextant'): ManifestResult {
  const issues: ConfigIssue[] = [];
  const add = (p: string, message: string, hint?: string) => issues.push({ path: `${path}${p}`, message, ...(hint ? { hint } : {}) });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: [{ path, message: 'must be an object', hint: 'add "sextant": { "plugin": "./dist/plugin.js", "protocol": [1], "provides": ["collector"] }' }] };
  }
  const m = raw as Record<string, unknown>;
  if (typeof m.plugin !== 'string' || m.plugin.length === 0) add('.plugin', 'must be the path of the plugin module', 'e.g. "./dist/plugin.js"');
  const protocol = m.protocol ?? [1];
  if (!Array.isArray(protocol) || protocol.length === 0 || !protocol.every((v) => Number.isInteger(v) && v > 0)) {
    add('.protocol', 'must be a non-empty list of positive integers', 'e.g. [1]');
  }
  if (!Array.isArray(m.provides) || m.provides.length === 0) {
    add('.provides', `must list what the plugin provides: ${EXTENSION_KINDS.join(', ')}`);
  } else {
    m.provides.forEach((k, i) => {
      if (!EXTENSION_KINDS.includes(k as ExtensionKind)) add(`.provides[${i}]`, `unknown kind ${JSON.stringify(k)}`, `use one of ${EXTENSION_KINDS.join(', ')}`);
    });
  }
  if (m.stability !== undefined && !STABILITY_LEVELS.includes(m.stability as Stability)) {
    add('.stability', `unknown stability ${JSON.stringify(m.stability)}`, `use one of ${STABILITY_LEVELS.join(', ')}`);
  }
  let discovery: unknown = m.discovery;
  if (discovery !== undefined && !Array.isArray(discovery)) discovery = [discovery];
  if (Array.isArray(discovery)) {
    discovery.forEach((rule, i) => {
      const at = `.discovery[${i}]`;
      if (typeof rule !== 'object' || rule === null) return add(at, 'must be an object');
      const r = rule as Record<string, unknown>;
      if (typeof r.factory !== 'string') add(`${at}.factory`, 'must name the collector factory type to start');
      if (r.images !== undefined && (!Array.isArray(r.images) || !r.images.every((s) => typeof s === 'string'))) add(`${at}.images`, 'must be a list of image patterns');
      if (r.ports !== undefined && (!Array.isArray(r.ports) || !r.ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536))) add(`${at}.ports`, 'must be a list of TCP ports (1-65535)');
      if (r.images === undefined && r.ports === undefined && r.labels === undefined) add(at, 'needs at least one of images, ports or labels');
      if (r.labels !== undefined && (typeof r.labels !== 'object' || r.labels === null || Object.values(r.labels).some((v) => typeof v !== 'string'))) add(`${at}.labels`, 'must map label names to string values');
      if (r.config !== undefined && (typeof r.config !== 'object' || r.config === null || Array.isArray(r.config))) add(`${at}.config`, 'must be an object');
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    manifest: {
      plugin: m.plugin as string,
      protocol: protocol as number[],
      provides: m.provides as ExtensionKind[],
      ...(m.stability !== undefined ? { stability: m.stability as Stability } : {}),
      ...(discovery !== undefined ? { discovery: discovery as DiscoveryRule[] } : {}),
    },
  };
}
