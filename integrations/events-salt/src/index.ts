export { default as plugin } from './plugin.js';
export { saltCollectorFactory, createSaltCollectorFactory, saltConfigSchema, DEFAULT_SALT_LISTEN } from './salt-collector.js';
export type { SaltConfig } from './salt-collector.js';
export { parseSaltPayload, MAX_RETURNS_PER_REQUEST } from './salt-job.js';
export type { EventReceiver } from '@sextant/integration-kit';
