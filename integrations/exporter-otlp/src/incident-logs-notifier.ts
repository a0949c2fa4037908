/**
 * The `otlp-logs` notifier: every incident update (opened, updated, resolved) as one OTLP log
 * record, POSTed to `<endpoint>/v1/logs` (or sent by OTLP/gRPC `LogsService/Export`). Retries belong to the runtime's notifier delivery:
 * `deliver` classifies the answer (429/5xx/network retryable with Retry-After, other 4xx final)
 * and never throws. Attribute names are documented in the README ("Incidents as log records").
 */
import { createNotifierFactory, type DeliveryOutcome, type Notification, type Notifier, type NotifierContext } from '@sextant/plugin-api';
import { z } from 'zod';
import { otlpLogsNotifierConfigDefaults, otlpLogsNotifierConfigSchema, createTransport, prepareBody, type OtlpLogsNotifierConfig } from './config.js';
import { encodeLogsRequest, type OtlpLogRecord } from './otlp-encoding.js';
import type { OtlpTransport } from './otlp-http-transport.js';
import { SCOPE, SEVERITY } from './otlp-exporter.js';

/** `event_name` of incident log records. */
export const INCIDENT_EVENT_NAME = 'sextant.incident';

/** The log record of one incident update (exported for tests and for users who build their own). */
export function incidentLogRecord(n: Notification, resource: OtlpLogRecord['resource'], nowMs: number): OtlpLogRecord {
  const { incident, change, sequence, reason } = n.update;
  const [severityNumber, severityText] = SEVERITY[incident.severity];
  const top = incident.causes[0];
  const attributes: Record<string, string | number | boolean> = {
    'sextant.incident.id': incident.id,
    'sextant.incident.change': change,
    'sextant.incident.sequence': sequence,
    'sextant.incident.status': incident.status,
    'sextant.incident.impact': incident.impact,
    'sextant.incident.severity': incident.severity,
    'sextant.incident.title': incident.title,
    'sextant.incident.opened_at': new Date(incident.openedAt).toISOString(),
    'sextant.incident.entities': incident.entities.join(','),
    'sextant.incident.anomaly_count': incident.anomalyIds.length,
    'sextant.incident.event_count': incident.eventIds.length,
    'sextant.idempotency_key': n.idempotencyKey,
  };
  if (incident.resolvedAt !== undefined) attributes['sextant.incident.resolved_at'] = new Date(incident.resolvedAt).toISOString();
  if (reason) attributes['sextant.incident.reason'] = reason;
  if (n.url) attributes['sextant.incident.url'] = n.url;
  if (top) {
    attributes['sextant.incident.likely_cause'] = top.entity;
    attributes['sextant.incident.likely_cause.score'] = top.score;
    attributes['sextant.incident.likely_cause.summary'] = top.summary;
  }
  return {
    resource,
    timeMs: incident.updatedAt,
    observedTimeMs: nowMs,
    severityNumber,
    severityText,
    body: `[${change}] ${incident.title}${top ? ` (likely cause: ${top.entity})` : ''}`,
    eventName: INCIDENT_EVENT_NAME,
    attributes,
  };
}

export class IncidentLogsNotifier implements Notifier {
  private readonly transport: OtlpTransport;

  constructor(private readonly ctx: NotifierContext<OtlpLogsNotifierConfig>) {
    this.transport = createTransport(ctx.config);
  }

  async deliver(n: Notification): Promise<DeliveryOutcome> {
    const c = this.ctx.config;
    const body = prepareBody(c, encodeLogsRequest([incidentLogRecord(n, c.resourceAttributes, this.ctx.clock.now())], SCOPE));
    const url = c.protocol === 'grpc' ? `${c.endpoint} (gRPC logs)` : `${c.endpoint.replace(/\/+$/, '')}/v1/logs`;
    const r = await this.transport.send('logs', body);
    if (r.ok) return r.rejected > 0 ? { ok: false, retryable: false, error: `${url} rejected the log record: ${r.rejectedMessage || 'no reason given'}` } : { ok: true, detail: `${url} accepted` };
    return { ok: false, retryable: r.retryable, error: r.error, ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
  }

  shutdown(): void {
    this.transport.close();
  }
}

export const otlpLogsNotifierFactory = createNotifierFactory<OtlpLogsNotifierConfig>({
  type: 'otlp-logs',
  stability: 'alpha',
  description: 'Incident updates (opened, updated, resolved) as OTLP log records (OTLP/HTTP protobuf or gRPC), with status, impact, severity, title and likely cause as attributes.',
  configSchema: otlpLogsNotifierConfigSchema,
  defaults: otlpLogsNotifierConfigDefaults,
  configJsonSchema: z.toJSONSchema(otlpLogsNotifierConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new IncidentLogsNotifier(ctx),
});
