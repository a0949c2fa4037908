/**
 * Reader for the PetShop root-cause layout (../shared/data/README.md):
 *
 *   <dataDir>/<scenario>/graph.csv                 adjacency matrix, names in the first row and column
 *   <dataDir>/<scenario>/noissue/metrics.csv       normal operation (optional)
 *   <dataDir>/<scenario>/<split>/issue_N/metrics.csv and target.json
 *
 * Any scenario and split folder names are accepted. Edge direction, checked on the data: a 1 in row
 * R, column C means R calls C (row PetSite has 1s in the columns of PetSearch, payforadoption,
 * petlistadoptions...; PetSearch has 1s for its DynamoDB table and S3). So rows are callers,
 * columns callees, which is the dependency direction `rankRootCauses` expects.
 *
 * metrics.csv: four header rows (component, metric, statistic, then a row whose first cell names
 * the timestamp column), then one row per step: unix seconds, then one value per column; empty
 * cells are gaps (NaN).
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/** A call graph: `edges` are pairs [caller, callee] of indices into `names`. */
export interface PetshopGraph {
  readonly names: readonly string[];
  readonly edges: Uint32Array;
}

/** One metrics.csv in columnar form. */
export interface PetshopMetrics {
  readonly components: readonly string[];
  readonly metrics: readonly string[];
  readonly statistics: readonly string[];
  /** Milliseconds since the Unix epoch, ascending. */
  readonly timestamps: Float64Array;
  /** One Float64Array per column (NaN = empty cell), aligned with timestamps. */
  readonly columns: readonly Float64Array[];
}

export interface PetshopTarget {
  readonly node: string;
  readonly metric: string;
  readonly agg: string | undefined;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** The recorded root cause; undefined when the file has none (then the issue cannot be scored). */
  readonly rootCause: string | undefined;
}

export interface PetshopIssueRef {
  readonly scenario: string;
  readonly split: string;
  readonly issue: string;
  readonly dir: string;
}

export interface PetshopScenarioRef {
  readonly name: string;
  readonly dir: string;
  /** Absent when the scenario has no noissue/metrics.csv. */
  readonly noissueFile: string | undefined;
  readonly issues: readonly PetshopIssueRef[];
}

function parseFailed(file: string, message: string, hint: string): SextantError {
  return new SextantError(ErrorCode.PARSE_FAILED, `${file}: ${message}`, { hint, details: { file } });
}

/** Splits CSV text into rows of cells; handles quoted cells with commas, doubled quotes and CRLF. */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      cell = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    if (row.length > 1 || row[0] !== '') rows.push(row);
  }
  return rows;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new SextantError(ErrorCode.PARSE_FAILED, `${file}: cannot be read (${(error as Error).message})`, {
      hint: 'check that the file exists and is readable',
      details: { file },
      cause: error,
    });
  }
}

/** Parses graph.csv text. Cells must be numbers; any non-zero value is an edge row -> column. */
export function parseGraphCsv(text: string, file = 'graph.csv'): PetshopGraph {
  const rows = parseCsvRows(text);
  if (rows.length < 2) throw parseFailed(file, 'has no rows after the header', 'write the adjacency matrix with names in the first row and column');
  const names = rows[0].slice(1).map((s) => s.trim());
  if (names.length === 0) throw parseFailed(file, 'header row has no component names', 'the first row must be "",name1,name2,...');
  const index = new Map(names.map((nm, i) => [nm, i]));
  const edges: number[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const from = index.get(row[0].trim());
    if (from === undefined) throw parseFailed(file, `row ${r + 1} names "${row[0]}", which is not in the header`, 'the first column must list the same names as the first row');
    if (row.length !== names.length + 1) throw parseFailed(file, `row ${r + 1} has ${row.length} cells, expected ${names.length + 1}`, 'every row needs one cell per component');
    for (let c = 1; c < row.length; c++) {
      const cellText = row[c].trim();
      const v = Number(cellText);
      if (cellText === '' || !Number.isFinite(v)) throw parseFailed(file, `row ${r + 1} column ${c + 1} is "${row[c]}", not a number`, 'use 1 for an edge and 0 for none');
      if (v !== 0) edges.push(from, c - 1);
    }
  }
  return { names, edges: Uint32Array.from(edges) };
}

/** Parses metrics.csv text (four header rows). Empty cells become NaN; other non-numbers are errors. */
export function parseMetricsCsv(text: string, file = 'metrics.csv'): PetshopMetrics {
  const rows = parseCsvRows(text);
  if (rows.length < 4) throw parseFailed(file, `has ${rows.length} rows, expected four header rows`, 'rows 1-3 are component, metric, statistic; row 4 names the timestamp column');
  const [components, metrics, statistics] = rows.slice(0, 3).map((r) => r.slice(1).map((s) => s.trim()));
  const width = components.length;
  if (width === 0) throw parseFailed(file, 'the component header row has no columns', 'the first row must be "microservice",name,name,...');
  if (rows[1][0].trim().toLowerCase() !== 'metric' || rows[2][0].trim().toLowerCase() !== 'statistic') {
    throw parseFailed(file, `header rows 2 and 3 start with "${rows[1][0]}" and "${rows[2][0]}", expected "metric" and "statistic"`, 'write the four header rows of the PetShop layout');
  }
  if (metrics.length !== width || statistics.length !== width) throw parseFailed(file, 'header rows have different lengths', 'every header row needs one cell per column');
  const dataRows = rows.slice(4);
  const timestamps = new Float64Array(dataRows.length);
  const columns = Array.from({ length: width }, () => new Float64Array(dataRows.length));
  dataRows.forEach((row, r) => {
    const line = r + 5;
    const t = Number(row[0]);
    if (row[0].trim() === '' || !Number.isFinite(t)) throw parseFailed(file, `row ${line} has timestamp "${row[0]}"`, 'the first column must be unix seconds');
    if (r > 0 && !(t * 1000 > timestamps[r - 1])) throw parseFailed(file, `row ${line} timestamp ${t} is not after the previous row`, 'sort rows by time and drop duplicates');
    timestamps[r] = t * 1000;
    if (row.length !== width + 1) throw parseFailed(file, `row ${line} has ${row.length} cells, expected ${width + 1}`, 'every row needs one cell per column');
    for (let c = 0; c < width; c++) {
      const cellText = row[c + 1].trim();
      if (cellText === '') {
        columns[c][r] = Number.NaN;
        continue;
      }
      const v = Number(cellText);
      if (Number.isNaN(v) && !/^nan$/i.test(cellText)) {
        throw parseFailed(file, `row ${line} column ${c + 2} (${components[c]} ${metrics[c]}) is "${cellText}", not a number`, 'leave the cell empty for a gap');
      }
      // NaN/Infinity written out are kept as gaps/values the ranker ignores; never a crash.
      columns[c][r] = Number.isFinite(v) ? v : Number.NaN;
    }
  });
  return { components, metrics, statistics, timestamps, columns };
}

/** Parses target.json text. */
export function parseTargetJson(text: string, file = 'target.json'): PetshopTarget {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw parseFailed(file, `is not valid JSON (${(error as Error).message})`, 'write {"target": {"node", "metric", "timestamp"}, "root_cause": {"node"}}');
  }
  const target = (doc as { target?: Record<string, unknown> } | null)?.target;
  if (!target || typeof target !== 'object') throw parseFailed(file, 'has no "target" object', 'add "target": {"node", "metric", "agg", "timestamp"}');
  const node = target.node;
  const metric = target.metric;
  const ts = target.timestamp;
  if (typeof node !== 'string' || node === '') throw parseFailed(file, 'target.node is missing', 'name the anomalous component in target.node');
  if (typeof metric !== 'string' || metric === '') throw parseFailed(file, 'target.metric is missing', 'use latency, availability or requests');
  if (typeof ts !== 'number' || !Number.isFinite(ts)) throw parseFailed(file, `target.timestamp is ${JSON.stringify(ts)}`, 'use unix seconds');
  const rc = (doc as { root_cause?: { node?: unknown } }).root_cause?.node;
  return {
    node,
    metric,
    agg: typeof target.agg === 'string' ? target.agg : undefined,
    timestamp: ts * 1000,
    rootCause: typeof rc === 'string' && rc !== '' ? rc : undefined,
  };
}

export function readPetshopGraph(file: string): PetshopGraph {
  return parseGraphCsv(readText(file), file);
}
export function readPetshopMetrics(file: string): PetshopMetrics {
  return parseMetricsCsv(readText(file), file);
}
export function readPetshopTarget(file: string): PetshopTarget {
  return parseTargetJson(readText(file), file);
}

function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/**
 * Lists scenarios (folders with a graph.csv) and their issues (any `<split>/<issue>` folder
 * except noissue). Issues are listed even when their files are broken; reading them reports that.
 */
export function listPetshopScenarios(dataDir: string): PetshopScenarioRef[] {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `data folder ${dataDir} does not exist`, {
      hint: 'pass --data with the folder that holds <scenario>/graph.csv, e.g. ../shared/data/petshop',
    });
  }
  const scenarios: PetshopScenarioRef[] = [];
  for (const name of subdirs(dataDir)) {
    const dir = join(dataDir, name);
    if (!existsSync(join(dir, 'graph.csv'))) continue;
    const noissue = join(dir, 'noissue', 'metrics.csv');
    const issues: PetshopIssueRef[] = [];
    for (const split of subdirs(dir)) {
      if (split === 'noissue') continue;
      for (const issue of subdirs(join(dir, split))) issues.push({ scenario: name, split, issue, dir: join(dir, split, issue) });
    }
    scenarios.push({ name, dir, noissueFile: existsSync(noissue) ? noissue : undefined, issues });
  }
  if (scenarios.length === 0) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `no scenario in ${dataDir} (no <scenario>/graph.csv found)`, {
      hint: 'point --data at the petshop folder, not at one scenario or issue',
    });
  }
  return scenarios;
}
