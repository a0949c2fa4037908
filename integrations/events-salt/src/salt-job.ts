/**
 * Salt job returns -> `config.run` events. Accepted shapes (JSON):
 *
 * - a job return event as the master's event bus carries it, wrapped: `{ "tag":
 *   "salt/job/<jid>/ret/<minion>", "data": { ... } }` (what a reactor forwards with `data`);
 * - the bare return: `{ "jid", "fun", "id" (minion), "return", "success", "retcode", "fun_args",
 *   "_stamp" }`;
 * - a list of either (up to 1000), e.g. one per minion.
 *
 * Only state runs are changes: `fun` `state.apply`, `state.highstate`, `state.sls`,
 * `state.single`, `state.sls_id`; other functions (test.ping, cmd.run, ...) are answered 202 and
 * ignored. A state return maps `<module>_|-<id>_|-<name>_|-<function>` to `{ result, changes,
 * comment }`; a run failed when `success` is false, `retcode` is not 0, any state has
 * `result: false`, or the return is a list of error strings (rendering failed).
 *
 * Event: resource `host.name` = minion id; attributes `config.tool` = salt, `config.run.status`
 * (success|failure), `salt.jid`, `salt.fun`, `salt.retcode`, `config.resources.total|changed|failed`,
 * `config.run.duration_s` (sum of state durations), `config.error` (first failure); severity
 * `critical` when failed. Successful runs that changed nothing are ignored unless `includeUnchanged`.
 */
import type { Attributes, SextantEvent } from '@sextant/plugin-api';
import { ReceiverRefusal, parseToolTimestamp, type ParsedEvents } from '@sextant/integration-kit';

const STATE_FUNCTIONS = new Set(['state.apply', 'state.highstate', 'state.sls', 'state.single', 'state.sls_id', 'state.top']);
/** Largest list of returns accepted in one request. */
export const MAX_RETURNS_PER_REQUEST = 1000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function clip(text: string, max = 500): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

interface StateSummary {
  total: number;
  changed: number;
  failed: number;
  durationMs: number;
  firstError?: string;
}

function summarise(ret: unknown): StateSummary {
  const summary: StateSummary = { total: 0, changed: 0, failed: 0, durationMs: 0 };
  if (Array.isArray(ret)) {
    // Rendering/compilation errors come back as a list of strings.
    summary.failed = ret.length;
    const first = ret.find((x) => typeof x === 'string');
    if (first) summary.firstError = clip(first as string);
    return summary;
  }
  if (!isObject(ret)) return summary;
  for (const [key, state] of Object.entries(ret)) {
    if (!isObject(state)) continue;
    summary.total++;
    if (isObject(state.changes) && Object.keys(state.changes).length > 0) summary.changed++;
    if (state.result === false) {
      summary.failed++;
      if (!summary.firstError) summary.firstError = clip(`${key.split('_|-')[1] ?? key}: ${str(state.comment) ?? 'failed'}`);
    }
    if (typeof state.duration === 'number' && Number.isFinite(state.duration) && state.duration >= 0) summary.durationMs += state.duration;
  }
  return summary;
}

function parseOne(item: unknown, now: number, includeUnchanged: boolean): SextantEvent | string {
  if (!isObject(item)) throw new ReceiverRefusal(400, 'invalid', 'each job return must be an object');
  const data = isObject(item.data) && item.tag !== undefined ? item.data : item;
  const tag = str(item.tag);
  const tagMatch = tag ? /^salt\/job\/([^/]+)\/ret\/(.+)$/.exec(tag) : null;
  if (tag && !tagMatch) return `event tag ${tag} is not a job return`;
  const fun = str(data.fun);
  if (!fun) throw new ReceiverRefusal(400, 'invalid', 'fun is missing: is this a Salt job return?');
  if (!STATE_FUNCTIONS.has(fun)) return `${fun} is not a state run`;
  const minion = str(data.id) ?? tagMatch?.[2];
  if (!minion) throw new ReceiverRefusal(400, 'invalid', 'id (the minion) is missing');
  const jid = str(data.jid) ?? tagMatch?.[1];
  if (!jid || !/^[0-9A-Za-z_.-]{1,64}$/.test(jid)) throw new ReceiverRefusal(400, 'invalid', `jid is missing or malformed (got ${JSON.stringify(data.jid)})`);
  if (data.retcode !== undefined && (typeof data.retcode !== 'number' || !Number.isInteger(data.retcode) || data.retcode < 0 || data.retcode > 255)) {
    throw new ReceiverRefusal(400, 'invalid', `retcode must be an integer 0..255 (got ${JSON.stringify(data.retcode)})`);
  }
  if (data.success !== undefined && typeof data.success !== 'boolean') throw new ReceiverRefusal(400, 'invalid', `success must be true or false (got ${JSON.stringify(data.success)})`);
  const retcode = typeof data.retcode === 'number' ? data.retcode : 0;
  const summary = summarise(data.return);
  const failed = data.success === false || retcode !== 0 || summary.failed > 0;
  if (!failed && summary.changed === 0 && !includeUnchanged) return `${fun} on ${minion} changed nothing (set includeUnchanged: true to record it)`;

  const attributes: Record<string, string | number> = {
    'config.tool': 'salt',
    'config.run.status': failed ? 'failure' : 'success',
    'salt.jid': jid,
    'salt.fun': fun,
    'salt.retcode': retcode,
    'config.resources.total': summary.total,
    'config.resources.changed': summary.changed,
    'config.resources.failed': summary.failed,
  };
  if (summary.durationMs > 0) attributes['config.run.duration_s'] = Math.round(summary.durationMs) / 1000;
  if (summary.firstError) attributes['config.error'] = summary.firstError;
  const detail = failed
    ? `${summary.failed}${summary.total ? ` of ${summary.total}` : ''} states failed${summary.firstError ? ` (${clip(summary.firstError, 120)})` : ''}`
    : `${summary.changed} of ${summary.total} states changed`;
  return {
    id: `salt-${jid}-${minion}`.slice(0, 200),
    type: 'config.run',
    timestamp: parseToolTimestamp(data._stamp) ?? now,
    title: `salt ${fun} on ${minion} ${failed ? 'failed' : 'succeeded'}: ${detail}`,
    resource: { 'host.name': minion },
    attributes: attributes as Attributes,
    severity: failed ? 'critical' : 'info',
    source: 'salt',
  };
}

/** Parses a decoded Salt payload (one return, a wrapped event, or a list). */
export function parseSaltPayload(body: unknown, now: number, options: { includeUnchanged: boolean }): ParsedEvents {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw new ReceiverRefusal(400, 'invalid', 'the list of job returns is empty');
  if (items.length > MAX_RETURNS_PER_REQUEST) throw new ReceiverRefusal(400, 'invalid', `at most ${MAX_RETURNS_PER_REQUEST} job returns per request (got ${items.length})`);
  // Parse everything first: one bad item refuses the whole request, so nothing is half-stored.
  const results = items.map((item) => parseOne(item, now, options.includeUnchanged));
  const events = results.filter((r): r is SextantEvent => typeof r !== 'string');
  if (events.length === 0) return { ignored: results.join('; ').slice(0, 500) };
  return { events };
}
