export { default as plugin } from './plugin.js';
export { emailNotifierFactory, emailConfigSchema, smtpFailure, DEFAULT_EMAIL_SUBJECT } from './email-notifier.js';
export type { EmailConfig } from './email-notifier.js';
export { incidentEmailText, incidentEmailHtml, incidentMessageId, openingMessageId, threadingHeaders } from './incident-email.js';
