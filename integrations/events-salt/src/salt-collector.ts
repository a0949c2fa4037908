/** The `events-salt` collector factory: receives Salt job returns from a reactor or returner. */
import { z } from 'zod';
import { createCollectorFactory, type HttpRouterService } from '@sextant/plugin-api';
import { DEFAULT_MAX_BODY_BYTES, ReceiverRefusal, TOKEN_REQUIRED, createEventReceiver, hasToken, parseJsonBody, receiverConfigShape } from '@sextant/integration-kit';
import { parseSaltPayload } from './salt-job.js';

/** The port the docs suggest for `listen` when the receiver gets a port of its own. */
export const DEFAULT_SALT_LISTEN = '127.0.0.1:7083';

export const saltConfigSchema = z
  .object({
    ...receiverConfigShape,
    /** Record successful state runs that changed nothing too (scheduled highstates: usually noise). */
    includeUnchanged: z.boolean(),
  })
  .refine(hasToken, TOKEN_REQUIRED);
export type SaltConfig = z.infer<typeof saltConfigSchema>;

/**
 * The factory; `services.http` (the runtime's `coreServices.httpRouter`) lets an instance without
 * `listen` mount at `/ingest/<instance id>/` of the API server.
 */
export function createSaltCollectorFactory(services: { readonly http?: HttpRouterService } = {}) {
  return createCollectorFactory<SaltConfig>({
    type: 'events-salt',
    stability: 'alpha',
    description: 'Receives Salt job returns (state.apply, highstate) from a reactor or returner as config.run events.',
    configSchema: saltConfigSchema,
    defaults: { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, includeUnchanged: false },
    create(ctx) {
      return createEventReceiver(ctx, {
        tool: 'Salt',
        parse(request) {
          if (request.contentType !== '' && request.contentType !== 'application/json') {
            throw new ReceiverRefusal(415, 'media_type', `send Content-Type: application/json (got ${request.contentType})`);
          }
          return parseSaltPayload(parseJsonBody(request, 'Salt'), ctx.clock.now(), { includeUnchanged: ctx.config.includeUnchanged });
        },
      }, services.http);
    },
  });
}

/** The factory without the runtime's router: instances need `listen` (tests, embedding). */
export const saltCollectorFactory = createSaltCollectorFactory();
