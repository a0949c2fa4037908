import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { rankRootCauses } from '../../../core/analysis/src/rca/index.js';
import { formatRcaReport, runRcaEvaluation } from '../src/rca/index.js';

// The shared PetShop copy; the suite skips with a reason where it is not present.
const PETSHOP = '/work/shared/data/petshop';

describe.skipIf(!existsSync(PETSHOP))('rca evaluation on the PetShop data', () => {
  it('ranks every issue and keeps overall top-1 >= 0.8 (regression guard for the ranker)', async () => {
    const result = await runRcaEvaluation({ dataDir: PETSHOP, rank: rankRootCauses });
    console.log(formatRcaReport(result));
    expect(result.failures).toEqual([]);
    expect(result.rows).toHaveLength(8);
    expect(result.overall.issues).toBe(52);
    expect(result.overall.top1).toBeGreaterThanOrEqual(0.8);
    expect(result.overall.top3).toBeGreaterThanOrEqual(0.9);
  });

  it('still ranks from the issue files alone when noissue/ is ignored', async () => {
    const result = await runRcaEvaluation({ dataDir: PETSHOP, rank: rankRootCauses, ignoreNoissue: true });
    console.log(formatRcaReport(result));
    expect(result.withoutReference).toEqual(['high_traffic', 'low_traffic']);
    expect(result.overall.issues).toBe(52);
    expect(result.overall.top3).toBeGreaterThan(0.5);
  });
});
