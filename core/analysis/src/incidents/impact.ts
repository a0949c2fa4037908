/**
 * Who is hurt: business (money: orders, revenue, conversion), user (what users feel: latency,
 * errors, availability of a service) or infrastructure (everything else: CPU, memory, disks).
 */
import type { Anomaly, ImpactClass, TopologyView } from '@sextant/plugin-api';

const BUSINESS = /(^|[._])(orders?|revenue|checkout|conversion|cart|payments?|signups?|purchases?|sales|gmv|business)([._]|$)/;
const USER = /(^|[._])(latency|duration|response_time|request_time|errors?|error_ratio|availability|apdex|http|requests?|lcp|fid|inp|ttfb|page)([._]|$)/;

export function impactOf(anomaly: Pick<Anomaly, 'metric' | 'resource'>): ImpactClass {
  const declared = anomaly.resource['sextant.impact'];
  if (declared === 'business' || declared === 'user' || declared === 'infrastructure') return declared;
  if (BUSINESS.test(anomaly.metric)) return 'business';
  if (USER.test(anomaly.metric)) return 'user';
  return 'infrastructure';
}

const RANK: Record<ImpactClass, number> = { infrastructure: 0, user: 1, business: 2 };

/** The highest impact among anomalies (business > user > infrastructure). */
export function combineImpact(a: ImpactClass, b: ImpactClass): ImpactClass {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Entity type of an entity id (`container:abc` -> `container`). */
export function entityType(id: string, topology?: TopologyView): string {
  return topology?.entity(id)?.type ?? id.slice(0, id.indexOf(':'));
}
