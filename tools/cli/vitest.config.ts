import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// These tests start the real `sextant` binary (and servers, containers, registries): give them time
// on a loaded 2-core machine. No test asserts on timing.
export default mergeConfig(sharedConfig, defineConfig({ test: { name: 'cli', testTimeout: 180_000 } }));
