/**
 * `sextant eval nab`: feeds every file of a NAB-layout folder, row by row and with no look-ahead,
 * through a detector, writes `<out>/<detector>/<category>/<detector>_<name>.csv`
 * (`timestamp,value,anomaly_score`, one row per input row, in input order) and, when the folder has
 * labels, scores the result on the three NAB profiles with one corpus-wide threshold each.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crossValidateByCategory, type NabCrossValidation } from './cross-validation.js';
import { getNabDetector } from './detectors.js';
import { readNabCorpus, windowsToRows } from './reader.js';
import { NAB_PROFILES, falsePositiveWeight, probationRows, scoreNab, truePositiveWeight, type NabScoreResult, type ScoredFile } from './scorer.js';

export interface NabEvaluationOptions {
  /** Folder in the NAB layout (`<dataDir>/data/<category>/<name>.csv`, optional `labels/windows.json`). */
  readonly dataDir: string;
  /** Where result files go; created when missing. */
  readonly outDir: string;
  /** Registered detector name; default `sextant`. */
  readonly detector?: string;
  /**
   * `categories`: also score leave-one-category-out (each category at the threshold chosen on the
   * others); the result then carries `crossValidation`.
   */
  readonly cv?: 'categories';
  /** Called after each file. */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number; readonly key: string; readonly rows: number }) => void;
}

export interface NabEvaluationResult {
  readonly detector: string;
  readonly files: number;
  readonly rows: number;
  /** Wall time spent in the detector alone, ms. */
  readonly detectorMs: number;
  /** Normalised scores; undefined when the folder has no labels (or no windows). */
  readonly scores: { readonly standard: number; readonly reward_low_FP_rate: number; readonly reward_low_FN_rate: number } | undefined;
  /** The standard profile's corpus threshold (1.1 = never fire); undefined without labels. */
  readonly threshold: number | undefined;
  /** Full scorer output (thresholds, counts, per-category) when labelled. */
  readonly details: NabScoreResult | undefined;
  /**
   * Leave-one-category-out figures (with `cv: 'categories'` on labelled folders): the estimate for
   * series of a kind the threshold was not chosen on. The in-sample `scores` above are not that.
   */
  readonly crossValidation?: NabCrossValidation;
  /** Per file: key and row count, plus the rows that fired at the standard threshold. */
  readonly perFile: readonly NabFileReport[];
}

/** What happened in one file at the standard profile's corpus threshold (labelled folders only). */
export interface NabFileReport {
  readonly key: string;
  readonly rows: number;
  readonly windows: number;
  /** Rows at or above the threshold (probation included). */
  readonly detections: number;
  /** Each label window: its first detection (row, timestamp, how far into the window, reward) or, when missed, the highest score in it. */
  readonly windowReport?: readonly NabWindowReport[];
  /** Detections after probation outside every window, with their cost in the standard profile (A_FP units). */
  readonly falsePositives?: readonly { readonly row: number; readonly timestamp: string; readonly score: number; readonly cost: number }[];
}

export interface NabWindowReport {
  readonly start: string;
  readonly end: string;
  /** First detection in the window, or undefined when the window was missed. */
  readonly detected?: { readonly row: number; readonly timestamp: string; readonly score: number; readonly position: number; readonly reward: number };
  /** Highest score inside the window (what a missed window came closest to). */
  readonly maxScore: number;
}

export async function runNabEvaluation(options: NabEvaluationOptions): Promise<NabEvaluationResult> {
  const detectorName = options.detector ?? 'sextant';
  const detector = getNabDetector(detectorName);
  const corpus = await readNabCorpus(options.dataDir);
  const scored: ScoredFile[] = [];
  const timestampTexts: (readonly string[])[] = [];
  let rows = 0;
  let detectorMs = 0;
  let done = 0;
  for (const series of corpus.series) {
    const n = series.values.length;
    const scores = new Float64Array(n);
    const score = detector.create();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = score(series.timestamps[i], series.values[i]);
      // The layout promises [0, 1]; a broken detector must not write NaN.
      scores[i] = s >= 0 ? (s <= 1 ? s : 1) : 0;
    }
    detectorMs += performance.now() - t0;
    rows += n;
    const lines = new Array<string>(n + 1);
    lines[0] = 'timestamp,value,anomaly_score';
    for (let i = 0; i < n; i++) lines[i + 1] = `${series.timestampText[i]},${series.valueText[i]},${scores[i]}`;
    const dir = join(options.outDir, detectorName, series.category);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${detectorName}_${series.name}.csv`), lines.join('\n') + '\n');
    const windows = corpus.windows ? windowsToRows(series.timestamps, corpus.windows.get(series.key) ?? []) : [];
    scored.push({ key: series.key, category: series.category, scores, windows });
    timestampTexts.push(series.timestampText);
    options.onProgress?.({ done: ++done, total: corpus.series.length, key: series.key, rows: n });
  }
  const totalWindows = scored.reduce((a, f) => a + f.windows.length, 0);
  const details = corpus.windows && totalWindows > 0 ? scoreNab(scored) : undefined;
  const perFile = scored.map((f, i): NabFileReport => {
    const base = { key: f.key, rows: f.scores.length, windows: f.windows.length, detections: details ? countAtOrAbove(f.scores, details.standard.threshold) : 0 };
    return details ? { ...base, ...explainFile(f, timestampTexts[i], details.standard.threshold) } : base;
  });
  return {
    detector: detectorName,
    files: scored.length,
    rows,
    detectorMs,
    scores: details
      ? { standard: details.standard.score, reward_low_FP_rate: details.reward_low_FP_rate.score, reward_low_FN_rate: details.reward_low_FN_rate.score }
      : undefined,
    threshold: details?.standard.threshold,
    details,
    ...(options.cv === 'categories' && details ? { crossValidation: crossValidateByCategory(scored) } : {}),
    perFile,
  };
}

/** Per-window detections and false positives of one file at one threshold, as the scorer counts them. */
function explainFile(f: ScoredFile, ts: readonly string[], threshold: number): Pick<NabFileReport, 'windowReport' | 'falsePositives'> {
  const n = f.scores.length;
  const start = probationRows(n);
  const windowReport: NabWindowReport[] = f.windows.map(([L, R]) => {
    let maxScore = 0;
    let detected: NabWindowReport['detected'];
    for (let i = Math.max(L, start); i <= R && i < n; i++) {
      const score = Number(f.scores[i]);
      if (score > maxScore) maxScore = score;
      if (!detected && score >= threshold) {
        detected = { row: i, timestamp: ts[i], score, position: (i - L) / (R - L + 1), reward: truePositiveWeight(i, L, R) };
      }
    }
    return { start: ts[L], end: ts[Math.min(R, n - 1)], ...(detected ? { detected } : {}), maxScore };
  });
  const falsePositives: { row: number; timestamp: string; score: number; cost: number }[] = [];
  let w = 0;
  for (let i = start; i < n; i++) {
    while (w < f.windows.length && f.windows[w][1] < i) w++;
    const score = Number(f.scores[i]);
    if (!(score >= threshold)) continue;
    const win = f.windows[w];
    if (win && i >= win[0] && i <= win[1]) continue;
    falsePositives.push({ row: i, timestamp: ts[i], score, cost: -falsePositiveWeight(i, w > 0 ? f.windows[w - 1] : undefined) });
  }
  return { windowReport, falsePositives };
}

/** Per file, for people: each window's first detection (or its best score when missed) and each false positive. */
export function formatNabWindows(result: NabEvaluationResult): string {
  if (!result.details) return 'no labels (labels/windows.json) found: nothing to explain';
  const out: string[] = [`windows and false positives at the standard threshold ${result.details.standard.threshold.toPrecision(4)}:`];
  for (const f of result.perFile) {
    if (!f.windowReport) continue;
    const fps = f.falsePositives ?? [];
    out.push(`${f.key}  (${f.rows} rows, ${f.windows} windows, ${fps.length} false positives)`);
    for (const w of f.windowReport) {
      out.push(
        w.detected
          ? `  window ${w.start} .. ${w.end}  found at ${w.detected.timestamp} (${Math.round(w.detected.position * 100)}% in, reward ${w.detected.reward.toFixed(2)}, score ${w.detected.score.toFixed(3)})`
          : `  window ${w.start} .. ${w.end}  MISSED (best score inside ${w.maxScore.toFixed(3)})`,
      );
    }
    for (const fp of fps) out.push(`  false positive at ${fp.timestamp} (score ${fp.score.toFixed(3)}, cost ${fp.cost.toFixed(2)} x A_FP)`);
  }
  return out.join('\n');
}

function countAtOrAbove(scores: ArrayLike<number>, threshold: number): number {
  let c = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] >= threshold) c++;
  return c;
}

/** A report for people: scores per profile, per category, and throughput. */
export function formatNabReport(result: NabEvaluationResult): string {
  const out: string[] = [];
  const rate = result.detectorMs > 0 ? Math.round(result.rows / (result.detectorMs / 1000)) : 0;
  out.push(`NAB evaluation of "${result.detector}": ${result.files} files, ${result.rows} rows, ${rate.toLocaleString('en-US')} rows/s in the detector`);
  const details = result.details;
  if (!details) {
    out.push('no labels (labels/windows.json) found: results written, nothing scored');
    return out.join('\n');
  }
  out.push(`${details.windows} anomaly windows`);
  out.push('');
  out.push(`${'profile'.padEnd(20)} ${'score'.padStart(7)} ${'threshold'.padStart(10)} ${'TP'.padStart(4)} ${'FN'.padStart(4)} ${'FP'.padStart(5)}`);
  for (const p of NAB_PROFILES) {
    const r = details[p.name];
    out.push(`${p.name.padEnd(20)} ${r.score.toFixed(1).padStart(7)} ${r.threshold.toPrecision(4).padStart(10)} ${String(r.truePositives).padStart(4)} ${String(r.falseNegatives).padStart(4)} ${String(r.falsePositives).padStart(5)}`);
  }
  const cv = result.crossValidation;
  if (cv) {
    out.push('');
    out.push('in-sample = threshold chosen on these same files; cross-validated = each category scored at the threshold chosen on the OTHER categories');
    out.push(`${'profile'.padEnd(20)} ${'in-sample'.padStart(10)} ${'in-sample'.padStart(10)} ${'CV'.padStart(7)} ${'CV'.padStart(7)} ${'CV'.padStart(7)} ${'CV'.padStart(10)}`);
    out.push(`${''.padEnd(20)} ${'total'.padStart(10)} ${'cat. mean'.padStart(10)} ${'mean'.padStart(7)} ${'worst'.padStart(7)} ${'pooled'.padStart(7)} ${'threshold'.padStart(10)}`);
    for (const p of NAB_PROFILES) {
      const c = cv[p.name];
      out.push(`${p.name.padEnd(20)} ${details[p.name].score.toFixed(1).padStart(10)} ${categoryMean(details[p.name].perCategory).toFixed(1).padStart(10)} ${c.mean.toFixed(1).padStart(7)} ${c.worst.toFixed(1).padStart(7)} ${c.pooled.toFixed(1).padStart(7)} ${c.threshold.toPrecision(4).padStart(10)}`);
    }
    out.push('');
    out.push('per category, standard profile (in-sample at the corpus threshold | cross-validated at the threshold chosen without it):');
    for (const fold of cv.standard.folds) {
      const inSample = details.standard.perCategory[fold.category]?.score;
      const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '   n/a' : x.toFixed(1).padStart(6));
      out.push(`  ${fold.category.padEnd(28)} in-sample ${fmt(inSample)}  CV ${fmt(fold.score)} at ${fold.threshold.toPrecision(4)}  windows ${String(fold.windows).padStart(3)}  false positives ${fold.falsePositives}`);
    }
    return out.join('\n');
  }
  out.push('');
  out.push(`per category (standard profile, corpus threshold ${details.standard.threshold.toPrecision(4)}):`);
  for (const [category, c] of Object.entries(details.standard.perCategory)) {
    const score = c.score === null ? '   n/a' : c.score.toFixed(1).padStart(6);
    out.push(`  ${category.padEnd(28)} ${score}  windows ${String(c.windows).padStart(3)}  false positives ${c.falsePositives}`);
  }
  return out.join('\n');
}

/** Mean of the per-category scores over the categories with windows. */
function categoryMean(perCategory: Readonly<Record<string, { readonly score: number | null }>>): number {
  const scores = Object.values(perCategory).filter((c) => c.score !== null).map((c) => c.score!);
  return scores.length > 0 ? scores.reduce((a, b) => a + b, 0) / scores.length : Number.NaN;
}
