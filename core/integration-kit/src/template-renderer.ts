/**
 * User templates (`template.title`, `template.text`, ...) rendered for a notification, with typos
 * made visible: a placeholder that names no field renders empty (a delivery never fails over a
 * template), is counted in `template_unknown_paths_total`, and is logged as a warning once per
 * path per instance, not once per delivery.
 */
import type { BaseContext, Notification } from '@sextant/plugin-api';
import { renderIncidentTemplate, type IncidentTemplateOptions } from './incident-template.js';

/** Renders `template` for `notification`; `field` names the config key in the warning (`text` -> `template.text`). */
export type TemplateRenderer = (template: string, field: string, notification: Notification, options?: IncidentTemplateOptions) => string;

/** Creates the counter and the once-per-path warning memory; call once per instance, in `create()`. */
export function createTemplateRenderer(ctx: Pick<BaseContext<unknown>, 'metrics' | 'logger'>): TemplateRenderer {
  const templateProblems = ctx.metrics.counter('template_unknown_paths_total', 'Template placeholders that name no field');
  const warned = new Set<string>();
  return (template, field, notification, options) => {
    const out = renderIncidentTemplate(template, notification, options);
    for (const path of out.unknownPaths) {
      templateProblems.add(1);
      if (!warned.has(path)) {
        warned.add(path);
        ctx.logger.warn(`template.${field} uses {{${path}}}, which names no field; it renders empty`, { path });
      }
    }
    return out.text;
  };
}
