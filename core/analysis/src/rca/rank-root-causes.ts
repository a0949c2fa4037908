/**
 * rankRootCauses: which entity most likely started the anomaly seen on the target?
 *
 * Method (designed on the PetShop train issues, no per-dataset parameters):
 * 1. Entity anomaly `a` in 0..1: the strongest robust score among its fault series (latency,
 *    availability, errors, saturation...) in a window around the target time, minus what was
 *    already there before the window, mapped linearly from `normalScore` (0) to `fullScore` (1).
 *    Evidence of another kind than the target's (a slow dependency of a service that fails) is
 *    weighted down and can give at most `otherKindCeiling`: it may be a side effect, while a
 *    dependency failing the same way as the target explains it fully.
 *    Traffic series never make an entity anomalous: more requests are caused by the callers.
 *    The target itself counts as fully anomalous (it is the symptom). A change event shortly
 *    before the target raises the entity's anomaly.
 * 2. Blame walk: every anomalous entity starts with mass `a`; at each step an entity keeps part of
 *    its mass (more when its own dependencies are normal: "the anomaly starts here") and passes the
 *    rest to its anomalous dependencies in proportion to their anomaly. This is a random walk on
 *    the anomalous subgraph that ends where the anomaly cannot be explained further downstream.
 *    A shared dependency of several anomalous callers collects mass from all of them.
 * 3. Candidates are the target and what it depends on (directly or not). The mass an entity
 *    absorbed, times the weakest anomaly on the best path from the target to it (an anomaly that
 *    reaches the target only through normal entities cannot explain it), is its score; scores are
 *    normalised to sum to 1 over the candidates. Equal scores go to the candidate more anomalous
 *    entities depend on, then to the one with more known dependencies (see the sort below).
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { isFaultKind, scoreSeriesAnomaly, type SeriesAnomaly } from './series-anomaly.js';
import { DEFAULT_RCA_OPTIONS, type RankedCause, type RcaInput, type RcaOptions, type RcaSeries } from './types.js';

/** Share of an entity's mass it keeps even when its dependencies are anomalous (avoids traps in cycles). */
const STAY_EPSILON = 0.02;

/** Checks the shape of the input; throws SEXTANT_ERR_VALUE_REJECTED naming the problem. */
function validateInput(input: RcaInput): void {
  const n = input.entities.length;
  const fail = (message: string, hint: string): never => {
    throw new SextantError(ErrorCode.VALUE_REJECTED, message, { hint });
  };
  if (n === 0) fail('root-cause input has no entities', 'pass at least the target entity');
  if (!Number.isInteger(input.target.entity) || input.target.entity < 0 || input.target.entity >= n) {
    fail(`target entity ${input.target.entity} is not one of the ${n} entities`, 'use an index into entities');
  }
  if (!Number.isFinite(input.target.timestamp)) fail(`target timestamp is ${input.target.timestamp}`, 'pass milliseconds since the Unix epoch');
  if (input.edges.length % 2 !== 0) fail(`edges has odd length ${input.edges.length}`, 'pass pairs [from, to, from, to, ...]');
  for (let i = 0; i < input.edges.length; i++) {
    if (input.edges[i] >= n) fail(`edge endpoint ${input.edges[i]} is not one of the ${n} entities`, 'use indices into entities');
  }
  const t = input.timestamps;
  for (let i = 1; i < t.length; i++) {
    if (!(t[i] > t[i - 1])) fail(`timestamps must be finite and ascending (index ${i}: ${t[i - 1]} then ${t[i]})`, 'sort samples by time and drop duplicates');
  }
  for (const s of input.series) {
    if (s.entity < 0 || s.entity >= n || !Number.isInteger(s.entity)) fail(`series ${s.metric} names entity ${s.entity}, not one of the ${n} entities`, 'use indices into entities');
    if (s.values.length !== t.length) fail(`series ${s.metric} of ${input.entities[s.entity]} has ${s.values.length} values for ${t.length} timestamps`, 'align every series with timestamps (NaN for gaps)');
  }
}

function sampleStep(timestamps: Float64Array): number {
  if (timestamps.length < 2) return 60_000;
  const diffs = new Float64Array(timestamps.length - 1);
  for (let i = 1; i < timestamps.length; i++) diffs[i - 1] = timestamps[i] - timestamps[i - 1];
  diffs.sort();
  return diffs[diffs.length >> 1];
}

interface EntityEvidence {
  series: RcaSeries | undefined;
  result: SeriesAnomaly | undefined;
  weighted: number;
}

/** Ranks candidate root causes of the target's anomaly, most likely first. */
export function rankRootCauses(input: RcaInput): RankedCause[] {
  validateInput(input);
  const options: RcaOptions = { ...DEFAULT_RCA_OPTIONS, ...input.options };
  const n = input.entities.length;
  const { timestamps, target } = input;

  // Analysis window [windowStart, windowEnd) in sample indices.
  const step = sampleStep(timestamps);
  const from = target.timestamp - options.windowStepsBefore * step;
  const to = target.timestamp + options.windowStepsAfter * step;
  let windowStart = 0;
  while (windowStart < timestamps.length && timestamps[windowStart] < from) windowStart++;
  let windowEnd = windowStart;
  while (windowEnd < timestamps.length && timestamps[windowEnd] <= to) windowEnd++;

  // 1. Entity anomalies.
  let scratchSize = timestamps.length;
  for (const s of input.series) if (s.reference) scratchSize = Math.max(scratchSize, s.reference.length + timestamps.length);
  const scratch = new Float64Array(scratchSize);
  const strongest: EntityEvidence[] = Array.from({ length: n }, () => ({ series: undefined, result: undefined, weighted: 0 }));
  const perSeries: (SeriesAnomaly | undefined)[] = new Array(input.series.length);
  const known = new Uint8Array(n);
  // Strongest score per entity among series of the target's kind and of other kinds, kept apart
  // because evidence of another kind alone is capped (see RcaOptions.otherKindCeiling).
  const sameKindBest = new Float64Array(n);
  const otherKindBest = new Float64Array(n);
  input.series.forEach((s, i) => {
    const result = scoreSeriesAnomaly(s.kind, s.values, s.reference, windowStart, windowEnd, options, scratch);
    perSeries[i] = result;
    if (!isFaultKind(s.kind) || !Number.isFinite(result.score)) return;
    known[s.entity] = 1;
    const weighted = result.score * (s.kind === target.kind ? 1 : options.otherKindWeight);
    if (s.kind === target.kind) sameKindBest[s.entity] = Math.max(sameKindBest[s.entity], weighted);
    else otherKindBest[s.entity] = Math.max(otherKindBest[s.entity], weighted);
    const slot = strongest[s.entity];
    if (weighted > slot.weighted) {
      slot.weighted = weighted;
      slot.series = s;
      slot.result = result;
    }
  });
  const anomaly = new Float64Array(n);
  const span = Math.max(options.fullScore - options.normalScore, 1e-9);
  const saturate = (score: number): number => Math.min(1, Math.max(0, (score - options.normalScore) / span));
  for (let e = 0; e < n; e++) anomaly[e] = Math.max(saturate(sameKindBest[e]), Math.min(options.otherKindCeiling, saturate(otherKindBest[e])));
  anomaly[target.entity] = 1;

  const changes: string[][] = Array.from({ length: n }, () => []);
  for (const ev of input.events ?? []) {
    if (ev.entity < 0 || ev.entity >= n || !Number.isFinite(ev.timestamp)) continue;
    if (ev.timestamp < target.timestamp - options.eventLookbackMs || ev.timestamp > to) continue;
    anomaly[ev.entity] = 1 - (1 - anomaly[ev.entity]) * 0.5;
    changes[ev.entity].push(`${ev.title} ${describeOffset(ev.timestamp - target.timestamp)}`);
  }

  // Adjacency in CSR form: dependencies (out) and dependents (in).
  const outStart = new Uint32Array(n + 1);
  const inStart = new Uint32Array(n + 1);
  const edgeCount = input.edges.length >> 1;
  for (let k = 0; k < edgeCount; k++) {
    outStart[input.edges[2 * k] + 1]++;
    inStart[input.edges[2 * k + 1] + 1]++;
  }
  for (let e = 0; e < n; e++) {
    outStart[e + 1] += outStart[e];
    inStart[e + 1] += inStart[e];
  }
  const outList = new Uint32Array(edgeCount);
  const inList = new Uint32Array(edgeCount);
  const outFill = outStart.slice(0, n);
  const inFill = inStart.slice(0, n);
  for (let k = 0; k < edgeCount; k++) {
    const a = input.edges[2 * k];
    const b = input.edges[2 * k + 1];
    outList[outFill[a]++] = b;
    inList[inFill[b]++] = a;
  }

  // Entities without any judged fault series (no data) are unknown, not normal: they pass on the
  // anomaly of their dependencies so a gap in monitoring does not cut the path to a cause.
  known[target.entity] = 1;
  for (let pass = 0, changed = true; changed && pass < n; pass++) {
    changed = false;
    for (let e = 0; e < n; e++) {
      if (known[e]) continue;
      for (let k = outStart[e]; k < outStart[e + 1]; k++) {
        if (anomaly[outList[k]] > anomaly[e]) {
          anomaly[e] = anomaly[outList[k]];
          changed = true;
        }
      }
    }
  }

  // 2. Blame walk.
  const keepShare = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    let maxDep = 0;
    let depSum = 0;
    for (let k = outStart[e]; k < outStart[e + 1]; k++) {
      const d = outList[k];
      if (d === e) continue;
      maxDep = Math.max(maxDep, anomaly[d]);
      depSum += anomaly[d];
    }
    const stay = anomaly[e] * (1 - maxDep) + STAY_EPSILON;
    keepShare[e] = stay / (stay + depSum);
  }
  let mass = Float64Array.from(anomaly);
  let next = new Float64Array(n);
  const absorbed = new Float64Array(n);
  for (let it = 0; it < options.walkSteps; it++) {
    next.fill(0);
    for (let e = 0; e < n; e++) {
      const m = mass[e];
      if (m < 1e-12) continue;
      absorbed[e] += m * keepShare[e];
      const passOn = m * (1 - keepShare[e]);
      if (passOn <= 0) continue;
      let depSum = 0;
      for (let k = outStart[e]; k < outStart[e + 1]; k++) if (outList[k] !== e) depSum += anomaly[outList[k]];
      if (depSum <= 0) continue;
      for (let k = outStart[e]; k < outStart[e + 1]; k++) {
        const d = outList[k];
        if (d !== e) next[d] += (passOn * anomaly[d]) / depSum;
      }
    }
    [mass, next] = [next, mass];
  }
  for (let e = 0; e < n; e++) absorbed[e] += mass[e];

  // 3. Candidates: reachable from the target; weight by the widest anomalous path from it.
  const pathStrength = widestPathFromTarget(target.entity, n, outStart, outList, anomaly);
  const pathPrev = pathStrength.prev;
  const raw = new Float64Array(n);
  let total = 0;
  for (let e = 0; e < n; e++) {
    const p = pathStrength.strength[e];
    if (p <= 0) continue;
    raw[e] = absorbed[e] * p;
    total += raw[e];
  }

  const causes: RankedCause[] = [];
  for (let e = 0; e < n; e++) {
    if (pathStrength.strength[e] <= 0) continue;
    const score = total > 0 ? raw[e] / total : 0;
    causes.push({
      entity: input.entities[e],
      index: e,
      score,
      anomaly: anomaly[e],
      evidence: buildEvidence(e, input, strongest[e], anomaly, outStart, outList, inStart, inList, pathPrev, changes[e], perSeries),
    });
  }
  // Equal scores are common (anomalies saturate at 1, and a load balancer or client-side view of a
  // service mirrors it exactly). Ties go to the candidate that explains more: more anomalous
  // entities depend on it, then it has more known dependencies (an origin whose dependencies were
  // seen to be normal, rather than a leaf nobody observes from the inside).
  const anomalousDependents = new Uint32Array(n);
  const dependencies = new Uint32Array(n);
  for (let e = 0; e < n; e++) {
    for (let k = inStart[e]; k < inStart[e + 1]; k++) if (inList[k] !== e && anomaly[inList[k]] > 0) anomalousDependents[e]++;
    for (let k = outStart[e]; k < outStart[e + 1]; k++) if (outList[k] !== e) dependencies[e]++;
  }
  const TIE = 1e-9;
  causes.sort(
    (x, y) =>
      (Math.abs(y.score - x.score) > TIE ? y.score - x.score : 0) ||
      anomalousDependents[y.index] - anomalousDependents[x.index] ||
      dependencies[y.index] - dependencies[x.index] ||
      y.anomaly - x.anomaly ||
      x.index - y.index,
  );
  return causes;
}

/**
 * Widest (max-min) path from the target along dependency edges. The strength of a path is the
 * weakest anomaly among its intermediate entities (the target and the end are not counted);
 * unreachable entities get 0. A floor of 1e-3 keeps reachable entities ranked.
 */
function widestPathFromTarget(
  target: number,
  n: number,
  outStart: Uint32Array,
  outList: Uint32Array,
  anomaly: Float64Array,
): { strength: Float64Array; prev: Int32Array } {
  const strength = new Float64Array(n);
  const prev = new Int32Array(n).fill(-1);
  const done = new Uint8Array(n);
  strength[target] = 1;
  for (;;) {
    let u = -1;
    for (let e = 0; e < n; e++) if (!done[e] && strength[e] > 0 && (u < 0 || strength[e] > strength[u])) u = e;
    if (u < 0) break;
    done[u] = 1;
    const carried = u === target ? 1 : Math.max(1e-3, Math.min(strength[u], anomaly[u]));
    for (let k = outStart[u]; k < outStart[u + 1]; k++) {
      const d = outList[k];
      if (!done[d] && carried > strength[d]) {
        strength[d] = carried;
        prev[d] = u;
      }
    }
  }
  return { strength, prev };
}

function describeOffset(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes === 0) return 'at the target time';
  return ms < 0 ? `${minutes} min before the target` : `${minutes} min after the target`;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, '');
  return v.toPrecision(2);
}

function buildEvidence(
  e: number,
  input: RcaInput,
  strongest: EntityEvidence,
  anomaly: Float64Array,
  outStart: Uint32Array,
  outList: Uint32Array,
  inStart: Uint32Array,
  inList: Uint32Array,
  pathPrev: Int32Array,
  changes: readonly string[],
  perSeries: readonly (SeriesAnomaly | undefined)[],
): string[] {
  const name = input.entities[e];
  const out: string[] = [];
  for (const c of changes) out.push(`change on ${name}: ${c}`);
  const s = strongest.series;
  const r = strongest.result;
  if (e === input.target.entity) out.push(`${name} is the target of the incident`);
  if (s && r && anomaly[e] > 0) {
    const label = s.statistic ? `${s.metric} ${s.statistic}` : s.metric;
    const movement =
      s.kind === 'availability'
        ? `fell from ${formatNumber(r.median)} to ${formatNumber(r.peak)}`
        : Number.isFinite(r.ratio) && r.ratio >= 1.5
          ? `rose ${formatNumber(r.ratio)}x (${formatNumber(r.median)} -> ${formatNumber(r.peak)})`
          : `moved from ${formatNumber(r.median)} to ${formatNumber(r.peak)}`;
    const when = r.onsetIndex >= 0 ? `, starting ${describeOffset(input.timestamps[r.onsetIndex] - input.target.timestamp)}` : '';
    const ref = r.fallback ? ' against the data before the incident' : ' against normal operation';
    out.push(`${label} of ${name} ${movement} (MAD score ${formatNumber(strongest.weighted)}${ref})${when}`);
  } else if (e !== input.target.entity) {
    out.push(`${name} shows no anomaly of its own`);
  }
  let anomalousDeps = 0;
  let deps = 0;
  for (let k = outStart[e]; k < outStart[e + 1]; k++) {
    if (outList[k] === e) continue;
    deps++;
    if (anomaly[outList[k]] > 0) anomalousDeps++;
  }
  if (deps === 0) out.push(`${name} has no known dependencies`);
  else if (anomalousDeps === 0) out.push(`its ${deps} dependencies are normal`);
  else out.push(`${anomalousDeps} of its ${deps} dependencies are anomalous too`);
  let anomalousCallers = 0;
  for (let k = inStart[e]; k < inStart[e + 1]; k++) if (anomaly[inList[k]] > 0 && inList[k] !== e) anomalousCallers++;
  if (anomalousCallers > 1) out.push(`${anomalousCallers} entities that depend on it are anomalous`);
  if (e !== input.target.entity) {
    const path: string[] = [];
    for (let p = e; p >= 0 && path.length < 12; p = pathPrev[p]) path.push(input.entities[p]);
    out.push(`path from the target: ${path.reverse().join(' -> ')}`);
  }
  const traffic = trafficNote(e, input, perSeries);
  if (traffic) out.push(traffic);
  return out;
}

function trafficNote(e: number, input: RcaInput, perSeries: readonly (SeriesAnomaly | undefined)[]): string | undefined {
  for (let i = 0; i < input.series.length; i++) {
    const s = input.series[i];
    const r = perSeries[i];
    if (s.entity !== e || isFaultKind(s.kind) || !r || !(r.score >= DEFAULT_RCA_OPTIONS.normalScore)) continue;
    return `${s.metric} of ${input.entities[e]} changed from ${formatNumber(r.median)} to ${formatNumber(r.peak)} (traffic; not counted as a fault)`;
  }
  return undefined;
}
