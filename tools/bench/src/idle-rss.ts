/**
 * Idle RSS of `sextant run` with the default configuration: start the real CLI, let it collect for
 * a while, read VmRSS from /proc several times and report the peak.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/**
 * `stock`: what `npm i @sextant/cli` gives — the built-in plugins only (no scanning of this
 * monorepo's node_modules, where every workspace package is linked). `monorepo`: everything the
 * checkout has, each plugin imported at start.
 */
export async function idleRss(repoRoot: string, seconds = 20): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-rss-'));
  try {
    const cfg = join(dir, 'stock.yaml');
    writeFileSync(cfg, 'plugins: { discover: false }\n');
    const stock = await measure(repoRoot, seconds, ['--config', cfg], dir);
    const monorepo = await measure(repoRoot, seconds, [], repoRoot);
    return {
      idleRssSettledMiB: stock.settled,
      idleRssPeakMiB: stock.peak,
      idleRssMonorepoSettledMiB: monorepo.settled,
      idleRssSeconds: seconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(repoRoot: string, seconds: number, extra: string[], cwd: string): Promise<{ peak: number; settled: number }> {
  const bin = join(repoRoot, 'tools/cli/dist/bin.js');
  const child = spawn(process.execPath, [bin, 'run', '--port', '0', '--interval', '2s', '--duration', `${seconds + 5}s`, '--log-level', 'error', ...extra], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let peak = 0;
  const samples: number[] = [];
  const started = Date.now();
  try {
    while (Date.now() - started < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      if (child.exitCode !== null) throw new Error(`sextant run exited early (${child.exitCode}): ${stderr}`);
      const kib = rssKiB(child.pid!);
      samples.push(kib);
      peak = Math.max(peak, kib);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const settled = samples.slice(Math.floor(samples.length / 2));
  return { peak: Math.round((peak / 1024) * 10) / 10, settled: Math.round((Math.max(...settled) / 1024) * 10) / 10 };
}
