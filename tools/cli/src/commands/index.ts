import type { Command } from '../command.js';
import { configCheckCommand } from './config-check.js';
import { pluginsListCommand, pluginsStatusCommand } from './plugins.js';
import { runCommand } from './run.js';
import { buildCommand } from './build.js';
import { newPluginCommand } from './new.js';

/** Every command of the stock CLI, in the order `sextant --help` lists them. */
export const commands: Command[] = [runCommand, pluginsListCommand, pluginsStatusCommand, configCheckCommand, newPluginCommand, buildCommand];
