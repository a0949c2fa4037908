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

const VARIABLE = /\{\{\s*([A-Za-z0-9_.\-/]+)\s*\}\}/g;

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
  const whole = /^\{\{\s*([A-Za-z0-9_.\-/]+)\s*\}\}$/.exec(text);
  if (whole) return lookup(whole[1], values);
  let error: string | undefined;
  const out = text.replace(VARIABLE, (_, name: string) => {
    const v = lookup(name, values);
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
