/**
 * Builds dist/ (incremental) so plugin children can run dist/child.js. A type error elsewhere in
 * the package is reported but does not stop the run as long as the child program was emitted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    execFileSync(process.execPath, [join(root, '../../node_modules/typescript/bin/tsc'), '-b', 'tsconfig.lib.json'], { cwd: root, stdio: 'inherit' });
  } catch (error) {
    if (!existsSync(join(root, 'dist/child.js'))) throw error;
  }
}
