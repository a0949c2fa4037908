/**
 * One vitest configuration for every package (TOOLCHAIN.md): source-condition resolution so tests
 * run against `src/` without a build, decorator metadata for tsyringe, and no watch mode.
 */
import { defineConfig } from 'vitest/config';

const conditions = ['@sextant/source', 'import', 'module', 'node', 'default'];

export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@sextant/source'] } },
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } } as never,
  test: {
    watch: false,
    setupFiles: ['reflect-metadata'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
