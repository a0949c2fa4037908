/**
 * Reads a folder in the NAB layout:
 *
 *   <dir>/data/<category>/<name>.csv   columns `timestamp,value`, timestamps `YYYY-MM-DD HH:MM:SS` (UTC)
 *   <dir>/labels/windows.json          optional: `{ "<category>/<name>.csv": [["start", "end"], ...] }`
 *
 * Any category folder is accepted, known or not. Rows are kept exactly as written (the result files
 * repeat them); a value that is not a number becomes NaN and is left to the detector to count.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

export interface NabSeries {
  /** `<category>/<name>.csv`, the key used by windows.json. */
  readonly key: string;
  readonly category: string;
  /** File name without `.csv`. */
  readonly name: string;
  /** Raw timestamp text per row. */
  readonly timestampText: readonly string[];
  /** Raw value text per row. */
  readonly valueText: readonly string[];
  /** Milliseconds since the epoch (UTC); NaN when unparseable. */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export interface NabCorpus {
  readonly series: readonly NabSeries[];
  /** Label windows by key, as timestamps in ms; undefined when the folder has no labels. */
  readonly windows: ReadonlyMap<string, readonly (readonly [number, number])[]> | undefined;
}

/** Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` as UTC; NaN when it is not a timestamp. */
export function parseNabTimestamp(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(text.trim());
  if (!m) return Number.NaN;
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
}

/** Parses one NAB CSV file's text. The header line must name `timestamp` and `value`. */
export function parseNabCsv(text: string, key: string): Omit<NabSeries, 'key' | 'category' | 'name'> {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti < 0 || vi < 0) {
    throw new SextantError(ErrorCode.PARSE_FAILED, `${key}: the first line must be a header with "timestamp" and "value" (got "${lines[0] ?? ''}")`, {
      hint: 'NAB files start with the line "timestamp,value"',
    });
  }
  const timestampText: string[] = [];
  const valueText: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = line.split(',');
    timestampText.push((cells[ti] ?? '').trim());
    valueText.push((cells[vi] ?? '').trim());
  }
  const n = timestampText.length;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    timestamps[i] = parseNabTimestamp(timestampText[i]);
    values[i] = valueText[i] === '' ? Number.NaN : Number(valueText[i]);
  }
  return { timestampText, valueText, timestamps, values };
}

/** Reads every `<dir>/data/<category>/*.csv`, sorted by key, and the windows when present. */
export async function readNabCorpus(dir: string): Promise<NabCorpus> {
  const dataDir = join(dir, 'data');
  let categories: string[];
  try {
    categories = (await readdir(dataDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (error) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `cannot read NAB data folder ${dataDir}: ${(error as Error).message}`, {
      hint: 'pass --data <dir> where <dir>/data/<category>/<name>.csv exist (the NAB layout)',
      cause: error,
    });
  }
  const series: NabSeries[] = [];
  for (const category of categories) {
    const files = (await readdir(join(dataDir, category))).filter((f) => f.endsWith('.csv')).sort();
    for (const file of files) {
      const key = `${category}/${file}`;
      const parsed = parseNabCsv(await readFile(join(dataDir, category, file), 'utf8'), key);
      series.push({ key, category, name: file.slice(0, -4), ...parsed });
    }
  }
  return { series, windows: await readWindows(join(dir, 'labels', 'windows.json')) };
}

async function readWindows(path: string): Promise<NabCorpus['windows']> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SextantError(ErrorCode.PARSE_FAILED, `${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SextantError(ErrorCode.PARSE_FAILED, `${path} must map "<category>/<name>.csv" to a list of [start, end] windows`);
  }
  const windows = new Map<string, (readonly [number, number])[]>();
  for (const [key, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new SextantError(ErrorCode.PARSE_FAILED, `${path}: "${key}" must be a list of [start, end] windows`);
    windows.set(
      key,
      list.map((pair, i) => {
        const start = Array.isArray(pair) ? parseNabTimestamp(String(pair[0])) : Number.NaN;
        const end = Array.isArray(pair) ? parseNabTimestamp(String(pair[1])) : Number.NaN;
        if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) {
          throw new SextantError(ErrorCode.PARSE_FAILED, `${path}: "${key}"[${i}] must be ["YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD HH:MM:SS"] with start <= end`);
        }
        return [start, end] as const;
      }),
    );
  }
  return windows;
}

/**
 * Converts time windows to inclusive row-index windows: L is the first row at or after the start,
 * R the last row at or before the end. Windows that contain no row are dropped.
 */
export function windowsToRows(timestamps: Float64Array, windows: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  for (const [start, end] of [...windows].sort((a, b) => a[0] - b[0])) {
    let l = -1;
    let r = -1;
    for (let i = 0; i < timestamps.length; i++) {
      const t = timestamps[i];
      if (t >= start && t <= end) {
        if (l < 0) l = i;
        r = i;
      }
    }
    if (l >= 0) out.push([l, r]);
  }
  return out;
}
