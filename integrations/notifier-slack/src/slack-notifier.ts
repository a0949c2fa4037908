/**
 * The `slack` notifier, in one of two modes:
 *
 * - **incoming webhook** (`webhookUrl`): POST `{ text, blocks }`. Incoming webhooks cannot edit or
 *   thread, so every update, including the resolution, is a new message.
 * - **bot token** (`token` + `channel`): `chat.postMessage` opens the incident; updates are thread
 *   replies (`thread_ts`); on resolve the original message is rewritten with `chat.update` and a
 *   "Resolved" reply is added to the thread. The opening message's `ts` is kept per incident in
 *   the data directory, so this survives restarts; an update whose sequence was already delivered
 *   is acknowledged without posting again (duplicate after a crash). Each message carries Slack
 *   message `metadata` (`sextant_incident`, with the idempotency key).
 *
 * Slack's Web API answers errors with HTTP 200 and `{ "ok": false, "error": "..." }`: `ratelimited`
 * and Slack-side failures are retryable; auth and channel errors are not, with a hint.
 */
import { z } from 'zod';
import { createNotifierFactory, formatError, type DeliveryOutcome, type Notification } from '@sextant/plugin-api';
import { createDeliveryRecorder, createTemplateRenderer, guardOutboundUrlAtStart, outcomeForStatus, parseRetryAfter, postOutbound, redactSecrets, resolveSecret } from '@sextant/integration-kit';
import { buildSlackMessage, type SlackMessage } from './slack-message.js';
import { SlackThreadStore } from './slack-thread-store.js';

export const SLACK_API_BASE_URL = 'https://slack.com/api';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const slackConfigSchema = z
  .object({
    /** Incoming-webhook URL (it is a secret: use ${env:SLACK_WEBHOOK_URL}). */
    webhookUrl: httpUrl.optional(),
    /** Bot token (`xoxb-...`) for bot mode. Use ${env:NAME} / ${file:PATH}. */
    token: z.string().min(1).optional(),
    /** File holding the bot token (alternative to `token`). */
    tokenFile: z.string().min(1).optional(),
    /** Channel id (`C0123ABCD`) or name for bot mode; the bot must be a member. */
    channel: z.string().min(1).optional(),
    /** Web API base URL (bot mode). */
    apiBaseUrl: httpUrl,
    allow: z.array(z.string().min(1)),
    timeoutMs: z.number().int().min(100).max(120_000),
    template: z.object({
      /** Header line (after the status emoji). */
      title: z.string(),
      /** Plain-text fallback shown in notifications. */
      text: z.string(),
    }),
  })
  .superRefine((c, issues) => {
    const bot = c.token !== undefined || c.tokenFile !== undefined;
    if (c.webhookUrl !== undefined && bot) issues.addIssue({ code: 'custom', path: ['webhookUrl'], message: 'set either webhookUrl (incoming webhook) or token + channel (bot), not both' });
    else if (c.webhookUrl === undefined && !bot) issues.addIssue({ code: 'custom', path: ['webhookUrl'], message: 'set webhookUrl: ${env:SLACK_WEBHOOK_URL}, or token: ${env:SLACK_BOT_TOKEN} with channel' });
    else if (bot && c.channel === undefined) issues.addIssue({ code: 'custom', path: ['channel'], message: 'bot mode needs the channel to post in (e.g. C0123ABCD)' });
  });
export type SlackConfig = z.infer<typeof slackConfigSchema>;

export const DEFAULT_SLACK_TITLE = '{{incident.title}}';
export const DEFAULT_SLACK_TEXT = '[{{incident.severity}}] {{change}}: {{incident.title}}';

/** Slack `error` codes that a retry can fix. */
const RETRYABLE_SLACK_ERRORS = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
/** Hints for Slack `error` codes a person must fix. */
const SLACK_ERROR_HINTS: Readonly<Record<string, string>> = {
  invalid_auth: 'the bot token is wrong; check token / tokenFile',
  not_authed: 'no bot token was sent; check token / tokenFile',
  token_revoked: 'the bot token was revoked; install the app again and update the token',
  account_inactive: 'the bot user or workspace is inactive',
  missing_scope: 'the app lacks the chat:write scope; add it and reinstall the app',
  channel_not_found: 'the channel does not exist or the bot cannot see it; use the channel id (C0123ABCD)',
  not_in_channel: 'invite the bot to the channel (/invite @your-bot)',
  is_archived: 'the channel is archived; pick another channel',
  invalid_blocks: 'a template produced blocks Slack refuses; check template.title',
};

interface SlackApiAnswer {
  readonly ok?: boolean;
  readonly error?: string;
  readonly ts?: string;
  readonly channel?: string;
}

export const slackNotifierFactory = createNotifierFactory<SlackConfig>({
  type: 'slack',
  stability: 'alpha',
  description: 'Posts incident updates to Slack (incoming webhook, or bot token with threads and chat.update on resolve).',
  configSchema: slackConfigSchema,
  defaults: { apiBaseUrl: SLACK_API_BASE_URL, allow: [], timeoutMs: 10_000, template: { title: DEFAULT_SLACK_TITLE, text: DEFAULT_SLACK_TEXT } },
  create(ctx) {
    const config = ctx.config;
    const botMode = config.webhookUrl === undefined;
    const token = botMode ? resolveSecret('token', config.token, config.tokenFile) : undefined;
    // An incoming-webhook URL embeds its own secret: treat it like a token.
    const secrets = [token, config.webhookUrl, config.webhookUrl ? new URL(config.webhookUrl).pathname : undefined].filter((s): s is string => s !== undefined && s.length > 8);
    const threads = new SlackThreadStore(ctx.dataDir);
    const record = createDeliveryRecorder(ctx);
    const render = createTemplateRenderer(ctx);

    function messageFor(n: Notification): SlackMessage {
      return buildSlackMessage(n, render(config.template.title, 'title', n), render(config.template.text, 'text', n));
    }

    /** Calls a Web API method; ok carries the answer, failures are classified outcomes. */
    async function callApi(method: string, body: Record<string, unknown>): Promise<{ ok: true; answer: SlackApiAnswer } | { ok: false; outcome: DeliveryOutcome }> {
      const result = await postOutbound(
        {
          url: `${config.apiBaseUrl.replace(/\/$/, '')}/${method}`,
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}`, 'user-agent': 'Sextant-Slack/1' },
          timeoutMs: config.timeoutMs,
          allow: config.allow,
          secrets,
          signal: ctx.signal,
        },
        `Slack ${method}`,
      );
      if (result.kind === 'failed') return { ok: false, outcome: result.outcome };
      if (result.status < 200 || result.status >= 300) return { ok: false, outcome: outcomeForStatus(result.status, result.text, result.headers, `Slack ${method}`, secrets, ctx.clock.now()) };
      let answer: SlackApiAnswer;
      try {
        answer = JSON.parse(result.text) as SlackApiAnswer;
      } catch {
        return { ok: false, outcome: { ok: false, retryable: true, error: `Slack ${method} answered ${result.status} with non-JSON: ${redactSecrets(result.text, secrets)}` } };
      }
      if (answer.ok === true) return { ok: true, answer };
      const code = typeof answer.error === 'string' ? answer.error : 'unknown_error';
      const hint = SLACK_ERROR_HINTS[code];
      const error = `Slack ${method} failed: ${code}${hint ? ` (${hint})` : ''}`;
      if (RETRYABLE_SLACK_ERRORS.has(code)) {
        const retryAfterMs = parseRetryAfter(result.headers.get('retry-after'), ctx.clock.now());
        return { ok: false, outcome: { ok: false, retryable: true, error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } };
      }
      return { ok: false, outcome: { ok: false, retryable: false, error } };
    }

    async function deliverWebhook(n: Notification): Promise<DeliveryOutcome> {
      const message = messageFor(n);
      const result = await postOutbound(
        {
          url: config.webhookUrl!,
          body: JSON.stringify({ text: message.text, blocks: message.blocks }),
          headers: { 'content-type': 'application/json', 'user-agent': 'Sextant-Slack/1' },
          timeoutMs: config.timeoutMs,
          allow: config.allow,
          secrets,
          signal: ctx.signal,
        },
        'Slack webhook',
      );
      if (result.kind === 'failed') return result.outcome;
      return outcomeForStatus(result.status, result.text, result.headers, 'Slack webhook', secrets, ctx.clock.now());
    }

    function metadata(n: Notification): Record<string, unknown> {
      return {
        event_type: 'sextant_incident',
        event_payload: { incident_id: n.update.incident.id, change: n.update.change, sequence: n.update.sequence, idempotency_key: n.idempotencyKey },
      };
    }

    async function deliverBot(n: Notification): Promise<DeliveryOutcome> {
      const incidentId = n.update.incident.id;
      const known = threads.get(incidentId);
      if (known && known.sequence >= n.update.sequence) return { ok: true, detail: `update #${n.update.sequence} was already posted` };
      const message = messageFor(n);
      const base = { text: message.text, blocks: message.blocks, metadata: metadata(n), unfurl_links: false };
      const remember = (channel: string, ts: string) => threads.set(incidentId, { channel, ts, sequence: n.update.sequence, touchedAt: ctx.clock.now() });

      if (!known) {
        // First message we post for this incident (opened, or the first update we ever saw).
        const posted = await callApi('chat.postMessage', { channel: config.channel, ...base });
        if (!posted.ok) return posted.outcome;
        remember(posted.answer.channel ?? config.channel!, posted.answer.ts ?? '');
        return { ok: true, detail: 'posted a new message' };
      }
      if (n.update.change !== 'resolved') {
        const reply = await callApi('chat.postMessage', { channel: known.channel, thread_ts: known.ts, ...base });
        if (!reply.ok) return reply.outcome;
        remember(known.channel, known.ts);
        return { ok: true, detail: 'replied in the incident thread' };
      }
      const updated = await callApi('chat.update', { channel: known.channel, ts: known.ts, text: message.text, blocks: message.blocks, metadata: metadata(n) });
      if (!updated.ok) {
        if (!updated.outcome.ok && updated.outcome.error.includes('message_not_found')) {
          const posted = await callApi('chat.postMessage', { channel: config.channel, ...base });
          if (!posted.ok) return posted.outcome;
          remember(posted.answer.channel ?? config.channel!, posted.answer.ts ?? '');
          return { ok: true, detail: 'original message was gone; posted the resolution as a new message' };
        }
        return updated.outcome;
      }
      const reply = await callApi('chat.postMessage', { channel: known.channel, thread_ts: known.ts, ...base });
      if (!reply.ok) return reply.outcome;
      remember(known.channel, known.ts);
      return { ok: true, detail: 'updated the original message and replied in its thread' };
    }

    return {
      async start() {
        const url = botMode ? config.apiBaseUrl : config.webhookUrl!;
        await guardOutboundUrlAtStart(ctx, url, config.allow, secrets);
        if (botMode) {
          const loaded = threads.load();
          if (loaded.problem) ctx.logger.warn(loaded.problem);
          if (!ctx.dataDir) ctx.logger.warn('no data directory: Slack threads are kept in memory and lost on restart');
        }
      },
      async deliver(notification) {
        try {
          return record(botMode ? await deliverBot(notification) : await deliverWebhook(notification));
        } catch (e) {
          return record({ ok: false, retryable: true, error: `unexpected: ${redactSecrets(formatError(e), secrets)}` });
        }
      },
      shutdown() {},
    };
  },
});
