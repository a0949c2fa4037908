/**
 * Idle RSS of `sextant run` with the default configuration: start the real CLI, let it collect for
 * a while, read VmRSS from /proc several times and report the peak.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export async function idleRss(repoRoot: string, seconds = 20): Promise<Record<string, number>> {
  const bin = join(repoRoot, 'tools/cli/dist/bin.js');
  const child = spawn(process.execPath, [bin, 'run', '--port', '0', '--interval', '2s', '--duration', `${seconds + 5}s`, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
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
  return { idleRssPeakMiB: Math.round((peak / 1024) * 10) / 10, idleRssSettledMiB: Math.round((Math.max(...settled) / 1024) * 10) / 10, idleRssSeconds: seconds };
}
