/** Root test run: every package is a vitest project; one process, one summary. */
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from './vitest.shared.ts';

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      projects: ['core/*/vitest.config.ts', 'collectors/*/vitest.config.ts', 'plugins/*/vitest.config.ts', 'integrations/*/vitest.config.ts', 'tools/*/vitest.config.ts'],
      reporters: ['default', './tools/test-summary/reporter.ts'],
      fileParallelism: true,
      maxWorkers: 2,
    },
  }),
);
