/**
 * One vitest configuration for every package (CONTRIBUTING.md, "Test"): workspace packages resolve to their
 * `src/` (via the `@sextant/source` export condition, turned into aliases so that modules Node
 * imports natively — installed third-party plugins — still resolve `dist/` like in production),
 * decorator metadata for tsyringe, and no watch mode.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

function workspaceAliases(): { find: RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const group of ['core', 'collectors', 'plugins', 'integrations', 'tools']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir)) {
      const pkgFile = join(groupDir, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name?: string; exports?: Record<string, unknown> };
      for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
        const src = typeof target === 'object' && target ? (target as Record<string, string>)['@sextant/source'] : undefined;
        if (!pkg.name || !src) continue;
        const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.replace(/^\.\//, '')}`;
        aliases.push({ find: new RegExp(`^${spec.replace(/[/.-]/g, '\\$&')}$`), replacement: join(groupDir, name, src) });
      }
    }
  }
  return aliases;
}

export const sharedConfig = defineConfig({
  resolve: { alias: workspaceAliases() },
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } } as never,
  test: {
    watch: false,
    setupFiles: ['reflect-metadata'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
