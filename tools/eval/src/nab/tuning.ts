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


