/**
 * The NAB scorer, written from the published NAB scoring rules (probation, sigmoid window weights, profiles); tools/eval/README.md describes them.
 *
 * Rules (row indices are 0-based positions in one file):
 * - The first `min(floor(0.15 * n), 750)` rows of a file are probation: detections there are ignored.
 * - A row is a detection when `score >= threshold`. One threshold for the whole corpus; every
 *   distinct score (and 1.1, "never fire") is tried and the best total is kept, per profile.
 * - `sigma(x) = 2 / (1 + exp(5x)) - 1`.
 * - Inside a window [L, R] (width w) only the earliest detection counts:
 *   `A_TP * sigma(-(R - i + 1) / w) / sigma(-1)`. A window without detection costs `-A_FN`.
 * - A detection outside every window costs `-A_FP` when no window has ended before it, else
 *   `A_FP * sigma((i - R') / (w' - 1))` with R', w' the end and width of the latest window before it.
 * - Normalised: `100 * (S - S_null) / (S_perfect - S_null)`, `S_perfect = A_TP * W`, `S_null = -A_FN * W`.
 *
 * The sweep is exact and O(n log n): a false positive's cost depends only on its own position, and
 * a window's reward only on its earliest detection, so lowering the threshold one distinct score at a
 * time changes the total by the rows that newly fire.
 */

export interface NabProfile {
  readonly name: NabProfileName;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export type NabProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';

export const NAB_PROFILES: readonly NabProfile[] = [
  { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  { name: 'reward_low_FP_rate', tp: 1, fp: 0.22, fn: 1 },
  { name: 'reward_low_FN_rate', tp: 1, fp: 0.11, fn: 2 },
];

/** One file's detector output and its label windows, as row indices. */
export interface ScoredFile {
  /** `<category>/<name>.csv`, as in windows.json. */
  readonly key: string;
  readonly category: string;
  /** Anomaly score per row, in input order, each in [0, 1]. */
  readonly scores: ArrayLike<number>;
  /** Inclusive row-index windows `[L, R]`, sorted and non-overlapping. */
  readonly windows: readonly (readonly [number, number])[];
}

export interface ProfileResult {
  /** Normalised score: 0 = never fires, 100 = perfect. */
  readonly score: number;
  /** The threshold that produced it (1.1 means never fire). */
  readonly threshold: number;
  /** Raw (unnormalised) total S. */
  readonly raw: number;
  readonly truePositives: number;
  readonly falseNegatives: number;
  readonly falsePositives: number;
  /** Per category at this profile's corpus threshold. */
  readonly perCategory: Readonly<Record<string, CategoryResult>>;
}

export interface CategoryResult {
  /** Normalised score, or null for a category without windows (nothing to normalise by). */
  readonly score: number | null;
  readonly raw: number;
  readonly windows: number;
  readonly falsePositives: number;
}

export type NabScoreResult = Readonly<Record<NabProfileName, ProfileResult>> & { readonly windows: number };

/** `2 / (1 + e^(5x)) - 1`: +1 far before, 0 at 0, -1 far after. */
export function nabSigmoid(x: number): number {
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** Rows ignored at the start of a file of `n` rows. */
export function probationRows(n: number): number {
  return Math.min(Math.floor(0.15 * n), 750);
}

/** Reward (before `A_TP`) of the earliest detection at row `i` inside window [L, R]. */
export function truePositiveWeight(i: number, left: number, right: number): number {
  const w = right - left + 1;
  return nabSigmoid(-(right - i + 1) / w) / nabSigmoid(-1);
}

/**
 * Cost unit (before `A_FP`, negative) of a detection at row `i` outside every window:
 * -1 when no window ended before it, else `sigma((i - R') / (w' - 1))`.
 */
export function falsePositiveWeight(i: number, previousWindow: readonly [number, number] | undefined): number {
  if (!previousWindow) return -1;
  const [l, r] = previousWindow;
  const w = r - l + 1;
  return nabSigmoid((i - r) / Math.max(w - 1, 1));
}

/** Row-level facts for the sweep; kind 0 = false positive, 1 = inside window `win`. */
interface RowFact {
  score: number;
  fileCategory: number;
  /** FP cost unit (kind 0) or TP weight (kind 1). */
  weight: number;
  /** Global window number, or -1 for a false-positive row. */
  win: number;
  /** Row index within its file (for earliest-detection bookkeeping). */
  index: number;
}

/** Scores a corpus for every profile. `perCategory` is computed at each profile's best threshold. */
export function scoreNab(files: readonly ScoredFile[]): NabScoreResult {
  const { facts, windowCategory, categories } = collectFacts(files);
  const result: Partial<Record<NabProfileName, ProfileResult>> = {};
  for (const profile of NAB_PROFILES) {
    result[profile.name] = sweepProfile(profile, facts, windowCategory, categories);
  }
  return { ...(result as Record<NabProfileName, ProfileResult>), windows: windowCategory.length };
}

/**
 * Scores a corpus for one profile at a threshold fixed in advance (nothing is chosen on these
 * files): what a threshold picked elsewhere earns here. `score` is NaN when the files hold no window.
 */
export function scoreNabAtThreshold(files: readonly ScoredFile[], profile: NabProfile, threshold: number): ProfileResult {
  const { facts, windowCategory, categories } = collectFacts(files);
  const r = breakdown(profile, facts, windowCategory, categories, threshold);
  let raw = 0;
  for (const c of Object.values(r.perCategory)) raw += c.raw;
  return { ...r, threshold, raw };
}

function collectFacts(files: readonly ScoredFile[]): { facts: RowFact[]; windowCategory: number[]; categories: string[] } {
  const categories = [...new Set(files.map((f) => f.category))].sort();
  const catIndex = new Map(categories.map((c, i) => [c, i]));
  const facts: RowFact[] = [];
  const windowCategory: number[] = [];
  for (const file of files) {
    const n = file.scores.length;
    const start = probationRows(n);
    const cat = catIndex.get(file.category)!;
    const firstWin = windowCategory.length;
    for (const _ of file.windows) windowCategory.push(cat);
    let w = 0; // next window whose end is >= i
    for (let i = start; i < n; i++) {
      while (w < file.windows.length && file.windows[w][1] < i) w++;
      const score = Number(file.scores[i]);
      if (!(score >= 0)) continue; // NaN never fires
      const win = file.windows[w];
      if (win && i >= win[0] && i <= win[1]) {
        facts.push({ score, fileCategory: cat, weight: truePositiveWeight(i, win[0], win[1]), win: firstWin + w, index: i });
      } else {
        facts.push({ score, fileCategory: cat, weight: falsePositiveWeight(i, w > 0 ? file.windows[w - 1] : undefined), win: -1, index: i });
      }
    }
  }
  facts.sort((a, b) => b.score - a.score);
  return { facts, windowCategory, categories };
}

function sweepProfile(profile: NabProfile, facts: readonly RowFact[], windowCategory: readonly number[], categories: readonly string[]): ProfileResult {
  const W = windowCategory.length;
  const earliest = new Float64Array(W).fill(Infinity);
  const reward = new Float64Array(W);
  let fpSum = 0;
  let tpSum = 0;
  let detected = 0;
  let best = -profile.fn * W; // threshold 1.1: nothing fires
  let bestThreshold = 1.1;
  for (let k = 0; k < facts.length; ) {
    const level = facts[k].score;
    for (; k < facts.length && facts[k].score === level; k++) {
      const f = facts[k];
      if (f.win < 0) {
        fpSum += f.weight;
      } else if (f.index < earliest[f.win]) {
        if (earliest[f.win] === Infinity) detected++;
        tpSum += f.weight - reward[f.win];
        reward[f.win] = f.weight;
        earliest[f.win] = f.index;
      }
    }
    const total = profile.tp * tpSum + profile.fp * fpSum - profile.fn * (W - detected);
    // Strictly better only: on ties the higher (more conservative) threshold wins.
    if (total > best + 1e-12) {
      best = total;
      bestThreshold = level;
    }
  }
  return { ...breakdown(profile, facts, windowCategory, categories, bestThreshold), threshold: bestThreshold, raw: best };
}

/** Recomputes totals at one threshold, per category, for the report. */
function breakdown(profile: NabProfile, facts: readonly RowFact[], windowCategory: readonly number[], categories: readonly string[], threshold: number) {
  const C = categories.length;
  const raw = new Float64Array(C);
  const fpPer = new Float64Array(C);
  const windowsPer = new Float64Array(C);
  for (const c of windowCategory) windowsPer[c]++;
  const earliest = new Float64Array(windowCategory.length).fill(Infinity);
  const reward = new Float64Array(windowCategory.length);
  let falsePositives = 0;
  for (const f of facts) {
    if (f.score < threshold) break;
    if (f.win < 0) {
      raw[f.fileCategory] += profile.fp * f.weight;
      falsePositives++;
      fpPer[f.fileCategory]++;
    } else if (f.index < earliest[f.win]) {
      earliest[f.win] = f.index;
      reward[f.win] = f.weight;
    }
  }
  let truePositives = 0;
  for (let w = 0; w < windowCategory.length; w++) {
    if (earliest[w] === Infinity) raw[windowCategory[w]] -= profile.fn;
    else {
      raw[windowCategory[w]] += profile.tp * reward[w];
      truePositives++;
    }
  }
  let total = 0;
  let totalWindows = 0;
  const perCategory: Record<string, CategoryResult> = {};
  for (let c = 0; c < C; c++) {
    total += raw[c];
    totalWindows += windowsPer[c];
    perCategory[categories[c]] = {
      score: windowsPer[c] > 0 ? normalise(raw[c], windowsPer[c], profile) : null,
      raw: raw[c],
      windows: windowsPer[c],
      falsePositives: fpPer[c],
    };
  }
  return {
    score: normalise(total, totalWindows, profile),
    truePositives,
    falseNegatives: windowCategory.length - truePositives,
    falsePositives,
    perCategory,
  };
}

/** `100 * (S - S_null) / (S_perfect - S_null)`; NaN when there are no windows (empty range). */
export function normalise(raw: number, windows: number, profile: NabProfile): number {
  if (windows === 0) return Number.NaN;
  const nul = -profile.fn * windows;
  const perfect = profile.tp * windows;
  return (100 * (raw - nul)) / (perfect - nul);
}
