/**
 * The runtime's logger: one line per entry on stderr (stdout belongs to `--print`), either
 * human-readable or JSON. Fields named like secrets are masked.
 */
import type { Logger } from '@sextant/plugin-api';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key/i;

export interface LogOptions {
  readonly level?: LogLevel;
  readonly json?: boolean;
  readonly write?: (line: string) => void;
}

function maskFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = SECRET_KEY.test(k) ? '***' : v;
  return out;
}

export function createLogger(scope: string, options: LogOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const masked = maskFields(fields);
    if (options.json) {
      write(JSON.stringify({ time: new Date().toISOString(), level, scope, message, ...masked }));
    } else {
      const extra = masked && Object.keys(masked).length ? ` ${JSON.stringify(masked)}` : '';
      write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${scope}] ${message}${extra}`);
    }
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}
