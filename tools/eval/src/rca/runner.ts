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
  type PetshopMetrics,
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

const columnKey = (component: string, metric: string, statistic: string): string => `${component}\u0000${metric}\u0000${statistic}`;

/** Builds the ranker input for one issue. Throws a SextantError naming the file when the target is unknown. */
export function buildPetshopRankerInput(
  graph: PetshopGraph,
  reference: PetshopMetrics | undefined,
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
  const refColumns = new Map<string, Float64Array>();
  if (reference) {
    reference.components.forEach((c, i) => refColumns.set(columnKey(c, reference.metrics[i], reference.statistics[i]), reference.columns[i]));
  }
  const series = issue.components.map((component, i) => ({
    entity: entityOf(component),
    metric: issue.metrics[i],
    kind: petshopMetricKind(issue.metrics[i]),
    statistic: issue.statistics[i],
    values: issue.columns[i],
    reference: refColumns.get(columnKey(component, issue.metrics[i], issue.statistics[i])),
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

/** Runs the evaluation. Rows are sorted by scenario, metric, split. */
export async function runRcaEvaluation(options: RcaEvaluationOptions): Promise<RcaEvaluationResult> {
  const rank = options.rank ?? (await loadDefaultRanker());
  const scenarios = listPetshopScenarios(options.dataDir);
  const total = scenarios.reduce((sum, s) => sum + s.issues.length, 0);
  const results: RcaIssueResult[] = [];
  const failures: RcaFailure[] = [];
  const withoutReference: string[] = [];
  let done = 0;

  for (const scenario of scenarios) {
    let graph: PetshopGraph | undefined;
    let reference: PetshopMetrics | undefined;
    let scenarioError: string | undefined;
    try {
      graph = readPetshopGraph(join(scenario.dir, 'graph.csv'));
      if (scenario.noissueFile && !options.ignoreNoissue) reference = readPetshopMetrics(scenario.noissueFile);
    } catch (error) {
      // A broken noissue file only costs the reference; a broken graph costs the scenario.
      if (graph) {
        failures.push({ issue: `${scenario.name}/noissue`, error: formatError(error) });
      } else scenarioError = formatError(error);
    }
    if (!reference) withoutReference.push(scenario.name);
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
        const input = buildPetshopRankerInput(graph, reference, metrics, target, targetFile);
        const ranked = rank(input);
        const position = ranked.findIndex((c) => c.entity === target.rootCause);
        results.push({
          scenario: ref.scenario,
          split: ref.split,
          issue: ref.issue,
          metric: target.metric,
          rootCause: target.rootCause,
          rank: position + 1,
          top: ranked.slice(0, 3),
        });
      } catch (error) {
        failures.push({ issue: label, error: formatError(error) });
      }
      done++;
      options.onProgress?.({ done, total, issue: label });
    }
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
