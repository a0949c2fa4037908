/**
 * `sextant eval rca`: runs the production root-cause ranker over every issue of a PetShop-layout
 * folder and reports top-1 / top-3 accuracy per scenario, target metric and split.
 *
 * A broken issue (unreadable or malformed file, unknown target) is reported in `failures` with an
 * error naming the file, counted, and skipped; the other issues still run. Accuracy rows count
 * only the issues that were ranked.
 */
import { formatError, ErrorCode, SextantError, type MetricKind } from '@sextant/plugin-api';
import { join } from 'node:path';
import {
  listPetshopScenarios,
  readPetshopGraph,
  readPetshopMetrics,
  readPetshopTarget,
  type PetshopGraph,
  type PetshopIssueRef,
  type PetshopMetrics,
  type PetshopTarget,
} from './petshop-reader.js';

/**
 * The ranker input as built here. It is the shape of `RcaInput` in @sextant/analysis
 * (core/analysis/src/rca/types.ts), declared structurally so that this package needs only the
 * ranker function, not the analysis package's internal files.
 */
export interface RankerInput {
  readonly entities: readonly string[];
  readonly edges: Uint32Array;
  readonly timestamps: Float64Array;
  readonly series: readonly {
    readonly entity: number;
    readonly metric: string;
    readonly kind: MetricKind;
    readonly statistic?: string;
    readonly values: Float64Array;
    readonly reference?: Float64Array;
  }[];
  readonly target: { readonly entity: number; readonly kind: MetricKind; readonly timestamp: number };
}

/** A ranked cause as the evaluation needs it. */
export interface RankerCause {
  readonly entity: string;
  readonly score: number;
  readonly evidence: readonly string[];
}

export type RootCauseRanker = (input: RankerInput) => readonly RankerCause[];

export interface RcaProgress {
  readonly done: number;
  readonly total: number;
  readonly issue: string;
}

export interface RcaEvaluationOptions {
  /** Folder in the PetShop layout (`<scenario>/graph.csv`, `<scenario>/<split>/issue_N/...`). */
  readonly dataDir: string;
  readonly onProgress?: (progress: RcaProgress) => void;
  /** The ranker; defaults to `rankRootCauses` of @sextant/analysis. */
  readonly rank?: RootCauseRanker;
  /** Ignore noissue/metrics.csv, as if a scenario had none (tests the issue-file-only fallback). */
  readonly ignoreNoissue?: boolean;
  /**
   * Use the other issues of the same scenario as unlabeled history (default true): their
   * metrics.csv rows outside their own incident windows join the normal-operation reference.
   * Only metrics and target times are read from them, never their root cause.
   */
  readonly otherIssuesAsHistory?: boolean;
  /** Incident window left out of each issue's history rows, before and after its target time (ms). */
  readonly historyWindowBeforeMs?: number;
  readonly historyWindowAfterMs?: number;
}

export interface RcaRow {
  readonly scenario: string;
  readonly metric: string;
  readonly split: string;
  /** Issues ranked (failed issues are not counted). */
  readonly issues: number;
  readonly top1: number;
  readonly top3: number;
}

export interface RcaIssueResult {
  readonly scenario: string;
  readonly split: string;
  readonly issue: string;
  readonly metric: string;
  readonly rootCause: string;
  /** 1-based rank of the recorded root cause; 0 when it was not ranked at all. */
  readonly rank: number;
  readonly top: readonly RankerCause[];
}

export interface RcaFailure {
  readonly issue: string;
  readonly error: string;
}

export interface RcaEvaluationResult {
  readonly rows: readonly RcaRow[];
  readonly overall: { readonly top1: number; readonly top3: number; readonly issues: number };
  readonly issues: readonly RcaIssueResult[];
  readonly failures: readonly RcaFailure[];
  /** Scenarios that had no noissue/metrics.csv (or ignoreNoissue): ranked from the issue files alone. */
  readonly withoutReference: readonly string[];
}

/** PetShop metric names -> metric kinds of the data model. */
export function petshopMetricKind(metric: string): MetricKind {
  switch (metric.toLowerCase()) {
    case 'latency':
      return 'latency';
    case 'availability':
      return 'availability';
    case 'requests':
      return 'throughput';
    default:
      return 'generic';
  }
}

async function loadDefaultRanker(): Promise<RootCauseRanker> {
  const mod = (await import('@sextant/analysis')) as Record<string, unknown>;
  const rank = mod.rankRootCauses;
  if (typeof rank !== 'function') {
    throw new SextantError(ErrorCode.INTERNAL, '@sextant/analysis does not export rankRootCauses', {
      hint: "add `export * from './rca/index.js'` to core/analysis/src/index.ts, or pass `rank` to runRcaEvaluation",
    });
  }
  return rank as RootCauseRanker;
}

/** Default incident window left out of the history rows: 5 min before to 15 min after the target. */
const HISTORY_WINDOW_BEFORE_MS = 5 * 60_000;
const HISTORY_WINDOW_AFTER_MS = 15 * 60_000;
/** Fewest finite history values of a column from the other issues before noissue/ is used instead. */
const MIN_RECENT_HISTORY_VALUES = 10;

const columnKey = (component: string, metric: string, statistic: string): string => `${component}\u0000${metric}\u0000${statistic}`;

/**
 * Where the normal-operation reference of a series comes from, looked up by
 * (component, metric, statistic). Returns undefined when there is none.
 */
export type ReferenceLookup = (component: string, metric: string, statistic: string) => Float64Array | undefined;

/** A lookup over one metrics file (noissue/metrics.csv). */
export function referenceFromMetrics(reference: PetshopMetrics | undefined): ReferenceLookup {
  const columns = new Map<string, Float64Array>();
  if (reference) {
    reference.components.forEach((c, i) => columns.set(columnKey(c, reference.metrics[i], reference.statistics[i]), reference.columns[i]));
  }
  return (component, metric, statistic) => columns.get(columnKey(component, metric, statistic));
}

/** Builds the ranker input for one issue. Throws a SextantError naming the file when the target is unknown. */
export function buildPetshopRankerInput(
  graph: PetshopGraph,
  reference: PetshopMetrics | ReferenceLookup | undefined,
  issue: PetshopMetrics,
  target: { node: string; metric: string; timestamp: number },
  targetFile: string,
): RankerInput {
  const entities = [...graph.names];
  const index = new Map(entities.map((n, i) => [n, i]));
  const entityOf = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) {
      i = entities.length;
      entities.push(name);
      index.set(name, i);
    }
    return i;
  };
  const lookup = typeof reference === 'function' ? reference : referenceFromMetrics(reference);
  const series = issue.components.map((component, i) => ({
    entity: entityOf(component),
    metric: issue.metrics[i],
    kind: petshopMetricKind(issue.metrics[i]),
    statistic: issue.statistics[i],
    values: issue.columns[i],
    reference: lookup(component, issue.metrics[i], issue.statistics[i]),
  }));
  const targetEntity = index.get(target.node);
  if (targetEntity === undefined) {
    throw new SextantError(ErrorCode.PARSE_FAILED, `${targetFile}: target node "${target.node}" is neither in graph.csv nor in metrics.csv`, {
      hint: 'target.node must name a component of the scenario',
    });
  }
  return {
    entities,
    edges: graph.edges,
    timestamps: issue.timestamps,
    series,
    target: { entity: targetEntity, kind: petshopMetricKind(target.metric), timestamp: target.timestamp },
  };
}

/** One issue read from disk, before ranking. */
interface LoadedIssue {
  readonly label: string;
  readonly ref: PetshopIssueRef;
  readonly targetFile: string;
  readonly target: PetshopTarget;
  readonly metrics: PetshopMetrics;
}

/**
 * The other issues of a scenario as unlabeled history: per column, the rows of every issue that lie
 * outside that issue's own incident window (from `windowBeforeMs` before its target time to
 * `windowAfterMs` after it). Only metrics.csv and the target time are used, never the root cause:
 * this is what an operator's monitoring history holds.
 */
export class IssueHistoryPool {
  /** column key -> per issue the kept rows (NaN-free is not required; the ranker skips NaN). */
  private readonly columns = new Map<string, { owner: number; values: Float64Array }[]>();

  constructor(issues: readonly { metrics: PetshopMetrics; targetTimestamp: number }[], windowBeforeMs: number, windowAfterMs: number) {
    issues.forEach(({ metrics, targetTimestamp }, owner) => {
      const keep: number[] = [];
      metrics.timestamps.forEach((t, r) => {
        if (t < targetTimestamp - windowBeforeMs || t > targetTimestamp + windowAfterMs) keep.push(r);
      });
      if (keep.length === 0) return;
      metrics.components.forEach((c, i) => {
        const key = columnKey(c, metrics.metrics[i], metrics.statistics[i]);
        const column = metrics.columns[i];
        const values = Float64Array.from(keep, (r) => column[r]);
        const list = this.columns.get(key) ?? [];
        list.push({ owner, values });
        this.columns.set(key, list);
      });
    });
  }

  /**
   * Rows of every issue except `exclude`. History from the same period as the incident is
   * preferred; `older` (e.g. noissue/, recorded at another time) is used for a column only when
   * the pool holds fewer than `minRecentValues` finite values of it.
   */
  lookup(exclude: number, older: ReferenceLookup, minRecentValues = MIN_RECENT_HISTORY_VALUES): ReferenceLookup {
    return (component, metric, statistic) => {
      const parts = (this.columns.get(columnKey(component, metric, statistic)) ?? []).filter((p) => p.owner !== exclude);
      const length = parts.reduce((sum, p) => sum + p.values.length, 0);
      const out = new Float64Array(length);
      let at = 0;
      let finite = 0;
      for (const p of parts) {
        out.set(p.values, at);
        at += p.values.length;
        for (const v of p.values) if (Number.isFinite(v)) finite++;
      }
      return finite >= minRecentValues ? out : (older(component, metric, statistic) ?? (length > 0 ? out : undefined));
    };
  }
}

/** Runs the evaluation. Rows are sorted by scenario, metric, split. */
export async function runRcaEvaluation(options: RcaEvaluationOptions): Promise<RcaEvaluationResult> {
  const rank = options.rank ?? (await loadDefaultRanker());
  const useOtherIssues = options.otherIssuesAsHistory ?? true;
  const scenarios = listPetshopScenarios(options.dataDir);
  const total = scenarios.reduce((sum, s) => sum + s.issues.length, 0);
  const results: RcaIssueResult[] = [];
  const failures: RcaFailure[] = [];
  const withoutReference: string[] = [];
  let done = 0;
  const progress = (label: string): void => {
    done++;
    options.onProgress?.({ done, total, issue: label });
  };

  for (const scenario of scenarios) {
    let graph: PetshopGraph | undefined;
    let noissue: PetshopMetrics | undefined;
    let scenarioError: string | undefined;
    try {
      graph = readPetshopGraph(join(scenario.dir, 'graph.csv'));
      if (scenario.noissueFile && !options.ignoreNoissue) noissue = readPetshopMetrics(scenario.noissueFile);
    } catch (error) {
      // A broken noissue file only costs the reference; a broken graph costs the scenario.
      if (graph) {
        failures.push({ issue: `${scenario.name}/noissue`, error: formatError(error) });
      } else scenarioError = formatError(error);
    }
    if (!noissue) withoutReference.push(scenario.name);

    // Read every issue first: the readable ones are each other's unlabeled history.
    const loaded: LoadedIssue[] = [];
    for (const ref of scenario.issues) {
      const label = `${ref.scenario}/${ref.split}/${ref.issue}`;
      try {
        if (!graph) throw new Error(scenarioError ?? 'graph.csv unreadable');
        const targetFile = join(ref.dir, 'target.json');
        const target = readPetshopTarget(targetFile);
        if (!target.rootCause) {
          throw new SextantError(ErrorCode.PARSE_FAILED, `${targetFile}: root_cause.node is missing`, { hint: 'an evaluation issue needs its recorded root cause' });
        }
        const metrics = readPetshopMetrics(join(ref.dir, 'metrics.csv'));
        loaded.push({ label, ref, targetFile, target, metrics });
      } catch (error) {
        failures.push({ issue: label, error: formatError(error) });
        progress(label);
      }
    }
    const noissueLookup = referenceFromMetrics(noissue);
    const pool = useOtherIssues
      ? new IssueHistoryPool(
          loaded.map((l) => ({ metrics: l.metrics, targetTimestamp: l.target.timestamp })),
          options.historyWindowBeforeMs ?? HISTORY_WINDOW_BEFORE_MS,
          options.historyWindowAfterMs ?? HISTORY_WINDOW_AFTER_MS,
        )
      : undefined;

    loaded.forEach((issue, i) => {
      try {
        const lookup = pool ? pool.lookup(i, noissueLookup) : noissueLookup;
        const input = buildPetshopRankerInput(graph!, lookup, issue.metrics, issue.target, issue.targetFile);
        const ranked = rank(input);
        const position = ranked.findIndex((c) => c.entity === issue.target.rootCause);
        results.push({
          scenario: issue.ref.scenario,
          split: issue.ref.split,
          issue: issue.ref.issue,
          metric: issue.target.metric,
          rootCause: issue.target.rootCause!,
          rank: position + 1,
          top: ranked.slice(0, 3),
        });
      } catch (error) {
        failures.push({ issue: issue.label, error: formatError(error) });
      }
      progress(issue.label);
    });
  }

  const groups = new Map<string, RcaIssueResult[]>();
  for (const r of results) {
    const key = `${r.scenario}\u0000${r.metric}\u0000${r.split}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const rows: RcaRow[] = [...groups.values()].map((list) => ({
    scenario: list[0].scenario,
    metric: list[0].metric,
    split: list[0].split,
    ...accuracy(list),
  }));
  rows.sort((a, b) => a.scenario.localeCompare(b.scenario) || a.metric.localeCompare(b.metric) || a.split.localeCompare(b.split));
  return { rows, overall: accuracy(results), issues: results, failures, withoutReference };
}

function accuracy(list: readonly RcaIssueResult[]): { issues: number; top1: number; top3: number } {
  if (list.length === 0) return { issues: 0, top1: 0, top3: 0 };
  const top1 = list.filter((r) => r.rank === 1).length / list.length;
  const top3 = list.filter((r) => r.rank >= 1 && r.rank <= 3).length / list.length;
  return { issues: list.length, top1, top3 };
}
