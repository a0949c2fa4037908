/**
 * Human-readable table for `sextant eval rca`, with the dataset's published baseline beside each
 * row (`--json` prints `toRcaJson(result)` instead).
 */
import type { RcaEvaluationResult } from './runner.js';

export interface RcaBaselineRow {
  readonly scenario: string;
  readonly metric: string;
  readonly issues: number;
  readonly top1: number;
  readonly top3: number;
}

/**
 * The PetShop paper's graph-traversal baseline (MAD score >= 5), per scenario and target metric
 * over all issues of the scenario (train and test together).
 */
export const PETSHOP_PUBLISHED_BASELINE: readonly RcaBaselineRow[] = [
  { scenario: 'low_traffic', metric: 'latency', issues: 14, top1: 0.57, top3: 0.57 },
  { scenario: 'low_traffic', metric: 'availability', issues: 12, top1: 0.83, top3: 1.0 },
  { scenario: 'high_traffic', metric: 'latency', issues: 14, top1: 0.57, top3: 0.79 },
  { scenario: 'high_traffic', metric: 'availability', issues: 12, top1: 0.67, top3: 1.0 },
];

/** The machine-readable form: `{"rows":[{scenario, metric, split, issues, top1, top3}], ...}`. */
export function toRcaJson(result: RcaEvaluationResult): object {
  return { rows: result.rows, overall: result.overall, failures: result.failures, withoutReference: result.withoutReference };
}

const fixed = (v: number): string => v.toFixed(2);

export function formatRcaReport(result: RcaEvaluationResult): string {
  const header = ['scenario', 'metric', 'split', 'issues', 'top-1', 'top-3', 'baseline top-1/top-3'];
  const lines: string[][] = [header];
  for (const row of result.rows) {
    const base = PETSHOP_PUBLISHED_BASELINE.find((b) => b.scenario === row.scenario && b.metric === row.metric);
    const baseText = base ? `${fixed(base.top1)}/${fixed(base.top3)} (${base.issues} issues)` : '-';
    lines.push([row.scenario, row.metric, row.split, String(row.issues), fixed(row.top1), fixed(row.top3), baseText]);
  }
  lines.push(['overall', '', '', String(result.overall.issues), fixed(result.overall.top1), fixed(result.overall.top3), '']);
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  const render = (l: string[]): string => l.map((cell, c) => (c >= 3 && c <= 5 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const out = [render(lines[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1, -1).map(render), render(lines[lines.length - 1])];
  if (result.withoutReference.length > 0) {
    out.push('', `ranked without noissue reference (issue files only): ${result.withoutReference.join(', ')}`);
  }
  if (result.failures.length > 0) {
    out.push('', `${result.failures.length} issue(s) skipped:`);
    for (const f of result.failures) out.push(`  ${f.issue}: ${f.error}`);
  }
  return out.join('\n');
}
