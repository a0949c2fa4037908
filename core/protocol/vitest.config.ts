import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Plugin children run compiled code (dist/child.js): globalSetup builds the package first.
export default mergeConfig(sharedConfig, defineConfig({ test: { name: 'protocol', globalSetup: ['./test/global-setup.ts'] } }));
