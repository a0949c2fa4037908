/**
 * Decides which plugins to start for a container, from the discovery rules plugin packages declare
 * in their manifest (`package.json#sextant.discovery`, see @sextant/plugin-api's DiscoveryRule),
 * and explains the decision in words a person reads (`sextant plugins explain <container>`).
 *
 * Pure: no I/O, no clock. The same inputs always give the same answer.
 *
 * Rule semantics (as documented on DiscoveryRule):
 * - a rule with `images` matches when one image glob matches (registry host, tag, digest ignored);
 * - a rule without `images` but with `ports` matches when the container exposes or publishes one;
 * - every `labels` entry must equal the container's label;
 * - `{{port}}` is the first rule port the container exposes; when it exposes none (host-network
 *   containers often declare no ports) the rule's first port; for a rule without ports, the
 *   container's first exposed TCP port.
 *
 * The `io.sextant.plugins` container label overrides the rules:
 * - `none` (or the JSON string `"none"`): no plugin is started for the container;
 * - a JSON object keyed by plugin id or factory type: `false` disables that plugin; an object is
 *   merged over the rendered config (its strings are templates too) and starts the plugin even
 *   when its rules do not match (for images with unusual names).
 * A label that is not valid JSON is ignored with a note (it never stops discovery).
 */
import { mergeDefaults, type DiscoveryRule, type PluginManifest } from '@sextant/plugin-api';
import { renderConfigTemplate } from './config-template.js';
import type { DiscoveredContainer } from './discovered-container.js';
import { imageMatchesPattern } from './image-pattern.js';

/** The label a container sets to override or disable autodiscovery. */
export const PLUGINS_LABEL = 'io.sextant.plugins';

/** A plugin package as autodiscovery sees it. */
export interface DiscoveryPlugin {
  readonly pluginId: string;
  readonly packageName: string;
  readonly manifest: PluginManifest;
}

export interface DiscoveryMatch {
  readonly pluginId: string;
  /** Collector factory type to instantiate. */
  readonly factory: string;
  readonly rule: DiscoveryRule;
  /** Rendered instance configuration (rule template + label override). */
  readonly config: Record<string, unknown>;
  /** Why it matched: `matched image pattern *\/nginx against nginx:1.25`. */
  readonly reason: string;
  /** Instance id to start: `<factory>/c-<first 12 hex of the container id>`. */
  readonly key: string;
}

export interface DiscoveryRejection {
  readonly pluginId: string;
  readonly rule: DiscoveryRule;
  /** Why not: `image does not match redis, *\/redis; port 6379 not exposed`. */
  readonly reason: string;
}

export interface ContainerMatchResult {
  readonly matches: readonly DiscoveryMatch[];
  readonly rejected: readonly DiscoveryRejection[];
  /** Remarks that concern the container as a whole (an invalid override label). */
  readonly notes: readonly string[];
}

type LabelOverride =
  | { readonly kind: 'absent' }
  | { readonly kind: 'none' }
  | { readonly kind: 'entries'; readonly entries: Readonly<Record<string, Record<string, unknown> | false>> }
  | { readonly kind: 'invalid'; readonly error: string };

/** Parses the `io.sextant.plugins` label. Never throws. */
export function parsePluginsLabel(value: string | undefined): LabelOverride {
  if (value === undefined) return { kind: 'absent' };
  const trimmed = value.trim();
  if (trimmed === 'none') return { kind: 'none' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { kind: 'invalid', error: `label ${PLUGINS_LABEL} is not valid JSON (got ${JSON.stringify(value.slice(0, 80))}); use "none" or {"nginx": {...} | false}` };
  }
  if (parsed === 'none') return { kind: 'none' };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { kind: 'invalid', error: `label ${PLUGINS_LABEL} must be "none" or a JSON object keyed by plugin id` };
  }
  const entries: Record<string, Record<string, unknown> | false> = {};
  const bad: string[] = [];
  for (const [key, v] of Object.entries(parsed)) {
    if (v === false) entries[key] = false;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) entries[key] = v as Record<string, unknown>;
    else bad.push(key);
  }
  if (bad.length > 0) return { kind: 'invalid', error: `label ${PLUGINS_LABEL}: ${bad.join(', ')} must be false or a config object` };
  return { kind: 'entries', entries };
}

/** The instance id autodiscovery gives a factory for a container. */
export function discoveredInstanceKey(factory: string, containerId: string): string {
  return `${factory}/c-${containerId.slice(0, 12)}`;
}

function exposedPorts(c: DiscoveredContainer): Set<number> {
  return new Set(c.ports.map((p) => p.port));
}

function hostFor(c: DiscoveredContainer): string | undefined {
  if (c.networkMode === 'host') return '127.0.0.1';
  return c.ipAddresses[0];
}

function choosePort(rule: DiscoveryRule, c: DiscoveredContainer, exposed: Set<number>): number | undefined {
  if (rule.ports && rule.ports.length > 0) return rule.ports.find((p) => exposed.has(p)) ?? rule.ports[0];
  return c.ports.find((p) => p.protocol === 'tcp')?.port;
}

/** Matches one container against every plugin's discovery rules. */
export function matchContainer(container: DiscoveredContainer, plugins: readonly DiscoveryPlugin[]): ContainerMatchResult {
  const matches: DiscoveryMatch[] = [];
  const rejected: DiscoveryRejection[] = [];
  const notes: string[] = [];
  const override = parsePluginsLabel(container.labels[PLUGINS_LABEL]);
  if (override.kind === 'invalid') notes.push(`${override.error}; the label is ignored`);
  const exposed = exposedPorts(container);
  const startedFactories = new Set<string>();

  for (const plugin of plugins) {
    for (const rule of plugin.manifest.discovery ?? []) {
      const reject = (reason: string) => void rejected.push({ pluginId: plugin.pluginId, rule, reason });
      if (override.kind === 'none') {
        reject(`autodiscovery disabled by label ${PLUGINS_LABEL}=none`);
        continue;
      }
      const entry = override.kind === 'entries' ? (override.entries[rule.factory] ?? override.entries[plugin.pluginId]) : undefined;
      if (entry === false) {
        reject(`disabled by label ${PLUGINS_LABEL}`);
        continue;
      }

      const why: string[] = [];
      let matchedBy: string | undefined;
      if (rule.images && rule.images.length > 0) {
        const pattern = rule.images.find((p) => imageMatchesPattern(container.image, p));
        if (pattern !== undefined) matchedBy = `matched image pattern ${pattern} against ${container.image}`;
        else why.push(`image ${container.image} does not match ${rule.images.join(', ')}`);
      }
      if (rule.ports && rule.ports.length > 0) {
        const port = rule.ports.find((p) => exposed.has(p));
        if (port === undefined) why.push(`port ${rule.ports.join(' or ')} not exposed`);
        else if (!rule.images?.length) matchedBy = `matched exposed port ${port}`;
      }
      const labelProblems = Object.entries(rule.labels ?? {})
        .filter(([k, v]) => container.labels[k] !== v)
        .map(([k, v]) => (container.labels[k] === undefined ? `label ${k}=${v} missing` : `label ${k} is ${container.labels[k]}, not ${v}`));
      if (!rule.images?.length && !rule.ports?.length && labelProblems.length === 0) matchedBy = `matched labels ${Object.entries(rule.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}`;
      if (labelProblems.length > 0) {
        why.push(...labelProblems);
        matchedBy = undefined;
      }
      if (!matchedBy && entry) matchedBy = `enabled by label ${PLUGINS_LABEL}`;
      if (!matchedBy) {
        reject(why.join('; '));
        continue;
      }
      if (startedFactories.has(rule.factory)) {
        reject(`${matchedBy}, but an earlier rule already starts ${rule.factory} for this container`);
        continue;
      }

      const values = { host: hostFor(container), port: choosePort(rule, container, exposed), container };
      const rendered = renderConfigTemplate(rule.config ?? {}, values);
      if (!rendered.ok) {
        reject(`${matchedBy}, but ${rendered.error}`);
        continue;
      }
      let config = rendered.value;
      if (entry) {
        const overrides = renderConfigTemplate(entry, values);
        if (!overrides.ok) {
          reject(`${matchedBy}, but label ${PLUGINS_LABEL}: ${overrides.error}`);
          continue;
        }
        config = mergeDefaults(config, overrides.value);
      }
      startedFactories.add(rule.factory);
      matches.push({
        pluginId: plugin.pluginId,
        factory: rule.factory,
        rule,
        config,
        reason: entry && !matchedBy.startsWith('enabled') ? `${matchedBy} (config overridden by label ${PLUGINS_LABEL})` : matchedBy,
        key: discoveredInstanceKey(rule.factory, container.id),
      });
    }
  }
  return { matches, rejected, notes };
}

function formatConfig(config: Record<string, unknown>): string {
  return Object.entries(config)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/**
 * Explains, one line per plugin rule, which plugins matched a container and why, or why not:
 *
 * ```
 * container web (3f2a1b2c3d4e), image docker.io/library/nginx:1.25, state running
 * nginx: matched image pattern *\/nginx against docker.io/library/nginx:1.25 -> nginx/c-3f2a1b2c3d4e url=http://10.0.0.5:80/nginx_status
 * redis: image docker.io/library/nginx:1.25 does not match redis, *\/redis, bitnami/redis; port 6379 not exposed
 * ```
 */
export function explainContainer(container: DiscoveredContainer, plugins: readonly DiscoveryPlugin[]): string[] {
  const result = matchContainer(container, plugins);
  const lines = [`container ${container.name} (${container.id.slice(0, 12)}), image ${container.image}, state ${container.state}`];
  lines.push(...result.notes.map((n) => `note: ${n}`));
  for (const m of result.matches) {
    const config = formatConfig(m.config);
    lines.push(`${m.pluginId}: ${m.reason} -> ${m.key}${config ? ` ${config}` : ''}`);
  }
  for (const r of result.rejected) lines.push(`${r.pluginId}: ${r.reason}`);
  if (!plugins.some((p) => (p.manifest.discovery ?? []).length > 0)) lines.push('no installed plugin declares discovery rules');
  else if (result.matches.length === 0) lines.push('no plugin matched; nothing will be started for this container');
  return lines;
}
