/** The `events-puppet` collector factory: receives reports from Puppet's http report processor. */
import { z } from 'zod';
import { createCollectorFactory, type HttpRouterService } from '@sextant/plugin-api';
import { DEFAULT_MAX_BODY_BYTES, TOKEN_REQUIRED, createEventReceiver, hasToken, receiverConfigShape } from '@sextant/integration-kit';
import { decodePuppetReport, parsePuppetReport } from './puppet-report.js';

/** The port the docs suggest for `listen` when the receiver gets a port of its own. */
export const DEFAULT_PUPPET_LISTEN = '127.0.0.1:7082';

export const puppetConfigSchema = z
  .object({
    ...receiverConfigShape,
    /** Record runs with status `unchanged` too (every agent run every 30 minutes: usually noise). */
    includeUnchanged: z.boolean(),
  })
  .refine(hasToken, TOKEN_REQUIRED);
export type PuppetConfig = z.infer<typeof puppetConfigSchema>;

/**
 * The factory; `services.http` (the runtime's `coreServices.httpRouter`) lets an instance without
 * `listen` mount at `/ingest/<instance id>/` of the API server.
 */
export function createPuppetCollectorFactory(services: { readonly http?: HttpRouterService } = {}) {
  return createCollectorFactory<PuppetConfig>({
    type: 'events-puppet',
    stability: 'alpha',
    description: 'Receives Puppet agent reports (http report processor, YAML or JSON) as config.run events.',
    configSchema: puppetConfigSchema,
    // Reports of hosts with many resources are large: 8 MiB by default instead of 1 MiB.
    defaults: { maxBodyBytes: 8 * DEFAULT_MAX_BODY_BYTES, includeUnchanged: false },
    create(ctx) {
      return createEventReceiver(ctx, {
        tool: 'Puppet',
        parse: (request) => parsePuppetReport(decodePuppetReport(request), ctx.clock.now(), { includeUnchanged: ctx.config.includeUnchanged }),
      }, services.http);
    },
  });
}

/** The factory without the runtime's router: instances need `listen` (tests, embedding). */
export const puppetCollectorFactory = createPuppetCollectorFactory();
