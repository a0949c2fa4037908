/**
 * Smoke test of the peer benchmark as a user runs it (`node tools/bench/dist/main.js --peers`),
 * at toy scale (100 series, 5 s): the JSON has figures for every system and the ratios. No figure
 * is compared with a threshold; the machine is shared.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { needBinary, needCondition } from '@sextant/testkit';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bench = join(repoRoot, 'tools/bench/dist/main.js');

const figures = {
  cpuSeconds: expect.any(Number),
  cpuPercentOfCore: expect.any(Number),
  cpuSecondsPerMillionSamples: expect.any(Number),
  rssMiBEnd: expect.any(Number),
  rssMiBPeak: expect.any(Number),
  samplesIngested: expect.any(Number),
};
/** A ratio is null when the peer used no measurable CPU (10 ms ticks) in the short window. */
const ratioValue = expect.toSatisfy((v: unknown) => v === null || typeof v === 'number');
const ratios = { cpu: ratioValue, rssEnd: expect.any(Number), rssPeak: expect.any(Number) };

describe('npm run bench -- --peers', () => {
  it('prints figures for Sextant, Prometheus and VictoriaMetrics and their ratios as JSON', async (ctx) => {
    needBinary(ctx, 'prometheus', 'apt-get install prometheus');
    needBinary(ctx, 'victoria-metrics', 'apt-get install victoria-metrics');
    needCondition(ctx, existsSync(bench) && existsSync(join(repoRoot, 'tools/cli/dist/bin.js')), 'tools/bench and tools/cli are not built (npm run build)');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bench, '--peers', '--series', '100', '--seconds', '5', '--warmup', '2'], { timeout: 60_000 });
    const report = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
    expect(report.load).toMatchObject({ series: 100, scrapeInterval: '1s' });
    expect(report.results).toEqual({ sextant: figures, prometheus: figures, victoriametrics: figures });
    // the load fed Sextant's server during the window (at least one second of the 100 series)
    expect((report.results.sextant as { samplesIngested: number }).samplesIngested).toBeGreaterThanOrEqual(100);
    expect((report.results.prometheus as { rssMiBEnd: number }).rssMiBEnd).toBeGreaterThan(0);
    expect(report.ratios).toEqual({ sextantToPrometheus: ratios, sextantToVictoriaMetrics: ratios });
    expect(stderr).toMatch(/^system\s+CPU s/m);
    expect(stderr).toMatch(/^sextantToPrometheus: CPU ([\d.]+x|n\/a), RSS end [\d.]+x/m);
  }, 60_000);

  it('still measures Sextant when the peer binaries are missing, and says why they were skipped', async (ctx) => {
    needCondition(ctx, existsSync(bench) && existsSync(join(repoRoot, 'tools/cli/dist/bin.js')), 'tools/bench and tools/cli are not built (npm run build)');
    // an empty PATH hides /usr/bin/prometheus and victoria-metrics; node is started by its absolute path
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bench, '--peers', '--series', '50', '--seconds', '1', '--warmup', '1'], { timeout: 60_000, env: { ...process.env, PATH: '' } });
    const report = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
    expect(report.results).toEqual({
      sextant: figures,
      prometheus: { skipped: 'prometheus not installed (apt-get install prometheus)' },
      victoriametrics: { skipped: 'victoria-metrics not installed (apt-get install victoria-metrics)' },
    });
    expect(report.ratios).toEqual({});
    expect(stderr).toMatch(/^prometheus\s+skipped: prometheus not installed/m);
  }, 60_000);

  it('refuses a malformed --series with a message', async (ctx) => {
    needCondition(ctx, existsSync(bench), 'tools/bench is not built (npm run build)');
    const run = promisify(execFile)(process.execPath, [bench, '--peers', '--series', 'many'], { timeout: 30_000 });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--series takes a positive number (got "many")') });
  });
});
