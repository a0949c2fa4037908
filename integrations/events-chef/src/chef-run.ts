/**
 * Chef Infra run reports -> `config.run` events. Two formats, both JSON:
 *
 * 1. **Report/exception handler** (`run_status.to_h`, as written by Chef's JsonFile handler or sent by
 *    an http report handler): `node` (object with `name`, or a string), `success`, `start_time`,
 *    `end_time`, `elapsed_time`, `all_resources`, `updated_resources`, `exception`, `backtrace`,
 *    `run_id`.
 * 2. **Data collector** messages (`data_collector.server_url` in client.rb): `message_type`
 *    `run_converge` with `node_name`, `status` (success|failure|aborted), `start_time`, `end_time`,
 *    `run_id`, `total_resource_count`, `updated_resource_count`, `error.{class,message}`,
 *    `chef_environment`, `policy_name`. Other message types (`run_start`, `action`) are ignored.
 *
 * Event: resource `host.name` = node name; attributes `config.tool` = chef, `config.run.status`
 * (success|failure|aborted), `config.run.id`, `config.resources.total`, `config.resources.updated`,
 * `config.run.duration_s`, `chef.environment`, `config.error` (trimmed); severity `critical` when
 * the run failed. Successful runs that changed nothing are ignored unless `includeUnchanged`.
 * Unknown fields are ignored (Chef sends many).
 */
import type { Attributes, SextantEvent } from '@sextant/plugin-api';
import { ReceiverRefusal, parseToolTimestamp, type ParsedEvents } from '@sextant/integration-kit';

export type ChefRunStatus = 'success' | 'failure' | 'aborted';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A count: a finite, non-negative integer below 10 million, or a refusal naming the field. */
function count(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10_000_000) {
    throw new ReceiverRefusal(400, 'invalid', `${field} must be a non-negative integer (got ${JSON.stringify(value)})`);
  }
  return value;
}

function clip(text: string, max = 500): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

interface ChefRunFacts {
  node: string;
  status: ChefRunStatus;
  runId?: string;
  start?: number;
  end?: number;
  durationS?: number;
  total?: number;
  updated?: number;
  environment?: string;
  error?: string;
}

function fromHandler(body: Record<string, unknown>): ChefRunFacts {
  const node = isObject(body.node) ? (str(body.node.name) ?? str(body.node.node_name)) : str(body.node);
  if (!node) throw new ReceiverRefusal(400, 'invalid', 'node (or node.name) is missing: is this a Chef run_status report?');
  if (typeof body.success !== 'boolean') throw new ReceiverRefusal(400, 'invalid', `success must be true or false (got ${JSON.stringify(body.success)})`);
  const elapsed = body.elapsed_time;
  if (elapsed !== undefined && elapsed !== null && (typeof elapsed !== 'number' || !Number.isFinite(elapsed) || elapsed < 0)) {
    throw new ReceiverRefusal(400, 'invalid', `elapsed_time must be a non-negative number of seconds (got ${JSON.stringify(elapsed)})`);
  }
  const total = Array.isArray(body.all_resources) ? body.all_resources.length : undefined;
  const updated = Array.isArray(body.updated_resources) ? body.updated_resources.length : undefined;
  const environment = isObject(body.node) ? str(body.node.chef_environment) : undefined;
  const exception = str(body.exception);
  return {
    node,
    status: body.success ? 'success' : 'failure',
    ...(str(body.run_id) ? { runId: str(body.run_id) } : {}),
    ...(parseToolTimestamp(body.start_time) !== undefined ? { start: parseToolTimestamp(body.start_time) } : {}),
    ...(parseToolTimestamp(body.end_time) !== undefined ? { end: parseToolTimestamp(body.end_time) } : {}),
    ...(typeof elapsed === 'number' ? { durationS: elapsed } : {}),
    ...(total !== undefined ? { total } : {}),
    ...(updated !== undefined ? { updated } : {}),
    ...(environment ? { environment } : {}),
    ...(exception ? { error: clip(exception) } : {}),
  };
}

function fromDataCollector(body: Record<string, unknown>): ChefRunFacts {
  const node = str(body.node_name);
  if (!node) throw new ReceiverRefusal(400, 'invalid', 'node_name is missing in the run_converge message');
  const status = str(body.status);
  if (status !== 'success' && status !== 'failure' && status !== 'aborted') {
    throw new ReceiverRefusal(400, 'invalid', `status must be success, failure or aborted (got ${JSON.stringify(body.status)})`);
  }
  const total = count(body.total_resource_count, 'total_resource_count');
  const updated = count(body.updated_resource_count, 'updated_resource_count');
  const error = isObject(body.error) ? [str(body.error.class), str(body.error.message)].filter(Boolean).join(': ') : undefined;
  const start = parseToolTimestamp(body.start_time);
  const end = parseToolTimestamp(body.end_time);
  return {
    node,
    status,
    ...(str(body.run_id) ? { runId: str(body.run_id) } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(start !== undefined && end !== undefined && end >= start ? { durationS: (end - start) / 1000 } : {}),
    ...(total !== undefined ? { total } : {}),
    ...(updated !== undefined ? { updated } : {}),
    ...(str(body.chef_environment) ? { environment: str(body.chef_environment) } : {}),
    ...(error ? { error: clip(error) } : {}),
  };
}

function eventOf(f: ChefRunFacts, now: number): SextantEvent {
  const counts = f.updated !== undefined ? ` (${f.updated}${f.total !== undefined ? ` of ${f.total}` : ''} resources updated)` : '';
  const title =
    f.status === 'success'
      ? `chef run on ${f.node} succeeded${counts}`
      : `chef run on ${f.node} ${f.status === 'aborted' ? 'was aborted' : 'failed'}${f.error ? `: ${clip(f.error, 160)}` : counts}`;
  const attributes: Record<string, string | number> = { 'config.tool': 'chef', 'config.run.status': f.status };
  if (f.runId) attributes['config.run.id'] = f.runId;
  if (f.total !== undefined) attributes['config.resources.total'] = f.total;
  if (f.updated !== undefined) attributes['config.resources.updated'] = f.updated;
  if (f.durationS !== undefined) attributes['config.run.duration_s'] = Math.round(f.durationS * 1000) / 1000;
  if (f.environment) attributes['chef.environment'] = f.environment;
  if (f.error) attributes['config.error'] = f.error;
  return {
    ...(f.runId ? { id: `chef-run-${f.runId}` } : {}),
    type: 'config.run',
    timestamp: f.end ?? f.start ?? now,
    title,
    resource: { 'host.name': f.node },
    attributes: attributes as Attributes,
    severity: f.status === 'success' ? 'info' : 'critical',
    source: 'chef',
  };
}

/** Parses one Chef report body (already JSON-decoded). */
export function parseChefReport(body: unknown, now: number, options: { includeUnchanged: boolean }): ParsedEvents {
  if (!isObject(body)) throw new ReceiverRefusal(400, 'invalid', 'the body must be a JSON object (a Chef run report or data collector message)');
  let facts: ChefRunFacts;
  if (body.message_type !== undefined) {
    if (body.message_type !== 'run_converge') return { ignored: `data collector message_type ${JSON.stringify(body.message_type)} is not a finished run` };
    facts = fromDataCollector(body);
  } else if ('success' in body || 'node' in body) {
    facts = fromHandler(body);
  } else {
    throw new ReceiverRefusal(400, 'invalid', 'not a Chef report: expected run_status fields (node, success, ...) or a data collector message (message_type)');
  }
  if (facts.status === 'success' && facts.updated === 0 && !options.includeUnchanged) return { ignored: 'successful run that changed nothing (set includeUnchanged: true to record it)' };
  return { events: [eventOf(facts, now)] };
}
