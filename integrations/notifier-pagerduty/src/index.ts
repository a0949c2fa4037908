export { default as plugin } from './plugin.js';
export {
  pagerdutyNotifierFactory,
  pagerdutyConfigSchema,
  pagerdutyEvent,
  pagerdutyAction,
  pagerdutyDedupKey,
  PAGERDUTY_EVENTS_ENDPOINT,
  DEFAULT_PAGERDUTY_SUMMARY,
  MAX_SUMMARY_LENGTH,
} from './pagerduty-notifier.js';
export type { PagerDutyConfig, PagerDutyAction } from './pagerduty-notifier.js';
