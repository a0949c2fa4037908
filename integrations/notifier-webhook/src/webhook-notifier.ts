/**
 * The `webhook` notifier: POSTs every incident update as JSON (schema `sextant.incident.v1`,
 * documented field by field in the README) signed after the Standard Webhooks convention.
 */
import { z } from 'zod';
import { createNotifierFactory, formatError, type Notification } from '@sextant/plugin-api';
import { createDeliveryRecorder, createTemplateRenderer, guardOutboundUrlAtStart, outcomeForStatus, postOutbound, resolveSecret } from '@sextant/integration-kit';
import { signWebhook } from './standard-webhooks.js';

/** Name of the payload schema. A breaking change to the payload gets a new name (`sextant.incident.v2`). */
export const INCIDENT_WEBHOOK_SCHEMA = 'sextant.incident.v1';

export const webhookConfigSchema = z
  .object({
    /** Receiver URL (http or https). */
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://hooks.example.com/sextant' }),
    /** Signing secret: `whsec_<base64>` or any string. Use ${env:NAME} / ${file:PATH}. */
    secret: z.string().min(1).optional(),
    /** File holding the signing secret (alternative to `secret`). */
    secretFile: z.string().min(1).optional(),
    /** SSRF allow list: hosts, IPs or CIDRs that may be internal. */
    allow: z.array(z.string().min(1)),
    /** Whole-request timeout in milliseconds. */
    timeoutMs: z.number().int().min(100).max(120_000),
    /** Extra headers sent with every request (not secrets: they may be logged). */
    headers: z.record(z.string(), z.string()),
    template: z.object({
      /** The payload's `text` field: one line a person reads in a chat or log. */
      text: z.string(),
    }),
  })
  .refine((c) => c.secret !== undefined || c.secretFile !== undefined, { message: 'set secret: ${env:NAME} or secretFile: PATH', path: ['secret'] });
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const DEFAULT_WEBHOOK_TEXT = '[{{incident.severity}}] {{change}}: {{incident.title}}';

/** The JSON body of `sextant.incident.v1`. Field order is stable. */
export function webhookPayload(notification: Notification, text: string): Record<string, unknown> {
  const { update } = notification;
  return {
    schema: INCIDENT_WEBHOOK_SCHEMA,
    idempotencyKey: notification.idempotencyKey,
    change: update.change,
    sequence: update.sequence,
    ...(update.reason !== undefined ? { reason: update.reason } : {}),
    text,
    incident: update.incident,
    ...(notification.url !== undefined ? { url: notification.url } : {}),
  };
}

export const webhookNotifierFactory = createNotifierFactory<WebhookConfig>({
  type: 'webhook',
  stability: 'alpha',
  description: 'POSTs incident updates as signed JSON (schema sextant.incident.v1, Standard Webhooks headers).',
  configSchema: webhookConfigSchema,
  defaults: { allow: [], timeoutMs: 10_000, headers: {}, template: { text: DEFAULT_WEBHOOK_TEXT } },
  create(ctx) {
    const config = ctx.config;
    const secret = resolveSecret('secret', config.secret, config.secretFile);
    const record = createDeliveryRecorder(ctx);
    const render = createTemplateRenderer(ctx);

    return {
      async start() {
        await guardOutboundUrlAtStart(ctx, config.url, config.allow);
      },
      async deliver(notification) {
        try {
          const body = JSON.stringify(webhookPayload(notification, render(config.template.text, 'text', notification)));
          const timestamp = Math.floor(ctx.clock.now() / 1000);
          const result = await postOutbound(
            {
              url: config.url,
              body,
              headers: {
                ...config.headers,
                'content-type': 'application/json',
                'user-agent': 'Sextant-Webhook/1',
                'webhook-id': notification.idempotencyKey,
                'webhook-timestamp': String(timestamp),
                'webhook-signature': signWebhook(secret, notification.idempotencyKey, timestamp, body),
              },
              timeoutMs: config.timeoutMs,
              allow: config.allow,
              secrets: [secret],
              signal: ctx.signal,
            },
            'webhook receiver',
          );
          if (result.kind === 'failed') return record(result.outcome);
          return record(outcomeForStatus(result.status, result.text, result.headers, 'webhook receiver', [secret], ctx.clock.now()));
        } catch (e) {
          return record({ ok: false, retryable: true, error: `unexpected: ${formatError(e).split(secret).join('[redacted]')}` });
        }
      },
      shutdown() {},
    };
  },
});
