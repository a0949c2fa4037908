/** The `events-webhook` collector factory: a deploy-event receiver for CI/CD systems. */
import { z } from 'zod';
import { createCollectorFactory, type HttpRouterService } from '@sextant/plugin-api';
import { DEFAULT_MAX_BODY_BYTES, createEventReceiver, receiverConfigShape, hasToken, TOKEN_REQUIRED } from '@sextant/integration-kit';
import { parseDeployRequest, verifyGitHubSignature } from './deploy-payloads.js';

/** The port the docs suggest for `listen` when the receiver gets a port of its own. */
export const DEFAULT_DEPLOY_LISTEN = '127.0.0.1:7084';

export const deployWebhookConfigSchema = z.object(receiverConfigShape).refine(hasToken, TOKEN_REQUIRED);
export type DeployWebhookConfig = z.infer<typeof deployWebhookConfigSchema>;

/**
 * The factory; `services.http` (the runtime's `coreServices.httpRouter`) lets an instance without
 * `listen` mount at `/ingest/<instance id>/` of the API server.
 */
export function createDeployWebhookCollectorFactory(services: { readonly http?: HttpRouterService } = {}) {
  return createCollectorFactory<DeployWebhookConfig>({
    type: 'events-webhook',
    stability: 'alpha',
    description: 'Receives deploy notifications (Sextant deploy JSON, GitHub deployment_status, GitLab Deployment Hook) as deploy events.',
    configSchema: deployWebhookConfigSchema,
    defaults: { maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
    create(ctx) {
      return createEventReceiver(ctx, {
        tool: 'deploy webhook',
        tokenHeaders: ['x-gitlab-token'],
        authenticateBody: verifyGitHubSignature,
        parse: (request) => parseDeployRequest(request, ctx.clock.now()),
      }, services.http);
    },
  });
}

/** The factory without the runtime's router: instances need `listen` (tests, embedding). */
export const deployWebhookCollectorFactory = createDeployWebhookCollectorFactory();
