/**
 * The shape of a CLI command: options in node:util parseArgs form, help text generated from them.
 * Exit codes: 0 success, 1 failure at run time, 2 invalid usage or configuration.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly description: string;
  readonly value?: string;
  readonly default?: string | boolean;
}

export interface Command {
  /** Words after `sextant`, e.g. `plugins list`. */
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra help text: examples, notes. */
  readonly details?: string;
  readonly allowPositionals?: boolean;
  run(args: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }): Promise<number>;
}

export class UsageError extends Error {}

export function helpText(cmd: Command): string {
  const opts = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const dflt = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    return `  ${flag.padEnd(30)} ${o.description}${dflt}`;
  });
  opts.push(`  ${'    --help'.padEnd(30)} show this help`);
  return [`sextant ${cmd.name} — ${cmd.summary}`, '', `Usage: ${cmd.usage}`, '', 'Options:', ...opts, ...(cmd.details ? ['', cmd.details] : [])].join('\n');
}

export function parseCommandArgs(cmd: Command, argv: string[]) {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean' } };
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: cmd.allowPositionals ?? false, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify.*$/s, '')}\nRun "sextant ${cmd.name} --help" for the options.`);
  }
}
