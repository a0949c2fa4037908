export { default as plugin } from './plugin.js';
export { deployWebhookCollectorFactory, createDeployWebhookCollectorFactory, deployWebhookConfigSchema, DEFAULT_DEPLOY_LISTEN } from './deploy-webhook-collector.js';
export type { DeployWebhookConfig } from './deploy-webhook-collector.js';
export { parseDeployRequest, parseGenericDeploy, parseGitHubDeploymentStatus, parseGitLabDeployment, deployEvent, verifyGitHubSignature, GENERIC_DEPLOY_FIELDS } from './deploy-payloads.js';
export type { DeployStatus } from './deploy-payloads.js';
export type { EventReceiver } from '@sextant/integration-kit';
