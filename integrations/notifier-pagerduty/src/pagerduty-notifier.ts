/**
 * The `pagerduty` notifier: PagerDuty Events API v2
 * (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).
 *
 * Mapping: `opened` and `updated` -> `trigger` (PagerDuty folds triggers with the same dedup key
 * into one alert and updates it), or `acknowledge` for updates when `updates: acknowledge`;
 * `resolved` -> `resolve`. The dedup key is `sextant-<incident id>`: stable per incident, so a
 * duplicate delivery after a crash changes nothing.
 *
 * Answers: 202 -> ok; 400 -> not retryable (PagerDuty's `errors` are shown); 429 and 5xx -> retryable.
 */
import { z } from 'zod';
import { createNotifierFactory, formatError, type Notification, type Severity } from '@sextant/plugin-api';
import { createDeliveryRecorder, createTemplateRenderer, guardOutboundUrlAtStart, outcomeForStatus, postOutbound, redactSecrets, resolveSecret } from '@sextant/integration-kit';

export const PAGERDUTY_EVENTS_ENDPOINT = 'https://events.pagerduty.com/v2/enqueue';
/** PagerDuty refuses a longer summary. */
export const MAX_SUMMARY_LENGTH = 1024;

export const pagerdutyConfigSchema = z
  .object({
    /** The integration's routing key (32 characters). Use ${env:NAME} / ${file:PATH}. */
    routingKey: z.string().min(1).optional(),
    /** File holding the routing key (alternative to `routingKey`). */
    routingKeyFile: z.string().min(1).optional(),
    /** Events API endpoint; change only for EU accounts (https://events.eu.pagerduty.com/v2/enqueue) or tests. */
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://events.pagerduty.com/v2/enqueue' }),
    /** `payload.source`: the system the alert is about. */
    source: z.string().min(1).max(255),
    /** What an `updated` change sends: another `trigger` (updates the alert) or `acknowledge`. */
    updates: z.enum(['trigger', 'acknowledge']),
    /** `client_url` when the notification has no incident link (e.g. your Sextant UI). */
    clientUrl: z.url().optional(),
    allow: z.array(z.string().min(1)),
    timeoutMs: z.number().int().min(100).max(120_000),
    template: z.object({ summary: z.string() }),
  })
  .refine((c) => c.routingKey !== undefined || c.routingKeyFile !== undefined, { message: 'set routingKey: ${env:NAME} or routingKeyFile: PATH', path: ['routingKey'] });
export type PagerDutyConfig = z.infer<typeof pagerdutyConfigSchema>;

export const DEFAULT_PAGERDUTY_SUMMARY = '[{{incident.impact}}] {{incident.title}}';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

const SEVERITY: Readonly<Record<Severity, 'critical' | 'warning' | 'info'>> = { critical: 'critical', warning: 'warning', info: 'info' };

/** `sextant-<incident id>`; PagerDuty allows 255 characters. */
export function pagerdutyDedupKey(incidentId: string): string {
  return `sextant-${incidentId}`.slice(0, 255);
}

export function pagerdutyAction(notification: Notification, updates: PagerDutyConfig['updates']): PagerDutyAction {
  const change = notification.update.change;
  if (change === 'resolved') return 'resolve';
  return change === 'updated' ? updates : 'trigger';
}

/** The Events API v2 body for one notification (without `routing_key` when `routingKey` is empty). */
export function pagerdutyEvent(
  notification: Notification,
  options: { routingKey: string; source: string; updates: PagerDutyConfig['updates']; summary: string; clientUrl?: string },
): Record<string, unknown> {
  const { incident } = notification.update;
  const action = pagerdutyAction(notification, options.updates);
  const link = notification.url ?? options.clientUrl;
  const event: Record<string, unknown> = {
    routing_key: options.routingKey,
    event_action: action,
    dedup_key: pagerdutyDedupKey(incident.id),
  };
  if (action === 'trigger') {
    const cause = incident.causes[0];
    event.payload = {
      summary: options.summary.length > MAX_SUMMARY_LENGTH ? `${options.summary.slice(0, MAX_SUMMARY_LENGTH - 3)}...` : options.summary,
      source: options.source,
      severity: SEVERITY[incident.severity] ?? 'error',
      timestamp: new Date(incident.updatedAt).toISOString(),
      component: incident.entities[0] ?? 'unknown',
      group: cause?.entity ?? incident.entities[0] ?? 'unknown',
      class: `${incident.impact} impact`,
      custom_details: {
        incident_id: incident.id,
        change: notification.update.change,
        sequence: notification.update.sequence,
        ...(notification.update.reason !== undefined ? { reason: notification.update.reason } : {}),
        impact: incident.impact,
        entities: incident.entities,
        likely_causes: incident.causes.map((c) => ({ entity: c.entity, score: c.score, summary: c.summary, evidence: c.evidence })),
        idempotency_key: notification.idempotencyKey,
      },
    };
  }
  if (notification.url) event.links = [{ href: notification.url, text: 'Open the incident in Sextant' }];
  event.client = 'Sextant';
  if (link) event.client_url = link;
  return event;
}

/** PagerDuty's 400 answer: `{ status, message, errors: [...] }` -> one line. */
function pagerdutyError(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(body.errors) ? body.errors.map(String).join('; ') : '';
    const message = typeof body.message === 'string' ? body.message : '';
    return [message, errors].filter(Boolean).join(': ') || undefined;
  } catch {
    return undefined;
  }
}

export const pagerdutyNotifierFactory = createNotifierFactory<PagerDutyConfig>({
  type: 'pagerduty',
  stability: 'alpha',
  description: 'Sends incident updates to PagerDuty (Events API v2: trigger, acknowledge, resolve) with a dedup key per incident.',
  configSchema: pagerdutyConfigSchema,
  defaults: { endpoint: PAGERDUTY_EVENTS_ENDPOINT, source: 'sextant', updates: 'trigger', allow: [], timeoutMs: 10_000, template: { summary: DEFAULT_PAGERDUTY_SUMMARY } },
  create(ctx) {
    const config = ctx.config;
    const routingKey = resolveSecret('routingKey', config.routingKey, config.routingKeyFile);
    const secrets = [routingKey];
    const record = createDeliveryRecorder(ctx);
    const render = createTemplateRenderer(ctx);

    return {
      async start() {
        await guardOutboundUrlAtStart(ctx, config.endpoint, config.allow);
      },
      async deliver(notification) {
        try {
          const summary = render(config.template.summary, 'summary', notification);
          const event = pagerdutyEvent(notification, {
            routingKey,
            source: config.source,
            updates: config.updates,
            summary,
            ...(config.clientUrl ? { clientUrl: config.clientUrl } : {}),
          });
          const result = await postOutbound(
            {
              url: config.endpoint,
              body: JSON.stringify(event),
              headers: { 'content-type': 'application/json', 'user-agent': 'Sextant-PagerDuty/1' },
              timeoutMs: config.timeoutMs,
              allow: config.allow,
              secrets,
              signal: ctx.signal,
            },
            'PagerDuty',
          );
          if (result.kind === 'failed') return record(result.outcome);
          if (result.status === 400) {
            const why = pagerdutyError(result.text) ?? result.text;
            return record({ ok: false, retryable: false, error: `PagerDuty refused the event (400): ${redactSecrets(why, secrets)}; check the routing key and the template` });
          }
          return record(outcomeForStatus(result.status, result.text, result.headers, 'PagerDuty', secrets, ctx.clock.now()));
        } catch (e) {
          return record({ ok: false, retryable: true, error: `unexpected: ${redactSecrets(formatError(e), secrets)}` });
        }
      },
      shutdown() {},
    };
  },
});
