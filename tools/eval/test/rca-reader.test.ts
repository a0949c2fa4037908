import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rankRootCauses } from '../../../core/analysis/src/rca/index.js';
import { formatRcaReport, IssueHistoryPool, parseGraphCsv, parseMetricsCsv, referenceFromMetrics, runRcaEvaluation, toRcaJson } from '../src/rca/index.js';

// A tiny scenario in the PetShop layout, under a name the evaluation has never seen, without noissue/:
// fe -> api -> db, fe -> cache. The root cause is db in every good issue.
const NAMES = ['fe', 'api', 'db', 'cache'];
const GRAPH = [',' + NAMES.join(','), 'fe,0,1,0,1', 'api,0,0,1,0', 'db,0,0,0,0', 'cache,0,0,0,0'].join('\n');
const T0 = 1_681_855_320;

function metricsCsv(slowFrom: number, override?: (row: string[], r: number) => void): string {
  const cols = NAMES.flatMap((n) => [[n, 'latency', 'Average'], [n, 'requests', 'Sum']]);
  const lines = [
    ['microservice', ...cols.map((c) => c[0])],
    ['metric', ...cols.map((c) => c[1])],
    ['statistic', ...cols.map((c) => c[2])],
    ['unix_timestamp', ...cols.map(() => '')],
  ].map((r) => r.join(','));
  const base: Record<string, number> = { fe: 0.1, api: 0.05, db: 0.01, cache: 0.002 };
  const factor: Record<string, number> = { fe: 3, api: 5, db: 20, cache: 1 };
  for (let r = 0; r < 8; r++) {
    const row = [String(T0 + r * 300)];
    for (const [n, m] of cols) {
      const wobble = 1 + 0.03 * Math.sin(r * 1.7 + n.length);
      row.push(m === 'requests' ? String(100 + r) : String(base[n] * wobble * (r >= slowFrom ? factor[n] : 1)));
    }
    override?.(row, r);
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

const target = (ts: number): string => JSON.stringify({ target: { node: 'fe', metric: 'latency', agg: 'Average', timestamp: ts }, root_cause: { node: 'db', metric: null } });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sextant-rca-'));
  const scenario = join(dir, 'canary_blue');
  mkdirSync(scenario);
  writeFileSync(join(scenario, 'graph.csv'), GRAPH);
  const issue = (split: string, name: string, files: Record<string, string>): void => {
    const d = join(scenario, split, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  };
  issue('holdout', 'issue_0', { 'metrics.csv': metricsCsv(5), 'target.json': target(T0 + 5 * 300 + 60) });
  issue('holdout', 'issue_1', { 'metrics.csv': metricsCsv(4, (row, r) => r === 6 && (row[2] = 'NaN')), 'target.json': target(T0 + 4 * 300 + 60) });
  issue('holdout', 'issue_2', { 'metrics.csv': metricsCsv(5).replace('metric,', 'metrics,'), 'target.json': target(T0 + 5 * 300) });
  issue('holdout', 'issue_3', { 'metrics.csv': metricsCsv(5, (row, r) => r === 3 && (row[3] = 'abc')), 'target.json': target(T0 + 5 * 300) });
  issue('holdout', 'issue_4', { 'metrics.csv': metricsCsv(5) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PetShop-layout reader and rca evaluation', () => {
  it('reads a scenario it has never seen, without noissue/, and ranks from the issue files alone', async () => {
    const progress: string[] = [];
    const result = await runRcaEvaluation({ dataDir: dir, rank: rankRootCauses, onProgress: (p) => progress.push(`${p.done}/${p.total}`) });
    expect(result.withoutReference).toEqual(['canary_blue']);
    expect(result.rows).toEqual([{ scenario: 'canary_blue', metric: 'latency', split: 'holdout', issues: 2, top1: 1, top3: 1 }]);
    expect(progress).toEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
    expect(JSON.parse(JSON.stringify(toRcaJson(result))).rows[0]).toEqual({ scenario: 'canary_blue', metric: 'latency', split: 'holdout', issues: 2, top1: 1, top3: 1 });
  });

  it('reports malformed issues with an error naming the file, counts them, and keeps going', async () => {
    const result = await runRcaEvaluation({ dataDir: dir, rank: rankRootCauses });
    expect(result.failures.map((f) => f.issue)).toEqual(['canary_blue/holdout/issue_2', 'canary_blue/holdout/issue_3', 'canary_blue/holdout/issue_4']);
    const [header, cell, missing] = result.failures.map((f) => f.error);
    expect(header).toMatch(/SEXTANT_ERR_PARSE_FAILED: .*issue_2\/metrics\.csv: header rows 2 and 3 start with "metrics"/);
    expect(cell).toMatch(/issue_3\/metrics\.csv: row 8 column 4 \(api latency\) is "abc", not a number/);
    expect(missing).toMatch(/issue_4\/target\.json: cannot be read/);
    const report = formatRcaReport(result);
    expect(report).toContain('3 issue(s) skipped');
    expect(report).toContain('ranked without noissue reference (issue files only): canary_blue');
  });

  it('reads the adjacency matrix as row calls column', () => {
    const graph = parseGraphCsv(GRAPH);
    const edges = [];
    for (let i = 0; i < graph.edges.length; i += 2) edges.push(`${graph.names[graph.edges[i]]}->${graph.names[graph.edges[i + 1]]}`);
    expect(edges).toEqual(['fe->api', 'fe->cache', 'api->db']);
    expect(() => parseGraphCsv(',a,b\na,0,x\nb,0,0', 'g.csv')).toThrow(/g\.csv: row 2 column 3 is "x", not a number/);
  });

  it('turns empty and NaN cells into gaps and timestamps into milliseconds', () => {
    const m = parseMetricsCsv('microservice,a,b\nmetric,latency,latency\nstatistic,p90,p90\nts,,\n10,1,\n20,NaN,2\n');
    expect(Array.from(m.timestamps)).toEqual([10_000, 20_000]);
    expect(Array.from(m.columns[0])).toEqual([1, Number.NaN]);
    expect(Array.from(m.columns[1])).toEqual([Number.NaN, 2]);
    expect(() => parseMetricsCsv('microservice,a\nmetric,latency\n', 'm.csv')).toThrow(/m\.csv: has 2 rows, expected four header rows/);
  });

  it('refuses a data folder without scenarios with a hint', async () => {
    await expect(runRcaEvaluation({ dataDir: join(dir, 'canary_blue', 'holdout'), rank: rankRootCauses })).rejects.toThrow(/no scenario in/);
  });

  it('builds history from the other issues only, without their incident windows, and prefers it to older data', () => {
    const metrics = (t0: number, values: number[]) =>
      parseMetricsCsv(['microservice,a', 'metric,latency', 'statistic,p90', 'ts,', ...values.map((v, r) => `${t0 + r * 300},${v}`)].join('\n'));
    // Three issues of five rows; the target is at row 2, so rows 1..4 (5 min before to 15 min after) are the incident.
    const issues = [metrics(1000, [1, 10, 10, 10, 10]), metrics(5000, [2, 20, 20, 20, 20]), metrics(9000, [3, 30, 30, 30, 30])].map((m, i) => ({
      metrics: m,
      targetTimestamp: (1000 + 4000 * i + 600) * 1000,
    }));
    const pool = new IssueHistoryPool(issues, 5 * 60_000, 15 * 60_000);
    const older = referenceFromMetrics(parseMetricsCsv('microservice,a\nmetric,latency\nstatistic,p90\nts,\n1,99\n'));
    expect(Array.from(pool.lookup(0, older, 1)('a', 'latency', 'p90') ?? [])).toEqual([2, 3]);
    expect(Array.from(pool.lookup(2, older, 1)('a', 'latency', 'p90') ?? [])).toEqual([1, 2]);
    // Too little recent history: the older reference is used instead.
    expect(Array.from(pool.lookup(0, older, 5)('a', 'latency', 'p90') ?? [])).toEqual([99]);
    expect(pool.lookup(0, older, 1)('b', 'latency', 'p90')).toBeUndefined();
  });
});
