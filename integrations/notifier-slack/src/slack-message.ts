/**
 * Slack messages (Block Kit) for incident updates. Every message has a plain `text` (used by
 * notifications and screen readers) and `blocks`:
 *
 *   header   — emoji by change + the title template (plain text, <= 150 characters)
 *   section  — fields Impact, Severity, Status, Affected
 *   section  — *Likely cause* with its score and evidence (when a cause is known)
 *   actions  — an "Open incident" button (when the server knows the incident URL)
 *   context  — incident id, update number, reason, idempotency key
 *
 * Values written into mrkdwn are escaped (`&`, `<`, `>`) as Slack requires, so a title cannot
 * inject links or mentions.
 */
import type { Notification } from '@sextant/plugin-api';

export type SlackBlock = Record<string, unknown>;

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** Slack's limit for header text. */
const HEADER_MAX = 150;
/** Slack's limit for a section's text. */
const SECTION_MAX = 3000;

/** Escapes the three characters Slack's mrkdwn reserves. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const CHANGE_MARK: Readonly<Record<string, string>> = { opened: ':red_circle:', updated: ':large_orange_circle:', resolved: ':white_check_mark: Resolved:' };

/**
 * The message for one notification. `title` and `text` are the rendered templates. For a
 * `resolved` change it is also what the original message becomes (chat.update in bot mode).
 */
export function buildSlackMessage(notification: Notification, title: string, text: string): SlackMessage {
  const { update } = notification;
  const incident = update.incident;
  const mark = CHANGE_MARK[update.change] ?? '';
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${mark} ${title}`.trim(), HEADER_MAX), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Impact*\n${escapeSlackText(incident.impact)}` },
        { type: 'mrkdwn', text: `*Severity*\n${escapeSlackText(incident.severity)}` },
        { type: 'mrkdwn', text: `*Status*\n${update.change === 'resolved' ? `resolved <!date^${Math.floor((incident.resolvedAt ?? incident.updatedAt) / 1000)}^{date_short_pretty} {time}|${new Date(incident.resolvedAt ?? incident.updatedAt).toISOString()}>` : 'open'}` },
        { type: 'mrkdwn', text: `*Affected*\n${escapeSlackText(clip(incident.entities.join(', ') || 'unknown', 1900))}` },
      ],
    },
  ];
  const cause = incident.causes[0];
  if (cause) {
    const evidence = cause.evidence.map((e) => `• ${escapeSlackText(e)}`).join('\n');
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Likely cause* (${Math.round(cause.score * 100)}%): ${escapeSlackText(cause.summary)}${evidence ? `\n${evidence}` : ''}`, SECTION_MAX) },
    });
  }
  if (notification.url) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open incident' }, url: notification.url, action_id: 'sextant-open-incident' }] });
  }
  const context = [`Sextant incident \`${escapeSlackText(incident.id)}\``, `update #${update.sequence}`];
  if (update.reason) context.push(escapeSlackText(update.reason));
  context.push(`key \`${escapeSlackText(notification.idempotencyKey)}\``);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(context.join(' · '), SECTION_MAX) }] });
  return { text, blocks };
}
