/**
 * A tiny `{{path.to.field}}` template renderer over a {@link Notification}, so every notifier
 * lets users override its titles and bodies the same way.
 *
 * The view a template sees (all paths are case-sensitive):
 * - `idempotencyKey`, `attempt`, `url` — from the notification;
 * - `change` (`opened`|`updated`|`resolved`), `sequence`, `reason` — from the update;
 * - `incident.*` — the {@link Incident} itself (`incident.title`, `incident.severity`,
 *   `incident.impact`, `incident.entities`, `incident.causes.0.summary`, ...);
 * - `cause.*` — the top likely cause (`cause.summary`, `cause.entity`, `cause.score`,
 *   `cause.evidence`), empty when there is none;
 * - `openedAt`, `updatedAt`, `resolvedAt` — ISO-8601 UTC strings of the incident's times.
 *
 * Rendering rules: strings as they are; numbers and booleans with `String()`; arrays of scalars
 * joined with `, `; objects as JSON. A known field that is absent (`url` when the server has no
 * public URL, `cause` when no cause is known) renders as empty. A path that does not exist renders
 * as empty too and is listed in `unknownPaths`, so a notifier can warn about a typo instead of
 * silently sending blanks. With `escape: 'html'` every substituted value (never the template text
 * itself) is HTML-escaped, so a title like `<script>` cannot inject markup into an e-mail.
 *
 * No logic (conditionals, loops) on purpose: templates are configuration, not code.
 */
import type { Notification } from '@sextant/plugin-api';

export interface IncidentTemplateOptions {
  /** `html` escapes `& < > " '` in substituted values; default `none`. */
  readonly escape?: 'html' | 'none';
}

export interface RenderedIncidentTemplate {
  readonly text: string;
  /** Paths used by the template that do not exist in the view (typos), in order of appearance, deduplicated. */
  readonly unknownPaths: readonly string[];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

/** The object templates are rendered against (see the module comment). */
export function incidentTemplateView(notification: Notification): Record<string, unknown> {
  const { update } = notification;
  const incident = update.incident;
  return {
    idempotencyKey: notification.idempotencyKey,
    attempt: notification.attempt,
    url: notification.url,
    change: update.change,
    sequence: update.sequence,
    reason: update.reason,
    // resolvedAt is spelled out so that `incident.resolvedAt` is a known (possibly empty) field.
    incident: { ...incident, resolvedAt: incident.resolvedAt },
    cause: incident.causes[0],
    openedAt: iso(incident.openedAt),
    updatedAt: iso(incident.updatedAt),
    resolvedAt: iso(incident.resolvedAt),
  };
}

function resolvePath(view: Record<string, unknown>, path: string): { value: unknown; known: boolean } {
  let current: unknown = view;
  for (const segment of path.split('.')) {
    if (current === undefined || current === null) return { value: undefined, known: true };
    if (typeof current !== 'object') return { value: undefined, known: false };
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return { value: undefined, known: false };
    current = (current as Record<string, unknown>)[segment];
  }
  return { value: current, known: true };
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.map(stringify).join(', ');
  return JSON.stringify(value);
}

/**
 * Renders `template` against a notification. Never throws: unknown paths render as empty and are
 * reported in `unknownPaths`.
 *
 * ```ts
 * renderIncidentTemplate('[{{incident.severity}}] {{incident.title}}', n).text
 * // -> "[critical] checkout latency p90 rose 8x"
 * ```
 */
export function renderIncidentTemplate(template: string, notification: Notification, options: IncidentTemplateOptions = {}): RenderedIncidentTemplate {
  const view = incidentTemplateView(notification);
  const unknown: string[] = [];
  const html = options.escape === 'html';
  const text = template.replace(PLACEHOLDER, (_match, path: string) => {
    const { value, known } = resolvePath(view, path);
    if (!known) {
      if (!unknown.includes(path)) unknown.push(path);
      return '';
    }
    const out = stringify(value);
    return html ? escapeHtml(out) : out;
  });
  return { text, unknownPaths: unknown };
}
