export { default as plugin } from './plugin.js';
export { randomCollectorFactory, randomConfigSchema } from './random-collector.js';
export type { RandomConfig } from './random-collector.js';
