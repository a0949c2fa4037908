import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

export default mergeConfig(sharedConfig, defineConfig({ test: { name: 'ui', testTimeout: 120_000, hookTimeout: 180_000 } }));
