import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNabReport, nabDetectorNames, runNabEvaluation } from '../src/index.js';

let dir: string;

function ts(i: number): string {
  return new Date(Date.UTC(2020, 0, 1) + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sextant-nab-'));
  // A category no NAB release has, two files, and labels for one window in one of them.
  await mkdir(join(dir, 'data', 'unseenCategory'), { recursive: true });
  await mkdir(join(dir, 'labels'), { recursive: true });
  const rows = (n: number, f: (i: number) => number) => ['timestamp,value', ...Array.from({ length: n }, (_, i) => `${ts(i)},${f(i)}`)].join('\n') + '\n';
  await writeFile(join(dir, 'data', 'unseenCategory', 'spiky.csv'), rows(1000, (i) => (i === 700 ? 500 : 50 + 10 * Math.sin(i / 7) + (i % 3))));
  await writeFile(join(dir, 'data', 'unseenCategory', 'flat.csv'), rows(400, () => 3));
  await writeFile(join(dir, 'labels', 'windows.json'), JSON.stringify({ 'unseenCategory/spiky.csv': [[ts(680) + '.000000', ts(720) + '.000000']], 'unseenCategory/flat.csv': [] }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runNabEvaluation', () => {
  it('writes <out>/<detector>/<category>/<detector>_<name>.csv with one row per input row', async () => {
    const out = join(dir, 'out');
    const result = await runNabEvaluation({ dataDir: dir, outDir: out });
    expect(result.detector).toBe('sextant');
    expect(result.files).toBe(2);
    expect(result.rows).toBe(1400);
    expect((await readdir(join(out, 'sextant', 'unseenCategory'))).sort()).toEqual(['sextant_flat.csv', 'sextant_spiky.csv']);
    const lines = (await readFile(join(out, 'sextant', 'unseenCategory', 'sextant_spiky.csv'), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('timestamp,value,anomaly_score');
    expect(lines).toHaveLength(1001);
    expect(lines[701].startsWith(`${ts(700)},500,`)).toBe(true);
    for (const line of lines.slice(1)) {
      const score = Number(line.split(',')[2]);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    // The obvious spike is found: the best threshold catches the window.
    expect(result.details?.standard.truePositives).toBe(1);
    expect(result.scores?.standard).toBeGreaterThan(50);
    expect(formatNabReport(result)).toContain('unseenCategory');
  });

  it('runs other registered detectors by name, and the null detector scores 0', async () => {
    expect(nabDetectorNames()).toEqual(expect.arrayContaining(['sextant', 'zscore', 'null']));
    const out = join(dir, 'out-null');
    const result = await runNabEvaluation({ dataDir: dir, outDir: out, detector: 'null' });
    expect(result.scores).toEqual({ standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 });
    expect(await readdir(join(out, 'null', 'unseenCategory'))).toContain('null_flat.csv');
  });

  it('reports progress and refuses unknown detectors with the list of known ones', async () => {
    const seen: string[] = [];
    await runNabEvaluation({ dataDir: dir, outDir: join(dir, 'out-z'), detector: 'zscore', onProgress: (p) => seen.push(`${p.done}/${p.total}`) });
    expect(seen).toEqual(['1/2', '2/2']);
    await expect(runNabEvaluation({ dataDir: dir, outDir: dir, detector: 'nope' })).rejects.toThrow(/unknown NAB detector "nope"/);
  });

  it('scores nothing without labels, and says why a folder is not in the NAB layout', async () => {
    const bare = join(dir, 'bare');
    await mkdir(join(bare, 'data', 'x'), { recursive: true });
    await writeFile(join(bare, 'data', 'x', 'a.csv'), 'timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,not-a-number\n');
    const result = await runNabEvaluation({ dataDir: bare, outDir: join(bare, 'out') });
    expect(result.scores).toBeUndefined();
    expect(result.rows).toBe(2);
    await expect(runNabEvaluation({ dataDir: join(dir, 'missing'), outDir: dir })).rejects.toMatchObject({ code: 'SEXTANT_ERR_CONFIG_INVALID', hint: expect.stringMatching(/NAB layout/) });
  });
});
