export { default as plugin } from './plugin.js';
export { puppetCollectorFactory, createPuppetCollectorFactory, puppetConfigSchema, DEFAULT_PUPPET_LISTEN } from './puppet-collector.js';
export type { PuppetConfig } from './puppet-collector.js';
export { decodePuppetReport, parsePuppetReport } from './puppet-report.js';
export type { EventReceiver } from '@sextant/integration-kit';
