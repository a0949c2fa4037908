import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { rankRootCauses } from '../../../core/analysis/src/rca/index.js';
import { formatRcaReport, runRcaEvaluation, toRcaJson } from '../src/rca/index.js';

const PETSHOP = '/work/shared/data/petshop';

describe.skipIf(!existsSync(PETSHOP))('rca evaluation on the PetShop data', () => {
  it('prints the report', async () => {
    const result = await runRcaEvaluation({ dataDir: PETSHOP, rank: rankRootCauses });
    console.log(formatRcaReport(result));
    console.log(JSON.stringify(toRcaJson(result)));
    for (const r of result.issues) if (r.rank !== 1) console.log(r.scenario, r.split, r.issue, r.metric, r.rootCause, r.rank, r.top.map((t) => `${t.entity} ${t.score.toFixed(2)}`).join(' | '));
    expect(result.failures).toEqual([]);
  });
});
