/** The `events-chef` collector factory: receives Chef Infra run reports. */
import { z } from 'zod';
import { createCollectorFactory, type HttpRouterService } from '@sextant/plugin-api';
import { DEFAULT_MAX_BODY_BYTES, ReceiverRefusal, TOKEN_REQUIRED, createEventReceiver, hasToken, parseJsonBody, receiverConfigShape } from '@sextant/integration-kit';
import { parseChefReport } from './chef-run.js';

/** The port the docs suggest for `listen` when the receiver gets a port of its own. */
export const DEFAULT_CHEF_LISTEN = '127.0.0.1:7081';

export const chefConfigSchema = z
  .object({
    ...receiverConfigShape,
    /** Record successful runs that updated no resource too (they are usually noise). */
    includeUnchanged: z.boolean(),
  })
  .refine(hasToken, TOKEN_REQUIRED);
export type ChefConfig = z.infer<typeof chefConfigSchema>;

/**
 * The factory; `services.http` (the runtime's `coreServices.httpRouter`) lets an instance without
 * `listen` mount at `/ingest/<instance id>/` of the API server.
 */
export function createChefCollectorFactory(services: { readonly http?: HttpRouterService } = {}) {
  return createCollectorFactory<ChefConfig>({
    type: 'events-chef',
    stability: 'alpha',
    description: 'Receives Chef Infra run reports (report/exception handler JSON, data collector) as config.run events.',
    configSchema: chefConfigSchema,
    defaults: { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, includeUnchanged: false },
    create(ctx) {
      return createEventReceiver(ctx, {
        tool: 'Chef',
        tokenHeaders: ['x-data-collector-token'],
        parse(request) {
          if (request.contentType !== '' && request.contentType !== 'application/json') {
            throw new ReceiverRefusal(415, 'media_type', `send Content-Type: application/json (got ${request.contentType})`);
          }
          return parseChefReport(parseJsonBody(request, 'Chef'), ctx.clock.now(), { includeUnchanged: ctx.config.includeUnchanged });
        },
      }, services.http);
    },
  });
}

/** The factory without the runtime's router: instances need `listen` (tests, embedding). */
export const chefCollectorFactory = createChefCollectorFactory();
