export { default as plugin } from './plugin.js';
export { chefCollectorFactory, createChefCollectorFactory, chefConfigSchema, DEFAULT_CHEF_LISTEN } from './chef-collector.js';
export type { ChefConfig } from './chef-collector.js';
export { parseChefReport } from './chef-run.js';
export type { ChefRunStatus } from './chef-run.js';
export type { EventReceiver } from '@sextant/integration-kit';
