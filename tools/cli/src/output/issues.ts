import type { ConfigIssue } from '@sextant/plugin-api';

/** Prints every configuration issue with its path and hint, the way `config check` and `run` show them. */
export function printIssues(issues: readonly ConfigIssue[], file: string | undefined, write: (s: string) => void = (s) => process.stderr.write(s)): void {
  const where = file ?? 'the built-in configuration';
  write(`SEXTANT_ERR_CONFIG_INVALID: ${issues.length} problem${issues.length === 1 ? '' : 's'} in ${where}:\n`);
  for (const i of issues) write(`  ${i.path}: ${i.message}${i.hint ? `\n      hint: ${i.hint}` : ''}\n`);
}
