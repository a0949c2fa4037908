/**
 * Builds dist/ (incremental) so plugin children can run dist/child.js, and refuses to run the tests
 * on stale output: a failed build fails the run loudly (its errors are printed above), and every
 * source file must have emitted JavaScript at least as new as itself. If tsc reports "up to date"
 * while an output is older than its source (a touched file, a copied tree), one forced rebuild runs
 * before giving up.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleOutputs } from './dist-freshness.js';

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = (...flags: string[]) => {
    try {
      execFileSync(process.execPath, [join(root, '../../node_modules/typescript/bin/tsc'), '-b', 'tsconfig.lib.json', ...flags], { cwd: root, stdio: 'inherit' });
    } catch {
      throw new Error('@sextant/protocol did not compile (errors above); plugin-process tests run dist/child.js and will not run stale output. Fix the errors and run again.');
    }
  };
  tsc();
  if (staleOutputs(join(root, 'src'), join(root, 'dist')).length > 0) tsc('--force');
  const stale = staleOutputs(join(root, 'src'), join(root, 'dist'));
  if (stale.length > 0) throw new Error(`dist/ is older than src/ after a build for: ${stale.join(', ')}; plugin-process tests will not run stale output`);
}
