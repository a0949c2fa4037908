/**
 * Plugin children run compiled code (dist/child.js and what it imports), so a test that launches one
 * must never run output older than the source: a failed build would otherwise leave yesterday's
 * child in place and the tests would pass or fail against code that no longer exists.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Source files (relative to `srcDir`) whose emitted .js in `outDir` is missing or older than the source. */
export function staleOutputs(srcDir: string, outDir: string): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts')) {
        const rel = relative(srcDir, path);
        const out = join(outDir, rel.replace(/\.ts$/, '.js'));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) stale.push(rel);
      }
    }
  };
  walk(srcDir);
  return stale.sort();
}
