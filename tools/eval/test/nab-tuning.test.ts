import { describe, expect, it } from 'vitest';
import type { BaselineParams } from '@sextant/analysis';
import { nestedCoordinateSearch, type CandidateScores, type CandidateSource } from '../src/nab/tuning.js';
import type { ScoredFile } from '../src/nab/scorer.js';

/** One file of 100 rows (probation 15) with one window [40, 59], detected at `hit` (or never). */
function file(category: string, hit: number | undefined): ScoredFile {
  const scores = new Float64Array(100);
  if (hit !== undefined) scores[hit] = 0.8;
  return { key: `${category}/f.csv`, category, scores, windows: [[40, 59]] };
}

/**
 * A fake detector with one parameter `quietMs` (1, 2 or 3): value 2 (the default) finds every
 * window late; value 3 finds a and b early but misses c; value 1 finds only c, early.
 */
const source: CandidateSource = {
  defaultsOf: () => 2,
  get(params: Partial<BaselineParams>): CandidateScores {
    const v = params.quietMs ?? 2;
    const files = ['a', 'b', 'c'].map((c) => file(c, v === 2 ? 55 : v === 3 ? (c === 'c' ? undefined : 40) : c === 'c' ? 40 : undefined));
    return { label: String(v), files, rowsPerSec: 0 };
  },
};

describe('nested coordinate search', () => {
  it('chooses each value on the other categories only, and scores the held-out one at it', () => {
    const r = nestedCoordinateSearch(source, [{ parameter: 'quietMs', values: [1, 2, 3] }], ['a', 'b', 'c'], false);
    const byCategory = Object.fromEntries(r.folds.map((f) => [f.category, f]));
    // Without a: 2 finds b and c late, better than 3 or 1, which each miss one of them.
    expect(byCategory.a.values).toEqual({});
    // Without c: a and b both prefer 3, and c, held out, is missed at 3: score 0.
    expect(byCategory.c.values).toEqual({ quietMs: 3 });
    expect(byCategory.c.score).toBeCloseTo(0, 10);
    expect(r.worst).toBeCloseTo(0, 10);
  });

  it('keeps the default unless another value beats it by more than the margin', () => {
    const loose = nestedCoordinateSearch(source, [{ parameter: 'quietMs', values: [1, 2, 3] }], ['a', 'b', 'c'], false, 0);
    const strict = nestedCoordinateSearch(source, [{ parameter: 'quietMs', values: [1, 2, 3] }], ['a', 'b', 'c'], false, 100);
    expect(loose.folds.find((f) => f.category === 'c')!.values).toEqual({ quietMs: 3 });
    for (const f of strict.folds) expect(f.values).toEqual({});
    expect(strict.worst).toBeGreaterThan(loose.worst);
  });
});
