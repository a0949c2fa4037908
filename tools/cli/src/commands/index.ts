import type { Command } from '../command.js';
import { agentCommand, serverCommand } from './agent-server.js';
import { configCheckCommand } from './config-check.js';
import { demoCommand, evalNabCommand, evalRcaCommand } from './eval.js';
import { eventCommand } from './event.js';
import { feedbackCommand } from './feedback.js';
import { pluginsExplainCommand } from './explain.js';
import { notifyTestCommand } from './notify.js';
import { pluginsListCommand, pluginsStatusCommand } from './plugins.js';
import { runCommand } from './run.js';
import { buildCommand } from './build.js';
import { newPluginCommand } from './new.js';

/** Every command of the stock CLI, in the order `sextant --help` lists them. */
export const commands: Command[] = [
  runCommand,
  agentCommand,
  serverCommand,
  pluginsListCommand,
  pluginsStatusCommand,
  pluginsExplainCommand,
  configCheckCommand,
  eventCommand,
  feedbackCommand,
  notifyTestCommand,
  evalNabCommand,
  evalRcaCommand,
  demoCommand,
  newPluginCommand,
  buildCommand,
];
