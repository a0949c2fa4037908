/**
 * The `email` notifier: one SMTP message per incident update, plain text + HTML, threaded per
 * incident (see incident-email.ts), sent with nodemailer.
 *
 * Outcomes: accepted by the server -> ok. Connection problems, timeouts and 4xx SMTP replies
 * (temporary) -> retryable. Authentication failures, 5xx replies (permanent: unknown mailbox,
 * relay denied) and a missing STARTTLS when it is required -> not retryable, with a hint.
 * The SMTP host passes the same SSRF guard as HTTP notifiers (a relay on 127.0.0.1 must be
 * allow-listed), before each message and again at connect time on the address the socket uses
 * (smtp-socket.ts): a refusal there is final, like one before.
 */
import { createTransport } from 'nodemailer';
import { z } from 'zod';
import { ErrorCode, createNotifierFactory, formatError, type DeliveryOutcome } from '@sextant/plugin-api';
import { checkOutboundUrl } from '@sextant/integration-kit';
import { incidentEmailHtml, incidentEmailText, incidentMessageId, threadingHeaders } from './incident-email.js';
import { connectSmtpSocket } from './smtp-socket.js';
import { createDeliveryRecorder, createTemplateRenderer, guardOutboundUrlAtStart, resolveSecret } from '@sextant/integration-kit';

export const emailConfigSchema = z
  .object({
    /** SMTP server host name or IP. */
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    /** Implicit TLS from the first byte (port 465). */
    secure: z.boolean(),
    /** Without `secure`: `required` refuses to send unencrypted, `opportunistic` upgrades when offered, `never` stays plain. */
    starttls: z.enum(['required', 'opportunistic', 'never']),
    /** Verify the server certificate (turn off only for a test relay with a self-signed certificate). */
    tlsRejectUnauthorized: z.boolean(),
    /** SMTP AUTH user; omit for an unauthenticated relay. */
    user: z.string().min(1).optional(),
    /** SMTP AUTH password. Use ${env:NAME} / ${file:PATH}. */
    password: z.string().min(1).optional(),
    /** File holding the password (alternative to `password`). */
    passwordFile: z.string().min(1).optional(),
    /** Sender, `alerts@example.com` or `"Sextant <alerts@example.com>"`. */
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
    /** Right-hand side of Message-IDs: `<key@messageIdDomain>`. */
    messageIdDomain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain such as sextant.example.com'),
    allow: z.array(z.string().min(1)),
    timeoutMs: z.number().int().min(100).max(120_000),
    template: z.object({
      subject: z.string(),
      /** Replaces the default plain-text body when set. */
      text: z.string().optional(),
      /** Replaces the default HTML body when set; values are HTML-escaped. */
      html: z.string().optional(),
    }),
  })
  .superRefine((c, issues) => {
    if (c.user !== undefined && c.password === undefined && c.passwordFile === undefined) {
      issues.addIssue({ code: 'custom', path: ['password'], message: 'user is set: set password: ${env:SMTP_PASSWORD} or passwordFile: PATH' });
    }
  });
export type EmailConfig = z.infer<typeof emailConfigSchema>;

export const DEFAULT_EMAIL_SUBJECT = '[Sextant {{incident.severity}}] {{incident.title}}';

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

/** Classifies a nodemailer error. `secrets` are redacted from the message. */
export function smtpFailure(error: unknown, secrets: readonly string[]): Extract<DeliveryOutcome, { ok: false }> {
  const err = error as SmtpError;
  if (err.code === ErrorCode.URL_REFUSED) return { ok: false, retryable: false, error: formatError(err) };
  let text = (err.response ?? err.message ?? String(error)).replace(/\s+/g, ' ').trim();
  for (const s of secrets) if (s.length >= 4) text = text.split(s).join('[redacted]');
  if (text.length > 500) text = `${text.slice(0, 500)}...`;
  if (err.code === 'EAUTH') return { ok: false, retryable: false, error: `SMTP authentication failed: ${text}; check user and password` };
  if (err.code === 'ETLS' || /STARTTLS/i.test(text)) return { ok: false, retryable: false, error: `SMTP TLS failed: ${text}; check starttls/secure and the certificate` };
  const code = err.responseCode;
  if (code !== undefined && code >= 500) return { ok: false, retryable: false, error: `SMTP server refused the message (${code}): ${text}` };
  if (code !== undefined && code >= 400) return { ok: false, retryable: true, error: `SMTP server deferred the message (${code}): ${text}` };
  return { ok: false, retryable: true, error: `SMTP delivery failed${err.code ? ` (${err.code})` : ''}: ${text}` };
}

export const emailNotifierFactory = createNotifierFactory<EmailConfig>({
  type: 'email',
  stability: 'alpha',
  description: 'Sends incident updates by SMTP e-mail (plain text and HTML), threaded per incident.',
  configSchema: emailConfigSchema,
  defaults: {
    port: 587,
    secure: false,
    starttls: 'required',
    tlsRejectUnauthorized: true,
    messageIdDomain: 'sextant',
    allow: [],
    timeoutMs: 10_000,
    template: { subject: DEFAULT_EMAIL_SUBJECT },
  },
  create(ctx) {
    const config = ctx.config;
    const password = config.user !== undefined ? resolveSecret('password', config.password, config.passwordFile) : undefined;
    const secrets = password ? [password] : [];
    const transport = createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: !config.secure && config.starttls === 'required',
      ignoreTLS: !config.secure && config.starttls === 'never',
      tls: { rejectUnauthorized: config.tlsRejectUnauthorized },
      ...(config.user !== undefined ? { auth: { user: config.user, pass: password! } } : {}),
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
      // Our socket, through the connect-time SSRF guard, instead of nodemailer's own DNS lookup.
      getSocket: (_options, callback) => {
        connectSmtpSocket({ host: config.host, port: config.port, allow: config.allow, timeoutMs: config.timeoutMs }).then(
          (connection) => callback(null, { connection }),
          (error: Error) => callback(error, undefined),
        );
      },
    });
    const guardUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}/`;
    const record = createDeliveryRecorder(ctx);
    const render = createTemplateRenderer(ctx);

    async function guard(): Promise<void> {
      await checkOutboundUrl(guardUrl, { allow: config.allow });
    }

    return {
      async start() {
        await guardOutboundUrlAtStart(ctx, guardUrl, config.allow);
      },
      async deliver(notification) {
        try {
          await guard();
        } catch (e) {
          return record({ ok: false, retryable: false, error: formatError(e) });
        }
        try {
          const subject = render(config.template.subject, 'subject', notification).replace(/[\r\n]+/g, ' ');
          const text = config.template.text !== undefined ? render(config.template.text, 'text', notification) : incidentEmailText(notification);
          const html = config.template.html !== undefined ? render(config.template.html, 'html', notification, { escape: 'html' }) : incidentEmailHtml(notification);
          const thread = threadingHeaders(notification, config.messageIdDomain);
          const info = await transport.sendMail({
            from: config.from,
            to: config.to,
            subject,
            text,
            html,
            messageId: incidentMessageId(notification.idempotencyKey, config.messageIdDomain),
            ...(thread.inReplyTo ? { inReplyTo: thread.inReplyTo, references: thread.references } : {}),
            headers: { 'X-Sextant-Incident': notification.update.incident.id, 'X-Sextant-Change': notification.update.change },
          });
          const rejected = (info.rejected ?? []).map(String);
          if (rejected.length > 0) ctx.logger.warn('some recipients were refused', { rejected });
          return record({ ok: true, detail: `accepted by ${config.host}: ${String(info.response ?? '').slice(0, 200)}` });
        } catch (e) {
          return record(smtpFailure(e, secrets));
        }
      },
      shutdown() {
        transport.close();
      },
    };
  },
});
