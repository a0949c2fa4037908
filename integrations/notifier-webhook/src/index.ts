export { default as plugin } from './plugin.js';
export { webhookNotifierFactory, webhookConfigSchema, webhookPayload, INCIDENT_WEBHOOK_SCHEMA, DEFAULT_WEBHOOK_TEXT } from './webhook-notifier.js';
export type { WebhookConfig } from './webhook-notifier.js';
export { signWebhook, verifyWebhookSignature, webhookSigningKey } from './standard-webhooks.js';
export type { VerifyWebhookOptions, WebhookVerification, WebhookHeaders } from './standard-webhooks.js';
