/**
 * Which incident updates go to which notifier instance: the `route` runtime key of a notifier in
 * sextant.yaml (validated by the runtime config schema). Every condition that is set must hold;
 * an instance without `route` gets every update.
 *
 * ```yaml
 * notifiers:
 *   slack/shop-team:
 *     webhookUrl: ${env:SLACK_URL}
 *     route:
 *       impact: [business, user]        # incident impact class is one of these
 *       services: [checkout, cart]      # incident touches `service:checkout` or `service:cart`
 *       severity: warning               # minimum severity: warning or critical
 *       match: { k8s.namespace.name: prod }  # an affected entity has this attribute (or the incident field, e.g. status)
 * ```
 */
import type { Attributes, AttributeValue, ImpactClass, IncidentUpdate, Severity } from '@sextant/plugin-api';

export interface NotificationRoute {
  readonly impact?: readonly ImpactClass[];
  /** Service names; an incident matches when one of its entities is `service:<name>`. */
  readonly services?: readonly string[];
  /** Minimum severity (`info` < `warning` < `critical`). */
  readonly severity?: Severity;
  /**
   * Attribute equality, compared as strings. A key matches when the incident has a top-level
   * field of that name with that value (`status`, `impact`, `severity`, `change`) or when one of
   * the incident's entities, looked up in the topology, has that attribute value.
   */
  readonly match?: Readonly<Record<string, AttributeValue>>;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Looks up the attributes of a topology entity (`container:abc`); undefined when unknown. */
export type EntityAttributeLookup = (entityId: string) => Attributes | undefined;

export function routeMatches(route: NotificationRoute | undefined, update: IncidentUpdate, entityAttributes?: EntityAttributeLookup): boolean {
  if (!route) return true;
  const incident = update.incident;
  if (route.impact && !route.impact.includes(incident.impact)) return false;
  if (route.severity && (SEVERITY_RANK[incident.severity] ?? -1) < SEVERITY_RANK[route.severity]) return false;
  if (route.services) {
    const wanted = new Set(route.services.map((s) => `service:${s}`));
    if (!incident.entities.some((e) => wanted.has(e))) return false;
  }
  if (route.match) {
    const fields: Record<string, unknown> = { status: incident.status, impact: incident.impact, severity: incident.severity, change: update.change };
    for (const [key, value] of Object.entries(route.match)) {
      const expected = String(value);
      if (fields[key] !== undefined && String(fields[key]) === expected) continue;
      const found = entityAttributes !== undefined && incident.entities.some((id) => {
        const attrs = entityAttributes(id);
        return attrs !== undefined && attrs[key] !== undefined && String(attrs[key]) === expected;
      });
      if (!found) return false;
    }
  }
  return true;
}
