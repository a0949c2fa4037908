/** Programmatic entry of the CLI (for custom distributions and tests). */
export { main } from './main.js';
export { commands } from './commands/index.js';
export { addRunHook } from './commands/run.js';
export type { Command, OptionSpec } from './command.js';
export { loadConfig, loadRuntime, defaultConfigObject, configureDistribution } from './distribution.js';
export type { DistributionOverrides } from './distribution.js';
