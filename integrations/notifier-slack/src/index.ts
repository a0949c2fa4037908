export { default as plugin } from './plugin.js';
export { slackNotifierFactory, slackConfigSchema, SLACK_API_BASE_URL, DEFAULT_SLACK_TITLE, DEFAULT_SLACK_TEXT } from './slack-notifier.js';
export type { SlackConfig } from './slack-notifier.js';
export { buildSlackMessage, escapeSlackText } from './slack-message.js';
export type { SlackMessage, SlackBlock } from './slack-message.js';
