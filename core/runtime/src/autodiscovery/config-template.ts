/**
 * Rendering of discovery-rule config templates. Supported variables:
 *
 * | variable              | value                                                                 |
 * |-----------------------|-----------------------------------------------------------------------|
 * | `{{host}}`            | the container's first IP address; `127.0.0.1` for host-network ones   |
 * | `{{port}}`            | the rule port the container exposes (see `matchContainer`)            |
 * | `{{container.id}}`    | full container id                                                     |
 * | `{{container.name}}`  | container name                                                        |
 * | `{{container.pid}}`   | host pid of the container's init process                              |
 * | `{{labels.NAME}}`     | value of label NAME                                                   |
 *
 * Alternatives: `{{labels.prometheus.io/port | port}}` takes the first alternative that has a value;
 * a single-quoted alternative is a literal default (`{{labels.prometheus.io/path | '/metrics'}}`).
 * An unknown variable name is an error even as an alternative, so a typo is never silently skipped.
 *
 * A string that is exactly one numeric variable (`"{{port}}"`, `"{{container.pid}}"`) renders as a
 * number. Whitespace inside braces is allowed. An unknown or unavailable variable is an error that
 * names it, so `explain` can say why a container was not monitored.
 */
import type { DiscoveredContainer } from './discovered-container.js';

export interface TemplateValues {
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly container: DiscoveredContainer;
}

export type RenderResult = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly error: string };

const NAME = "[A-Za-z0-9_.\\-/]+|'[^'{}|]*'";
const EXPRESSION = `(?:${NAME})(?:\\s*\\|\\s*(?:${NAME}))*`;
const VARIABLE = new RegExp(`\\{\\{\\s*(${EXPRESSION})\\s*\\}\\}`, 'g');
const WHOLE = new RegExp(`^\\{\\{\\s*(${EXPRESSION})\\s*\\}\\}$`);

/** Evaluates `a | b | 'literal'`: the first alternative with a value. */
function evaluate(expression: string, values: TemplateValues): string | number | { error: string } {
  let first: { error: string } | undefined;
  for (const alternative of expression.split('|').map((a) => a.trim())) {
    if (alternative.startsWith("'")) return alternative.slice(1, -1);
    const v = lookup(alternative, values);
    if (typeof v !== 'object') return v;
    if (v.error.startsWith('unknown template variable')) return v;
    first ??= v;
  }
  return first!;
}

function lookup(name: string, values: TemplateValues): string | number | { error: string } {
  const c = values.container;
  switch (name) {
    case 'host':
      return values.host ?? { error: `{{host}} has no value: container has no IP address (network mode ${c.networkMode})` };
    case 'port':
      return values.port ?? { error: '{{port}} has no value: the rule lists no port the container exposes' };
    case 'container.id':
      return c.id;
    case 'container.name':
      return c.name;
    case 'container.pid':
      return c.pid > 0 ? c.pid : { error: '{{container.pid}} has no value: container is not running' };
  }
  if (name.startsWith('labels.')) {
    const label = name.slice('labels.'.length);
    return Object.hasOwn(c.labels, label) ? c.labels[label] : { error: `{{${name}}} has no value: label ${label} is not set` };
  }
  return { error: `unknown template variable {{${name}}}` };
}

function renderString(text: string, values: TemplateValues): string | number | { error: string } {
  const whole = WHOLE.exec(text);
  if (whole) return evaluate(whole[1], values);
  let error: string | undefined;
  const out = text.replace(VARIABLE, (_, name: string) => {
    const v = evaluate(name, values);
    if (typeof v === 'object') {
      error ??= v.error;
      return '';
    }
    return String(v);
  });
  return error ? { error } : out;
}

function renderValue(value: unknown, values: TemplateValues): unknown {
  if (typeof value === 'string') {
    const r = renderString(value, values);
    if (typeof r === 'object') throw new TemplateError(r.error);
    return r;
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, values));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, values)]));
  }
  return value;
}

class TemplateError extends Error {}

/** Renders every string in `template` (deeply). Never throws. */
export function renderConfigTemplate(template: Readonly<Record<string, unknown>>, values: TemplateValues): RenderResult {
  try {
    return { ok: true, value: renderValue(template, values) as Record<string, unknown> };
  } catch (e) {
    if (e instanceof TemplateError) return { ok: false, error: e.message };
    throw e;
  }
}
