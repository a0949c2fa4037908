/**
 * The e-mail for one incident update: subject, plain-text body, HTML body (every value
 * HTML-escaped) and the threading headers.
 *
 * Threading: every message's Message-ID is `<idempotencyKey@domain>` (characters not allowed in a
 * Message-ID, such as `:`, are percent-encoded: `inc-1:2` -> `<inc-1%3A2@sextant>`), so a duplicate
 * delivery after a crash has the same Message-ID and mail systems can drop it. Updates carry
 * `In-Reply-To` and `References` pointing at the opening message (`<incident id>:1`, the
 * correlator's first sequence), so mail clients show one thread per incident even when the opening
 * message itself was held back by a silence.
 */
import { type Notification } from '@sextant/plugin-api';
import { escapeHtml } from '@sextant/integration-kit';

/** Characters of RFC 5322 dot-atom text; everything else is percent-encoded. */
const MESSAGE_ID_SAFE = /[A-Za-z0-9!#$&'*+\-/=?^_`{|}~.]/;

/** `<key@domain>` with the key made safe for a Message-ID. */
export function incidentMessageId(idempotencyKey: string, domain: string): string {
  let local = '';
  for (const ch of idempotencyKey) local += MESSAGE_ID_SAFE.test(ch) && ch !== '%' ? ch : encodeURIComponent(ch).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `<${local.replace(/\.{2,}/g, (dots) => '%2E'.repeat(dots.length)).replace(/^\.|\.$/g, '%2E')}@${domain}>`;
}

/** Message-ID of the message that opened an incident. */
export function openingMessageId(incidentId: string, domain: string): string {
  return incidentMessageId(`${incidentId}:1`, domain);
}

const CHANGE_WORD: Readonly<Record<string, string>> = { opened: 'Incident opened', updated: 'Incident updated', resolved: 'Incident resolved' };

interface BodyLine {
  readonly label: string;
  readonly value: string;
}

function facts(n: Notification): BodyLine[] {
  const incident = n.update.incident;
  const status =
    incident.status === 'resolved' && incident.resolvedAt !== undefined
      ? `resolved ${new Date(incident.resolvedAt).toISOString()} (opened ${new Date(incident.openedAt).toISOString()})`
      : `open since ${new Date(incident.openedAt).toISOString()}`;
  return [
    { label: 'Impact', value: incident.impact },
    { label: 'Severity', value: incident.severity },
    { label: 'Status', value: status },
    { label: 'Affected', value: incident.entities.join(', ') || 'unknown' },
  ];
}

/** The default plain-text body. */
export function incidentEmailText(n: Notification): string {
  const { update } = n;
  const incident = update.incident;
  const lines = [`${CHANGE_WORD[update.change] ?? 'Incident'}: ${incident.title}`, ''];
  for (const f of facts(n)) lines.push(`${`${f.label}:`.padEnd(10)}${f.value}`);
  const cause = incident.causes[0];
  if (cause) {
    lines.push('', `Likely cause (${Math.round(cause.score * 100)}%): ${cause.summary}`);
    for (const e of cause.evidence) lines.push(`  - ${e}`);
  }
  if (update.reason) lines.push('', `Why this update: ${update.reason}`);
  if (n.url) lines.push('', `Open the incident: ${n.url}`);
  lines.push('', '-- ', `Sextant incident ${incident.id}, update #${update.sequence} (${n.idempotencyKey})`);
  return `${lines.join('\n')}\n`;
}

/** The default HTML body: the same content, every value escaped. */
export function incidentEmailHtml(n: Notification): string {
  const { update } = n;
  const incident = update.incident;
  const e = escapeHtml;
  const rows = facts(n)
    .map((f) => `<tr><th align="left" style="padding:2px 12px 2px 0">${e(f.label)}</th><td>${e(f.value)}</td></tr>`)
    .join('');
  const cause = incident.causes[0];
  const causeHtml = cause
    ? `<p><strong>Likely cause (${Math.round(cause.score * 100)}%):</strong> ${e(cause.summary)}</p>${cause.evidence.length ? `<ul>${cause.evidence.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : ''}`
    : '';
  return [
    '<!DOCTYPE html><html><body style="font-family:sans-serif">',
    `<h2>${e(CHANGE_WORD[update.change] ?? 'Incident')}: ${e(incident.title)}</h2>`,
    `<table>${rows}</table>`,
    causeHtml,
    update.reason ? `<p>Why this update: ${e(update.reason)}</p>` : '',
    n.url ? `<p><a href="${e(n.url)}">Open the incident</a></p>` : '',
    `<p style="color:#666;font-size:smaller">Sextant incident ${e(incident.id)}, update #${update.sequence} (${e(n.idempotencyKey)})</p>`,
    '</body></html>',
  ].join('\n');
}

/** Threading headers for a notification (none for the opening message). */
export function threadingHeaders(n: Notification, domain: string): { inReplyTo?: string; references?: string } {
  const root = openingMessageId(n.update.incident.id, domain);
  if (incidentMessageId(n.idempotencyKey, domain) === root) return {};
  return { inReplyTo: root, references: root };
}
