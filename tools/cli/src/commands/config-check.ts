/** `sextant config check [file]`: every problem at once, with its path and a hint. */
import type { Command } from '../command.js';
import { allConfigIssues, loadConfig, loadRuntime } from '../distribution.js';
import { printIssues } from '../output/issues.js';

export const configCheckCommand: Command = {
  name: 'config check',
  summary: 'validate a sextant.yaml and list every problem at once',
  usage: 'sextant config check [FILE]',
  options: {},
  allowPositionals: true,
  details: 'Checks YAML syntax, ${env:NAME} references, the runtime settings and every component against its plugin\'s schema.\nExit status: 0 valid, 2 invalid.',
  async run({ positionals }) {
    const file = positionals[0];
    const source = loadConfig(file);
    if (!source.config) {
      // The runtime settings are invalid; still check every component, so one run lists everything.
      printIssues(await allConfigIssues(source), source.file);
      return 2;
    }
    const runtime = await loadRuntime(source.config, { level: 'silent' });
    const issues = await runtime.validate();
    await runtime.stop();
    if (issues.length) {
      printIssues(issues, source.file);
      return 2;
    }
    const n = Object.values({ ...source.config.collectors, ...source.config.detectors, ...source.config.correlators, ...source.config.notifiers }).length;
    process.stdout.write(`${source.file ?? 'built-in defaults'}: valid (${n} component instance${n === 1 ? '' : 's'})\n`);
    for (const section of source.defaulted) {
      const types = Object.keys((source.config as unknown as Record<string, Record<string, unknown>>)[section] ?? {});
      process.stdout.write(`  no ${section}: section, so the defaults run: ${types.join(', ')}\n`);
    }
    return 0;
  },
};
