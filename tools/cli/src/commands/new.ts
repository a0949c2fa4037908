/**
 * `sextant new plugin NAME --kind KIND [--dir DIR]`: a plugin package that builds and passes its
 * tests at once (the files come from @sextant/builder's scaffold).
 */
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { loadBuilder } from './build.js';

const KINDS = ['collector', 'detector', 'correlator', 'notifier'];

export const newPluginCommand: Command = {
  name: 'new plugin',
  summary: 'scaffold a plugin package: manifest, config schema, one working component, tests, README',
  usage: 'sextant new plugin NAME --kind collector|detector|correlator|notifier [--dir DIR]',
  allowPositionals: true,
  options: {
    kind: { type: 'string', short: 'k', value: 'KIND', description: 'collector, detector, correlator or notifier', default: 'collector' },
    dir: { type: 'string', short: 'd', value: 'DIR', description: 'target folder (default: ./NAME without its scope); inside a Sextant checkout it follows the workspace layout' },
  },
  details: [
    'Examples:',
    '  sextant new plugin my-collector --kind collector',
    '  sextant new plugin @acme/sextant-plugin-pager --kind notifier --dir plugins/pager',
  ].join('\n'),
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('give the package name of the plugin, e.g. sextant new plugin my-collector --kind collector');
    const kind = String(values.kind);
    if (!KINDS.includes(kind)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')} (got "${kind}")`);
    const builder = await loadBuilder();
    const result = builder.scaffoldPlugin({ name: positionals[0], kind, ...(values.dir ? { dir: values.dir as string } : {}) });
    const next = result.monorepoRoot
      ? [`  npm install            # at ${result.monorepoRoot}, links the new workspace`, `  npx vitest run --project ${result.names.id}`]
      : [`  cd ${result.dir}`, '  npm install', '  npm test               # conformance suite + the plugin in a real runtime', '  npm pack               # a tarball to npm install next to @sextant/cli'];
    process.stdout.write([`created ${result.dir}`, ...result.files.map((f) => `  ${f}`), '', 'next:', ...next, ''].join('\n'));
    return 0;
  },
};
