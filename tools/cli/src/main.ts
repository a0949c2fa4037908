/**
 * The `sextant` command line: finds the command from the first words, parses its options, runs it.
 */
// First: sets the agent's V8 heap flags before anything big is loaded (role-heap.ts says why).
import './role-heap.js';
import { formatError } from '@sextant/plugin-api';
import { helpText, parseCommandArgs, UsageError, type Command } from './command.js';
import { commands } from './commands/index.js';
import { cliPackage } from './distribution.js';

function overview(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    `sextant ${cliPackage().version} — observability for containers and microservices`,
    '',
    'Usage: sextant <command> [options]',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "sextant <command> --help" for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[], list: readonly Command[] = commands): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${overview(list)}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    process.stdout.write(`${cliPackage().version}\n`);
    return 0;
  }
  const sorted = [...list].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  const cmd = sorted.find((c) => c.name.split(' ').every((w, i) => argv[i] === w));
  if (!cmd) {
    const group = list.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length) {
      process.stderr.write(`sextant ${argv[0]}: choose one of: ${group.map((c) => c.name.split(' ').slice(1).join(' ')).join(', ')}\n`);
      if (argv.includes('--help')) {
        process.stdout.write(`${group.map((c) => `  sextant ${c.name.padEnd(20)} ${c.summary}`).join('\n')}\n`);
        return 0;
      }
      return 2;
    }
    process.stderr.write(`sextant: unknown command "${argv[0]}"\n\n${overview(list)}\n`);
    return 2;
  }
  const rest = argv.slice(cmd.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${helpText(cmd)}\n`);
    return 0;
  }
  try {
    const parsed = parseCommandArgs(cmd, rest);
    return await cmd.run({ values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sextant ${cmd.name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`sextant ${cmd.name}: ${formatError(e)}\n`);
    return 1;
  }
}
