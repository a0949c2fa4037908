/**
 * Parameter studies under cross-validation (`sextant eval nab --study ablation|sensitivity`).
 *
 * Every figure here is leave-one-category-out (see cross-validation.ts), so a choice made from it is
 * not a choice fitted to the series it is judged on:
 * - a **candidate** is the production detector with some model parameters overridden;
 * - `thresholdCv`: the candidate as it is, only the threshold chosen inside the loop (the figure of
 *   a parameter value fixed a priori);
 * - `nestedCrossValidation`: the parameter value AND the threshold chosen inside the loop: for each
 *   held-out category, the candidate with the best standard score on the other categories (smoothed
 *   over its neighbours in the sweep, so the middle of a plateau wins over a lone peak), then that
 *   candidate's threshold from the same categories; the held-out category is scored at both.
 */
import type { BaselineParams } from '@sextant/analysis';
import { crossValidateByCategory } from './cross-validation.js';
import { sextantDetectorWith, type NabDetector } from './detectors.js';
import { readNabCorpus, windowsToRows, type NabCorpus } from './reader.js';
import { NAB_PROFILES, scoreNab, scoreNabAtThreshold, type ScoredFile } from './scorer.js';

const STANDARD = NAB_PROFILES[0];

export interface Candidate {
  readonly label: string;
  readonly params: Partial<BaselineParams>;
}

export interface CandidateScores {
  readonly label: string;
  readonly files: readonly ScoredFile[];
  /** Rows per second through the detector (wall time of this process, one core). */
  readonly rowsPerSec: number;
}

/** Runs one detector over every file of a corpus in memory (no result files). */
export function scoreCorpus(corpus: NabCorpus, detector: NabDetector): { files: ScoredFile[]; rows: number; detectorMs: number } {
  const files: ScoredFile[] = [];
  let rows = 0;
  let detectorMs = 0;
  for (const series of corpus.series) {
    const n = series.values.length;
    const scores = new Float64Array(n);
    const score = detector.create();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = score(series.timestamps[i], series.values[i]);
      scores[i] = s >= 0 ? (s <= 1 ? s : 1) : 0;
    }
    detectorMs += performance.now() - t0;
    rows += n;
    files.push({ key: series.key, category: series.category, scores, windows: corpus.windows ? windowsToRows(series.timestamps, corpus.windows.get(series.key) ?? []) : [] });
  }
  return { files, rows, detectorMs };
}

export function scoreCandidate(corpus: NabCorpus, candidate: Candidate): CandidateScores {
  const r = scoreCorpus(corpus, sextantDetectorWith(candidate.params, candidate.label));
  return { label: candidate.label, files: r.files, rowsPerSec: r.detectorMs > 0 ? Math.round(r.rows / (r.detectorMs / 1000)) : 0 };
}

export interface CandidateFigures {
  readonly label: string;
  /** Standard profile, threshold chosen on all files (in-sample). */
  readonly inSample: number;
  /** Standard profile, leave-one-category-out with the threshold chosen inside the loop. */
  readonly cvMean: number;
  readonly cvWorst: number;
  readonly cvThreshold: number;
  readonly rowsPerSec: number;
}

export function figuresOf(c: CandidateScores): CandidateFigures {
  const cv = crossValidateByCategory(c.files).standard;
  return { label: c.label, inSample: scoreNab(c.files).standard.score, cvMean: cv.mean, cvWorst: cv.worst, cvThreshold: cv.threshold, rowsPerSec: c.rowsPerSec };
}

export interface NestedFold {
  readonly category: string;
  /** Candidate chosen on the other categories. */
  readonly chosen: string;
  readonly threshold: number;
  /** Held-out standard score (null for a category without windows). */
  readonly score: number | null;
}

export interface NestedCrossValidation {
  readonly folds: readonly NestedFold[];
  readonly mean: number;
  readonly worst: number;
}

/**
 * Nested leave-one-category-out: candidate and threshold both chosen without the held-out category.
 * `ordered`: the candidates are the steps of one sweep, in order; the inner choice then takes the
 * best mean over each candidate and its two neighbours (plateau, not peak).
 */
export function nestedCrossValidation(candidates: readonly CandidateScores[], ordered: boolean): NestedCrossValidation {
  const categories = [...new Set(candidates[0].files.map((f) => f.category))].sort();
  const folds: NestedFold[] = categories.map((category) => {
    const inner = candidates.map((c) => scoreNab(c.files.filter((f) => f.category !== category)).standard);
    const smoothed = inner.map((r, i) => {
      if (!ordered) return r.score;
      const around = [inner[i - 1], r, inner[i + 1]].filter((x) => x !== undefined);
      return around.reduce((a, x) => a + x.score, 0) / around.length;
    });
    let best = 0;
    for (let i = 1; i < smoothed.length; i++) if (smoothed[i] > smoothed[best] + 1e-9) best = i;
    const held = candidates[best].files.filter((f) => f.category === category);
    const r = scoreNabAtThreshold(held, STANDARD, inner[best].threshold);
    return { category, chosen: candidates[best].label, threshold: inner[best].threshold, score: r.perCategory[category].score };
  });
  const scored = folds.filter((f) => f.score !== null).map((f) => f.score!);
  return { folds, mean: scored.reduce((a, b) => a + b, 0) / scored.length, worst: Math.min(...scored) };
}

export interface SweepResult {
  readonly parameter: keyof BaselineParams;
  readonly rows: readonly (CandidateFigures & { readonly value: number })[];
  readonly nested: NestedCrossValidation;
}

/** Sensitivity of one parameter: figures per value, and the nested CV that chooses the value. */
export function sweepParameter(corpus: NabCorpus, parameter: keyof BaselineParams, values: readonly number[], base: Partial<BaselineParams> = {}): SweepResult {
  const scored = values.map((value) => scoreCandidate(corpus, { label: `${parameter}=${value}`, params: { ...base, [parameter]: value } }));
  return { parameter, rows: scored.map((s, i) => ({ ...figuresOf(s), value: values[i] })), nested: nestedCrossValidation(scored, true) };
}



/** One parameter of a nested search and the values tried, in order. */
export interface SweepSpec {
  readonly parameter: keyof BaselineParams;
  readonly values: readonly number[];
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The tunable parameters and the values swept: the default and a step either side (times x0.75 or
 * x0.5 and x1.5; counts and levels one step). Every entry of BaselineParams that moves the score.
 */
export const DEFAULT_SWEEPS: readonly SweepSpec[] = [
  { parameter: 'adaptTauMs', values: [3 * HOUR, 4 * HOUR, 6 * HOUR] },
  { parameter: 'contextLevels', values: [8, 10, 12] },
  { parameter: 'contextDistance', values: [1.5, 2, 3] },
  { parameter: 'repeatMargin', values: [0.05, 0.1, 0.15] },
  { parameter: 'surpriseHalfLifeMs', values: [20 * DAY, 35 * DAY, 60 * DAY] },
  { parameter: 'quietMs', values: [6 * HOUR, 12 * HOUR, 24 * HOUR] },
  { parameter: 'varianceRatio', values: [1.6, 1.9, 2.3] },
  { parameter: 'shapeScore', values: [0.3, 0.45, 0.6] },
  { parameter: 'seasonGain', values: [0.05, 0.075, 0.1] },
  { parameter: 'excursionZ', values: [5, 6, 8] },
];

/** Each signal switched off (or each mechanism removed), one at a time. */
export const ABLATIONS: readonly Candidate[] = [
  { label: 'production', params: {} },
  { label: 'context novelty off (contextScore 0)', params: { contextScore: 0 } },
  { label: 'shape novelty off (shapeScore 0)', params: { shapeScore: 0 } },
  { label: 'variance change off (varianceRatio 0)', params: { varianceRatio: 0 } },
  { label: 'seasonal candidates off (seasonGain 1)', params: { seasonGain: 1 } },
  { label: 'repeat-surprise memory off (repeatMargin 0, half-life 1 min)', params: { repeatMargin: 0, surpriseHalfLifeMs: 60_000 } },
  { label: 'level-shift confirmation off (excursionZ 1e9)', params: { excursionZ: 1e9 } },
  { label: 'drift report off (driftZ 1e9)', params: { driftZ: 1e9 } },
  { label: 'one alarm per episode off (quietMs 0)', params: { quietMs: 0 } },
];

/** Scores candidates once each (memoised on the full parameter set). */
export class CandidateCache {
  private readonly cache = new Map<string, CandidateScores>();
  runs = 0;
  constructor(
    private readonly corpus: NabCorpus,
    private readonly defaults: BaselineParams,
  ) {}
  defaultsOf(parameter: keyof BaselineParams): number {
    return this.defaults[parameter];
  }
  get(params: Partial<BaselineParams>, label = JSON.stringify(params)): CandidateScores {
    const full = { ...this.defaults, ...params };
    const key = JSON.stringify(Object.keys(full).sort().map((k) => full[k as keyof BaselineParams]));
    let hit = this.cache.get(key);
    if (!hit) {
      this.runs++;
      hit = scoreCandidate(this.corpus, { label, params });
      this.cache.set(key, hit);
    }
    return { ...hit, label };
  }
}

export interface NestedSearchFold extends NestedFold {
  /** The values chosen on the other categories that differ from the defaults. */
  readonly values: Readonly<Partial<BaselineParams>>;
}

/** Where a search gets its candidates from (a {@link CandidateCache}). */
export interface CandidateSource {
  get(params: Partial<BaselineParams>): CandidateScores;
  defaultsOf(parameter: keyof BaselineParams): number;
}

export interface NestedSearch {
  readonly folds: readonly NestedSearchFold[];
  readonly mean: number;
  readonly worst: number;
}

/**
 * Every swept parameter AND the threshold chosen inside the loop: for each held-out category, one
 * pass of coordinate search over `sweeps` in order, each value chosen by the standard score on the
 * other categories (with `plateau`, the mean over it and its neighbours in the sweep; without, its
 * own score, the textbook inner choice; with `margin`, a value other than the default must beat it
 * by more than `margin` points, a parsimony rule against chasing noise), then the threshold on the same
 * categories; the held-out category is scored at the result. The honest figure for the whole
 * tuning procedure, not for one parameter set.
 */
export function nestedCoordinateSearch(cache: CandidateSource, sweeps: readonly SweepSpec[], categories: readonly string[], plateau = true, margin = 0): NestedSearch {
  const folds: NestedSearchFold[] = categories.map((category) => {
    let chosen: Partial<BaselineParams> = {};
    for (const sweep of sweeps) {
      const inner = sweep.values.map((v) => scoreNab(cache.get({ ...chosen, [sweep.parameter]: v }).files.filter((f) => f.category !== category)).standard.score);
      const smoothed = inner.map((x, i) => {
        if (!plateau) return x;
        const around = [inner[i - 1], x, inner[i + 1]].filter((y) => y !== undefined);
        return around.reduce((a, y) => a + y, 0) / around.length;
      });
      // Ties keep the default; with a margin, another value must beat the default by more than it.
      const def = Math.max(0, sweep.values.indexOf(cache.defaultsOf(sweep.parameter)));
      let best = def;
      for (let i = 0; i < smoothed.length; i++) if (smoothed[i] > smoothed[best] + 1e-9) best = i;
      if (smoothed[best] <= smoothed[def] + margin) best = def;
      chosen = { ...chosen, [sweep.parameter]: sweep.values[best] };
    }
    const files = cache.get(chosen).files;
    const threshold = scoreNab(files.filter((f) => f.category !== category)).standard.threshold;
    const score = scoreNabAtThreshold(files.filter((f) => f.category === category), STANDARD, threshold).perCategory[category]?.score ?? null;
    const changed = Object.fromEntries(Object.entries(chosen).filter(([k, v]) => v !== cache.defaultsOf(k as keyof BaselineParams))) as Partial<BaselineParams>;
    return { category, chosen: JSON.stringify(changed), values: changed, threshold, score };
  });
  const scored = folds.filter((f) => f.score !== null).map((f) => f.score!);
  return { folds, mean: scored.reduce((a, b) => a + b, 0) / scored.length, worst: Math.min(...scored) };
}


export type NabStudyName = 'ablation' | 'sensitivity';

export interface NabStudyOptions {
  /** Folder in the NAB layout with labels. */
  readonly dataDir: string;
  readonly study: NabStudyName;
  /** sensitivity: also the nested search with the plateau-smoothed inner choice (about 40 more runs). */
  readonly plateau?: boolean;
  /** Called after each detector run over the corpus. */
  readonly onProgress?: (p: { readonly runs: number; readonly label: string }) => void;
}

export interface NabStudyResult {
  readonly study: NabStudyName;
  /** The production defaults: in-sample and threshold-only CV. */
  readonly production: CandidateFigures;
  /** ablation: each signal off, one at a time. */
  readonly ablation?: readonly CandidateFigures[];
  /** sensitivity: each tunable parameter swept with the others at their defaults. */
  readonly sweeps?: readonly { readonly parameter: keyof BaselineParams; readonly rows: readonly (CandidateFigures & { readonly value: number })[] }[];
  /** sensitivity: every swept parameter and the threshold chosen inside the loop (inner choice: best training score). */
  readonly nested?: NestedSearch;
  /** The same, a value other than the default chosen only when it beats the default by > 1 point on the other categories. */
  readonly nestedMargin?: NestedSearch;
  /** The same with the inner choice smoothed over neighbouring values (plateau-seeking). */
  readonly nestedPlateau?: NestedSearch;
  /** Detector runs over the whole corpus. */
  readonly runs: number;
}

export async function runNabStudy(options: NabStudyOptions): Promise<NabStudyResult> {
  const { DEFAULT_BASELINE_PARAMS } = await import('@sextant/analysis');
  const corpus = await readNabCorpus(options.dataDir);
  const cache = new CandidateCache(corpus, DEFAULT_BASELINE_PARAMS);
  const get = (params: Partial<BaselineParams>, label: string) => {
    const before = cache.runs;
    const c = cache.get(params, label);
    if (cache.runs !== before) options.onProgress?.({ runs: cache.runs, label });
    return c;
  };
  const production = figuresOf(get({}, 'production'));
  if (options.study === 'ablation') {
    return { study: 'ablation', production, ablation: ABLATIONS.map((a) => figuresOf(get(a.params, a.label))), runs: cache.runs };
  }
  const sweeps = DEFAULT_SWEEPS.map((sweep) => ({
    parameter: sweep.parameter,
    rows: sweep.values.map((value) => ({ ...figuresOf(get({ [sweep.parameter]: value }, `${sweep.parameter}=${value}`)), value })),
  }));
  const categories = [...new Set(corpus.series.map((s) => s.category))].sort();
  const source: CandidateSource = { defaultsOf: (p) => cache.defaultsOf(p), get: (params) => get(params, JSON.stringify(params)) };
  const nested = nestedCoordinateSearch(source, DEFAULT_SWEEPS, categories, false);
  const nestedMargin = nestedCoordinateSearch(source, DEFAULT_SWEEPS, categories, false, 1);
  const nestedPlateau = options.plateau ? nestedCoordinateSearch(source, DEFAULT_SWEEPS, categories, true) : undefined;
  return { study: 'sensitivity', production, sweeps, nested, nestedMargin, ...(nestedPlateau ? { nestedPlateau } : {}), runs: cache.runs };
}

const f1 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(1));

/** Markdown tables (the README's ablation and sensitivity tables are pasted from this). */
export function formatNabStudy(r: NabStudyResult): string {
  const out: string[] = [];
  const p = r.production;
  out.push(`production defaults: in-sample ${f1(p.inSample)}, CV mean ${f1(p.cvMean)}, CV worst ${f1(p.cvWorst)}, CV threshold ${p.cvThreshold.toPrecision(3)} (standard profile)`);
  out.push('');
  if (r.ablation) {
    out.push('| change | in-sample | CV mean | CV worst | rows/s (NAB replay, one core) |');
    out.push('|---|---|---|---|---|');
    for (const a of r.ablation) out.push(`| ${a.label} | ${f1(a.inSample)} | ${f1(a.cvMean)} | ${f1(a.cvWorst)} | ${a.rowsPerSec.toLocaleString('en-US')} |`);
  }
  if (r.sweeps) {
    out.push('| parameter | values | in-sample | CV mean | CV worst |');
    out.push('|---|---|---|---|---|');
    for (const s of r.sweeps) {
      const join = (g: (x: CandidateFigures) => string) => s.rows.map(g).join(' / ');
      out.push(`| \`${s.parameter}\` | ${s.rows.map((x) => fmtValue(s.parameter, x.value)).join(' / ')} | ${join((x) => f1(x.inSample))} | ${join((x) => f1(x.cvMean))} | ${join((x) => f1(x.cvWorst))} |`);
    }
  }
  for (const [name, nested] of [
    ['nested, inner choice = best training score', r.nested],
    ['nested, inner choice = the default unless another value beats it by > 1 point', r.nestedMargin],
    ['nested, inner choice smoothed over neighbouring values', r.nestedPlateau],
  ] as const) {
    if (!nested) continue;
    out.push('');
    out.push(`${name} (every swept parameter and the threshold chosen without the held-out category): mean ${f1(nested.mean)}, worst ${f1(nested.worst)}`);
    for (const f of nested.folds) out.push(`  ${f.category.padEnd(24)} ${f1(f.score).padStart(5)} at ${f.threshold.toPrecision(3)}  chosen ${Object.entries(f.values).map(([k, v]) => `${k}=${fmtValue(k as keyof BaselineParams, v as number)}`).join(' ') || '(the defaults)'}`);
  }
  out.push('');
  out.push(`${r.runs} detector runs over the corpus`);
  return out.join('\n');
}

function fmtValue(parameter: keyof BaselineParams, v: number): string {
  if (!parameter.endsWith('Ms')) return String(v);
  return v >= DAY && v % DAY === 0 ? `${v / DAY} d` : v >= HOUR ? `${+(v / HOUR).toFixed(2)} h` : `${v / 60_000} min`;
}
