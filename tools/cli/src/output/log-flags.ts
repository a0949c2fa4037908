import type { LogLevel, LogOptions } from '@sextant/runtime';
import { UsageError, type OptionSpec } from '../command.js';

export const logFlags: Record<string, OptionSpec> = {
  'log-level': { type: 'string', value: 'LEVEL', description: 'debug, info, warn, error or silent', default: 'info' },
  'log-format': { type: 'string', value: 'FORMAT', description: 'text or json (logs go to stderr)', default: 'text' },
};

export function logOptions(values: Record<string, unknown>): LogOptions {
  const level = String(values['log-level'] ?? 'info');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn, error or silent (got "${level}")`);
  const format = String(values['log-format'] ?? 'text');
  if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format must be text or json (got "${format}")`);
  return { level: level as LogLevel, json: format === 'json' };
}
