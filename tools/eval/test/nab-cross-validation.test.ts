import { describe, expect, it } from 'vitest';
import { crossValidateByCategory } from '../src/nab/cross-validation.js';
import { scoreNab, type ScoredFile } from '../src/nab/scorer.js';

/** One file of 100 rows (probation 15) with one window [40, 59] unless told otherwise. */
function file(category: string, detections: Record<number, number>, windows: [number, number][] = [[40, 59]]): ScoredFile {
  const scores = new Float64Array(100);
  for (const [i, s] of Object.entries(detections)) scores[Number(i)] = s;
  return { key: `${category}/f.csv`, category, scores, windows };
}

describe('leave-one-category-out cross-validation', () => {
  // a and b find their windows at score 0.8; c finds its window only at 0.3, a score at which a and b
  // also raise false alarms. In-sample, the corpus threshold cannot serve all three; held out, c is
  // scored at the threshold a and b chose (0.8) and misses its window.
  const files = [
    file('a', { 40: 0.8, 25: 0.3 }),
    file('b', { 41: 0.8, 26: 0.3 }),
    file('c', { 40: 0.3 }),
    file('quiet', { 30: 0.9 }, []),
  ];

  it('scores each category at the threshold chosen on the others, and nothing else', () => {
    const cv = crossValidateByCategory(files);
    const foldC = cv.standard.folds.find((f) => f.category === 'c')!;
    expect(foldC.threshold).toBe(scoreNab(files.filter((f) => f.category !== 'c')).standard.threshold);
    expect(foldC.threshold).toBeGreaterThan(0.3);
    expect(foldC.truePositives).toBe(0);
    expect(foldC.score).toBeCloseTo(0, 10); // a missed window and no detection: the null detector's score
    const foldA = cv.standard.folds.find((f) => f.category === 'a')!;
    expect(foldA.truePositives).toBe(1);
    expect(foldA.score).toBeGreaterThan(90);
  });

  it('summarises per profile: mean and worst over categories with windows, pooled, and the median fold threshold', () => {
    const cv = crossValidateByCategory(files);
    expect(cv.scheme).toBe('categories');
    for (const name of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const) {
      const p = cv[name];
      expect(p.folds.map((f) => f.category)).toEqual(['a', 'b', 'c', 'quiet']);
      const scored = p.folds.filter((f) => f.score !== null).map((f) => f.score!);
      expect(scored).toHaveLength(3); // 'quiet' has no window: no normalised score
      expect(p.mean).toBeCloseTo(scored.reduce((x, y) => x + y, 0) / 3, 10);
      expect(p.worst).toBe(Math.min(...scored));
    }
    // Standard: the three folds that fit on c pick 0.3 (c's window outweighs two false alarms), the
    // fold without c picks 0.8; the median is 0.3.
    expect(cv.standard.folds.map((f) => f.threshold)).toEqual([0.3, 0.3, 0.8, 0.3]);
    expect(cv.standard.threshold).toBe(0.3);
    // The held-out quiet category's false alarm at 0.9 is above the threshold chosen without it.
    expect(cv.standard.folds.find((f) => f.category === 'quiet')!.falsePositives).toBe(1);
    // In-sample, the same files score better than held out: the estimate is not flattering.
    const inSample = scoreNab(files).standard.score;
    expect(cv.standard.pooled).toBeLessThan(inSample);
  });
});
