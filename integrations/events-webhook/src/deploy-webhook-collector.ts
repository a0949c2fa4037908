/** The `events-webhook` collector factory: a deploy-event receiver for CI/CD systems. */
import { z } from 'zod';
import { createCollectorFactory } from '@sextant/plugin-api';
import { DEFAULT_MAX_BODY_BYTES, createEventReceiver, receiverConfigShape, hasToken, TOKEN_REQUIRED } from '@sextant/integration-kit';
import { parseDeployRequest, verifyGitHubSignature } from './deploy-payloads.js';

export const DEFAULT_DEPLOY_LISTEN = '127.0.0.1:7084';

export const deployWebhookConfigSchema = z.object(receiverConfigShape).refine(hasToken, TOKEN_REQUIRED);
export type DeployWebhookConfig = z.infer<typeof deployWebhookConfigSchema>;

export const deployWebhookCollectorFactory = createCollectorFactory<DeployWebhookConfig>({
  type: 'events-webhook',
  stability: 'alpha',
  description: 'Receives deploy notifications (Sextant deploy JSON, GitHub deployment_status, GitLab Deployment Hook) as deploy events.',
  configSchema: deployWebhookConfigSchema,
  defaults: { listen: DEFAULT_DEPLOY_LISTEN, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
  create(ctx) {
    return createEventReceiver(ctx, {
      tool: 'deploy webhook',
      tokenHeaders: ['x-gitlab-token'],
      authenticateBody: verifyGitHubSignature,
      parse: (request) => parseDeployRequest(request, ctx.clock.now()),
    });
  },
});
