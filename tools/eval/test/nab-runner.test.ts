import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { falsePositiveWeight, formatNabReport, formatNabWindows, nabDetectorNames, registerNabDetector, runNabEvaluation, truePositiveWeight } from '../src/index.js';

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

  it('explains each window and each false positive, as the scorer counts them', async () => {
    // Fires at fixed rows of every file: 10 (probation), 690 (inside spiky's window 680..720), 900.
    const fire = new Set([10, 690, 900]);
    registerNabDetector({
      name: 'fixed-rows',
      description: 'test: fires at fixed rows',
      create() {
        let i = -1;
        return () => (fire.has(++i) ? 1 : 0);
      },
    });
    const result = await runNabEvaluation({ dataDir: dir, outDir: join(dir, 'out-fixed'), detector: 'fixed-rows' });
    const spiky = result.perFile.find((f) => f.key === 'unseenCategory/spiky.csv')!;
    expect(spiky.windowReport).toHaveLength(1);
    const found = spiky.windowReport![0].detected!;
    expect(found.row).toBe(690);
    expect(found.timestamp).toBe(ts(690));
    expect(found.position).toBeCloseTo(10 / 41, 6);
    expect(found.reward).toBeCloseTo(truePositiveWeight(690, 680, 720), 9);
    // Row 10 is in probation: not a false positive. Row 900 is, at the reduced cost after a window.
    expect(spiky.falsePositives!.map((f) => f.row)).toEqual([900]);
    expect(spiky.falsePositives![0].cost).toBeCloseTo(-falsePositiveWeight(900, [680, 720]), 9);
    expect(spiky.falsePositives![0].cost).toBeLessThan(1);
    const text = formatNabWindows(result);
    expect(text).toContain(`found at ${ts(690)}`);
    expect(text).toContain(`false positive at ${ts(900)}`);
    // The same folder through the null detector: the window is missed.
    const none = await runNabEvaluation({ dataDir: dir, outDir: join(dir, 'out-null2'), detector: 'null' });
    const missed = none.perFile.find((f) => f.key === 'unseenCategory/spiky.csv')!.windowReport![0];
    expect(missed.detected).toBeUndefined();
    expect(formatNabWindows(none)).toContain('MISSED (best score inside 0.000)');
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
