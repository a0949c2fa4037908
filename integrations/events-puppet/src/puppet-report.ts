/**
 * Puppet agent reports, as the `http` report processor POSTs them (`reports = http`,
 * `reporturl = ...`): YAML (`Content-Type: application/x-yaml`, older Puppet; the document is
 * tagged `!ruby/object:Puppet::Transaction::Report` and nested objects carry Ruby tags too, which
 * are read as plain maps) or JSON (`application/json`, newer Puppet). -> `config.run` events.
 *
 * Fields read (all others ignored): `host`, `time`, `status` (changed|unchanged|failed),
 * `configuration_version`, `environment`, `transaction_uuid`, `noop`, `puppet_version`,
 * `metrics.resources.values` (`[name, label, value]` triples: total, changed, failed,
 * out_of_sync...), `metrics.time.values` (`total` seconds), and `resource_statuses` (per resource
 * `failed` / `changed`) when metrics are missing.
 *
 * Event: resource `host.name`; attributes `config.tool` = puppet, `config.run.status`,
 * `config.version`, `puppet.environment`, `config.resources.total|changed|failed`,
 * `config.run.duration_s`, `config.run.noop`, `config.failed_resources` (first few names);
 * severity `critical` when failed. Unchanged runs are ignored unless `includeUnchanged`.
 */
import { parseDocument } from 'yaml';
import type { Attributes, SextantEvent } from '@sextant/plugin-api';
import { ReceiverRefusal, parseToolTimestamp, type ParsedEvents, type ReceivedRequest } from '@sextant/integration-kit';

const YAML_TYPES = new Set(['application/x-yaml', 'application/yaml', 'text/yaml', 'text/x-yaml']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Decodes the body as YAML or JSON, by content type (or by its first character when untyped). */
export function decodePuppetReport(request: ReceivedRequest): unknown {
  const text = request.body.toString('utf8');
  const json = request.contentType === 'application/json' || (request.contentType === '' && /^\s*\{/.test(text));
  if (json) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ReceiverRefusal(400, 'malformed', `malformed Puppet JSON report: ${(e as Error).message}`);
    }
  }
  if (request.contentType !== '' && !YAML_TYPES.has(request.contentType)) {
    throw new ReceiverRefusal(415, 'media_type', `send the report as application/x-yaml or application/json (got ${request.contentType})`);
  }
  // Ruby tags (!ruby/object:..., !ruby/sym) resolve to plain maps/strings; only syntax errors refuse.
  const doc = parseDocument(text, { logLevel: 'error', uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ReceiverRefusal(400, 'malformed', `malformed Puppet YAML report: ${doc.errors[0].message.split('\n')[0]}`);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ReceiverRefusal(400, 'malformed', `malformed Puppet YAML report: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** `metrics.<group>.values` as a name -> number map, ignoring entries that are not [name, label, finite number]. */
function metricValues(metrics: unknown, group: string): Map<string, number> {
  const out = new Map<string, number>();
  const values = isObject(metrics) && isObject(metrics[group]) ? metrics[group].values : undefined;
  if (!Array.isArray(values)) return out;
  for (const entry of values) {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[2] === 'number' && Number.isFinite(entry[2]) && entry[2] >= 0) out.set(entry[0], entry[2]);
  }
  return out;
}

const STATUSES = new Set(['changed', 'unchanged', 'failed']);

/** Parses a decoded Puppet report. */
export function parsePuppetReport(report: unknown, now: number, options: { includeUnchanged: boolean }): ParsedEvents {
  if (!isObject(report)) throw new ReceiverRefusal(400, 'invalid', 'the report must be a map with host, status and time (a Puppet::Transaction::Report)');
  const host = str(report.host);
  if (!host) throw new ReceiverRefusal(400, 'invalid', 'host is missing: is this a Puppet report?');
  const status = str(report.status);
  if (!status || !STATUSES.has(status)) throw new ReceiverRefusal(400, 'invalid', `status must be changed, unchanged or failed (got ${JSON.stringify(report.status)})`);
  if (status === 'unchanged' && !options.includeUnchanged) return { ignored: 'unchanged run (set includeUnchanged: true to record it)' };

  const resources = metricValues(report.metrics, 'resources');
  const statuses = isObject(report.resource_statuses) ? Object.entries(report.resource_statuses).filter(([, s]) => isObject(s)) : [];
  const failedNames = statuses.filter(([, s]) => (s as Record<string, unknown>).failed === true).map(([name]) => name);
  const total = resources.get('total') ?? (statuses.length || undefined);
  const changed = resources.get('changed') ?? (statuses.length ? statuses.filter(([, s]) => (s as Record<string, unknown>).changed === true).length : undefined);
  const failed = resources.get('failed') ?? (statuses.length ? failedNames.length : undefined);
  const duration = metricValues(report.metrics, 'time').get('total');
  const version = str(report.configuration_version);
  const environment = str(report.environment);
  const timestamp = parseToolTimestamp(report.time) ?? now;

  const attributes: Record<string, string | number | boolean> = { 'config.tool': 'puppet', 'config.run.status': status };
  if (version) attributes['config.version'] = version.slice(0, 256);
  if (environment) attributes['puppet.environment'] = environment.slice(0, 256);
  if (total !== undefined) attributes['config.resources.total'] = total;
  if (changed !== undefined) attributes['config.resources.changed'] = changed;
  if (failed !== undefined) attributes['config.resources.failed'] = failed;
  if (duration !== undefined) attributes['config.run.duration_s'] = Math.round(duration * 1000) / 1000;
  if (report.noop === true) attributes['config.run.noop'] = true;
  if (failedNames.length) attributes['config.failed_resources'] = failedNames.slice(0, 10).join(', ').slice(0, 500);
  const puppetVersion = str(report.puppet_version);
  if (puppetVersion) attributes['puppet.version'] = puppetVersion.slice(0, 64);

  const detail =
    status === 'failed'
      ? `${failed ?? '?'} failed${failedNames.length ? `: ${failedNames.slice(0, 3).join(', ')}` : ''}`
      : `${changed ?? '?'}${total !== undefined ? ` of ${total}` : ''} resources changed`;
  const uuid = str(report.transaction_uuid);
  const event: SextantEvent = {
    ...(uuid ? { id: `puppet-report-${uuid}` } : {}),
    type: 'config.run',
    timestamp,
    title: `puppet run on ${host} ${status}${version ? ` (config ${version})` : ''}: ${detail}`.slice(0, 300),
    resource: { 'host.name': host },
    attributes: attributes as Attributes,
    severity: status === 'failed' ? 'critical' : 'info',
    source: 'puppet',
  };
  return { events: [event] };
}
