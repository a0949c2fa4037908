/**
 * Leave-one-category-out cross-validation of NAB scores (`sextant eval nab --cv categories`).
 *
 * For each category C of the folder: the corpus threshold of a profile is chosen on the files of
 * every OTHER category (exactly as `scoreNab` chooses it), then C's files are scored at that
 * threshold. C's score is what the detector earns on series whose kind it was not fitted to — the
 * figure a user with their own series should expect. Nothing about C is used to score C.
 *
 * Summaries, per profile:
 * - `mean`: mean of the held-out category scores over the categories that have windows (a category
 *   without windows, e.g. artificialNoAnomaly, has no normalised score; its false positives still
 *   count in every fold where it is part of the fitting set, and are listed when it is held out);
 * - `worst`: the lowest held-out category score;
 * - `pooled`: the held-out raw totals summed over all categories and normalised once;
 * - `threshold`: the production threshold that comes out of the cross-validation: the median of
 *   the fold thresholds (a value every fold's fitting set agrees on, not the in-sample optimum).
 */
import { NAB_PROFILES, normalise, scoreNab, scoreNabAtThreshold, type NabProfileName, type ScoredFile } from './scorer.js';

export interface CategoryFold {
  /** The held-out category. */
  readonly category: string;
  readonly windows: number;
  /** Threshold chosen on the other categories (1.1 = never fire). */
  readonly threshold: number;
  /** Normalised score of the held-out category at that threshold; null without windows. */
  readonly score: number | null;
  readonly raw: number;
  readonly falsePositives: number;
  readonly truePositives: number;
}

export interface ProfileCrossValidation {
  readonly folds: readonly CategoryFold[];
  /** Mean held-out score over the categories with windows (NaN when none has windows). */
  readonly mean: number;
  /** Lowest held-out score among the categories with windows. */
  readonly worst: number;
  /** All held-out raw totals normalised together. */
  readonly pooled: number;
  /** Median of the fold thresholds: the threshold the cross-validation recommends. */
  readonly threshold: number;
}

export type NabCrossValidation = Readonly<Record<NabProfileName, ProfileCrossValidation>> & { readonly scheme: 'categories' };

/** Leave-one-category-out over the categories of `files` (at least two are needed to hold one out). */
export function crossValidateByCategory(files: readonly ScoredFile[]): NabCrossValidation {
  const categories = [...new Set(files.map((f) => f.category))].sort();
  const fitted = new Map(categories.map((c) => [c, scoreNab(files.filter((f) => f.category !== c))]));
  const result: Partial<Record<NabProfileName, ProfileCrossValidation>> = {};
  for (const profile of NAB_PROFILES) {
    const folds: CategoryFold[] = categories.map((category) => {
      const held = files.filter((f) => f.category === category);
      const fit = fitted.get(category)!;
      const threshold = fit.windows > 0 ? fit[profile.name].threshold : 1.1;
      const r = scoreNabAtThreshold(held, profile, threshold);
      const c = r.perCategory[category];
      return { category, windows: c.windows, threshold, score: c.score, raw: c.raw, falsePositives: c.falsePositives, truePositives: r.truePositives };
    });
    const scored = folds.filter((f) => f.score !== null).map((f) => f.score!);
    const thresholds = folds.map((f) => f.threshold).sort((a, b) => a - b);
    const mid = thresholds.length >> 1;
    result[profile.name] = {
      folds,
      mean: scored.length > 0 ? scored.reduce((a, b) => a + b, 0) / scored.length : Number.NaN,
      worst: scored.length > 0 ? Math.min(...scored) : Number.NaN,
      pooled: normalise(
        folds.reduce((a, f) => a + f.raw, 0),
        folds.reduce((a, f) => a + f.windows, 0),
        profile,
      ),
      threshold: thresholds.length % 2 === 1 ? thresholds[mid] : (thresholds[mid - 1] + thresholds[mid]) / 2,
    };
  }
  return { ...(result as Record<NabProfileName, ProfileCrossValidation>), scheme: 'categories' };
}
