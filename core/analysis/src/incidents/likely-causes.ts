/**
 * Ranks the likely causes of one incident from what it contains: its anomalies (when each entity
 * started misbehaving), the topology (who depends on whom, what runs on what) and change events
 * (a deploy or configuration run just before). Evidence is kept as sentences a person reads.
 *
 * Scoring (each candidate entity, then normalised to sum to 1):
 * - onset: the earliest anomalous entity gets the most; later ones decay with their lag;
 * - upstream: an anomalous entity that other anomalous entities depend on (calls / depends-on /
 *   runs-on edges) is a cause rather than a symptom; one whose own dependencies are anomalous
 *   passes most of its weight down to them;
 * - change: a deploy / config run / scale event on the entity (or its service) within the lookback
 *   before the first anomaly multiplies its weight;
 * - saturation: a host whose CPU/memory/pressure is anomalous under anomalous containers.
 */
import type { Anomaly, LikelyCause, SextantEvent, TopologyView } from '@sextant/plugin-api';

export interface CauseInput {
  readonly anomalies: readonly Anomaly[];
  readonly events: readonly SextantEvent[];
  readonly topology: TopologyView;
  /** entity id of each anomaly (same order). */
  readonly entityOf: (a: Anomaly) => string;
  /** How far before the first anomaly a change event still counts. */
  readonly changeLookbackMs: number;
}

const CHANGE_TYPES = new Set(['deploy', 'config.run', 'scale', 'rollout', 'container.start', 'container.restart']);
const SATURATION = /^(system\.(cpu|memory|linux\.pressure|paging)|container\.(cpu\.throttl|memory))/;

function fmtAgo(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** Entities the given entity depends on (callees, what it runs on). */
function dependencies(topology: TopologyView, entity: string): string[] {
  return topology
    .edges({ from: entity })
    .filter((e) => e.type === 'calls' || e.type === 'depends-on' || e.type === 'runs-on')
    .map((e) => e.to);
}

export function rankLikelyCauses(input: CauseInput): LikelyCause[] {
  const { anomalies, topology } = input;
  if (anomalies.length === 0) return [];
  const first = new Map<string, Anomaly>();
  const count = new Map<string, number>();
  for (const a of anomalies) {
    const e = input.entityOf(a);
    const f = first.get(e);
    if (!f || a.timestamp < f.timestamp) first.set(e, a);
    count.set(e, (count.get(e) ?? 0) + 1);
  }
  const t0 = Math.min(...[...first.values()].map((a) => a.timestamp));
  const span = Math.max(60_000, Math.max(...[...first.values()].map((a) => a.timestamp)) - t0);
  const anomalous = new Set(first.keys());
  const candidates = new Map<string, { score: number; evidence: string[]; summary: string }>();
  const get = (e: string) => {
    let c = candidates.get(e);
    if (!c) candidates.set(e, (c = { score: 0, evidence: [], summary: '' }));
    return c;
  };

  for (const [entity, a] of first) {
    const c = get(entity);
    const lag = a.timestamp - t0;
    const onset = Math.exp(-lag / span);
    c.score = 0.4 + 0.6 * onset;
    c.evidence.push(lag === 0 ? `first anomaly: ${a.message}` : `anomalous ${fmtAgo(lag)} after the first anomaly: ${a.message}`);
    c.summary = a.message;
    const deps = dependencies(topology, entity);
    const badDeps = deps.filter((d) => anomalous.has(d));
    if (badDeps.length > 0) {
      c.score *= 0.35;
      c.evidence.push(`depends on ${badDeps.join(', ')}, which ${badDeps.length === 1 ? 'is' : 'are'} anomalous too`);
    } else if (deps.length > 0) {
      c.evidence.push(`its dependencies (${deps.slice(0, 3).join(', ')}${deps.length > 3 ? ', ...' : ''}) are normal`);
    }
    const dependents = topology.edges({ to: entity }).filter((e) => anomalous.has(e.from) && e.from !== entity);
    if (dependents.length > 0) {
      c.score *= 1 + 0.5 * Math.min(4, dependents.length);
      c.evidence.push(`${dependents.length} anomalous ${dependents.length === 1 ? 'entity depends' : 'entities depend'} on it (${dependents.slice(0, 3).map((d) => d.from).join(', ')})`);
    }
    if (entity.startsWith('host:') && SATURATION.test(a.metric) && dependents.some((d) => d.type === 'runs-on')) {
      c.score *= 1.5;
      c.evidence.push('host-level saturation under its anomalous containers');
    }
  }

  for (const ev of input.events) {
    if (!CHANGE_TYPES.has(ev.type)) continue;
    const before = t0 - ev.timestamp;
    if (before < -60_000 || before > input.changeLookbackMs) continue;
    const entity = topology.entityOf(ev.resource);
    if (!entity) continue;
    const affected = [...anomalous].filter((e) => e === entity || topology.edges({ from: e, to: entity }).length > 0 || topology.edges({ from: entity, to: e }).length > 0);
    const service = ev.resource['service.name'];
    const touchesService = service !== undefined && anomalies.some((a) => a.resource['service.name'] === service);
    if (affected.length === 0 && !touchesService) continue;
    const c = get(entity);
    c.score = Math.max(c.score, 0.5) * 2.5;
    c.evidence.unshift(`${ev.type} ${before >= 0 ? `${fmtAgo(before)} before` : 'just after'} the first anomaly: ${ev.title}`);
    c.summary = `${ev.title} (${ev.type} ${before >= 0 ? `${fmtAgo(before)} before the first anomaly` : 'at the same time'})`;
  }

  const total = [...candidates.values()].reduce((s, c) => s + c.score, 0) || 1;
  return [...candidates.entries()]
    .map(([entity, c]) => ({ entity, score: Math.round((c.score / total) * 1000) / 1000, summary: c.summary, evidence: c.evidence }))
    .sort((a, b) => b.score - a.score || a.entity.localeCompare(b.entity))
    .slice(0, 5);
}
