import { describe, expect, it } from 'vitest';
import { falsePositiveWeight, nabSigmoid, probationRows, scoreNab, truePositiveWeight, type ScoredFile } from '../src/nab/scorer.js';

// Independent transcription of the README formulas, for expected values.
const sig = (x: number) => 2 / (1 + Math.exp(5 * x)) - 1;

/** One file of 100 rows (probation 15) with one window [40, 59] (width 20). */
function file(detections: Record<number, number>, windows: [number, number][] = [[40, 59]], n = 100, category = 'cat'): ScoredFile {
  const scores = new Float64Array(n);
  for (const [i, s] of Object.entries(detections)) scores[Number(i)] = s;
  return { key: `${category}/f.csv`, category, scores, windows };
}

describe('NAB scorer', () => {
  it('uses the README constants', () => {
    expect(probationRows(100)).toBe(15);
    expect(probationRows(10_000)).toBe(750);
    expect(nabSigmoid(0)).toBe(0);
    expect(nabSigmoid(-1)).toBeCloseTo(0.986614, 5);
  });

  it('scores a perfect detector 100 and one that never fires 0, on every profile', () => {
    const perfect = scoreNab([file({ 40: 1 })]);
    const never = scoreNab([file({})]);
    for (const p of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const) {
      expect(perfect[p].score).toBeCloseTo(100, 10);
      expect(perfect[p].threshold).toBe(1);
      expect(never[p].score).toBe(0);
      expect(never[p].threshold).toBe(1.1);
    }
  });

  it('rewards a detection in the middle of a window by the sigmoid of its position', () => {
    // R - i + 1 = 10, w = 20: sigma(-0.5) / sigma(-1) = 0.859791...
    const r = scoreNab([file({ 50: 0.7 })]);
    const tp = sig(-0.5) / sig(-1);
    expect(tp).toBeCloseTo(0.859791, 5);
    expect(r.standard.score).toBeCloseTo((100 * (tp + 1)) / 2, 8);
    // A_FN = 2: 100 * (tp + 2) / 3
    expect(r.reward_low_FN_rate.score).toBeCloseTo((100 * (tp + 2)) / 3, 8);
    expect(r.standard.threshold).toBe(0.7);
  });

  it('counts only the earliest detection of a window', () => {
    const one = scoreNab([file({ 45: 1 })]);
    const many = scoreNab([file({ 45: 1, 46: 1, 50: 1, 59: 1 })]);
    expect(many.standard.score).toBeCloseTo(one.standard.score, 12);
    expect(truePositiveWeight(45, 40, 59)).toBeCloseTo(sig(-15 / 20) / sig(-1), 12);
  });

  it('charges the full A_FP for a false alarm before any window has ended', () => {
    const r = scoreNab([file({ 20: 1, 40: 1 })]);
    expect(r.standard.raw).toBeCloseTo(1 - 0.11, 12);
    expect(r.standard.score).toBeCloseTo((100 * (2 - 0.11)) / 2, 10);
    expect(r.reward_low_FP_rate.score).toBeCloseTo((100 * (2 - 0.22)) / 2, 10);
    expect(r.standard.falsePositives).toBe(1);
  });

  it('charges little for a false alarm just after a window and almost A_FP far after it', () => {
    const near = scoreNab([file({ 40: 1, 60: 1 })]);
    const far = scoreNab([file({ 40: 1, 99: 1 })]);
    const nearCost = 0.11 * sig(1 / 19);
    const farCost = 0.11 * sig(40 / 19);
    expect(falsePositiveWeight(60, [40, 59])).toBeCloseTo(sig(1 / 19), 12);
    expect(near.standard.raw).toBeCloseTo(1 + nearCost, 12);
    expect(far.standard.raw).toBeCloseTo(1 + farCost, 12);
    expect(-nearCost).toBeLessThan(0.02);
    expect(-farCost).toBeGreaterThan(0.1);
  });

  it('ignores detections in the probation period', () => {
    const r = scoreNab([file({ 5: 1, 14: 1 })]);
    expect(r.standard.score).toBe(0);
    expect(r.standard.falsePositives).toBe(0);
  });

  it('picks one threshold for the whole corpus, not per file', () => {
    // File A's anomaly scores 0.9, file B has a false alarm at 0.95 and its anomaly at 0.6.
    // Candidates: 0.95 -> -1 - 0.11 - 1; 0.9 -> +1 - 0.11 - 1; 0.6 -> +1 - 0.11 + 1 (best).
    const a = { ...file({ 40: 0.9 }), key: 'c/a.csv' };
    const b = { ...file({ 20: 0.95, 41: 0.6 }), key: 'c/b.csv' };
    const r = scoreNab([a, b]);
    expect(r.standard.threshold).toBe(0.6);
    const tpB = sig(-19 / 20) / sig(-1);
    expect(r.standard.raw).toBeCloseTo(1 + tpB - 0.11, 12);
    expect(r.windows).toBe(2);
  });

  it('prefers never firing when every threshold loses', () => {
    const r = scoreNab([file({ 20: 1, 30: 1, 70: 1 }, [[40, 59]])]);
    expect(r.standard.threshold).toBe(1.1);
    expect(r.standard.score).toBe(0);
  });

  it('breaks scores down per category at the corpus threshold', () => {
    const r = scoreNab([file({ 40: 1 }, [[40, 59]], 100, 'good'), file({ 30: 1 }, [], 100, 'noisy')]);
    expect(r.standard.perCategory.good.score).toBeCloseTo(100, 10);
    expect(r.standard.perCategory.noisy.score).toBeNull();
    expect(r.standard.perCategory.noisy.falsePositives).toBe(1);
  });
});
