/**
 * `sextant build distribution.yaml`: a custom distribution from selected plugins, with every
 * version checked against the runtime and each other (the work is done by @sextant/builder).
 *
 * @sextant/builder is an optional companion of the CLI: it is loaded only by `build` and
 * `new plugin`, so `npm i @sextant/cli` stays small for people who only run Sextant.
 */
import { ErrorCode, SextantError, formatError } from '@sextant/plugin-api';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

/** The part of @sextant/builder's API the CLI uses (kept local so the CLI builds without it). */
export interface BuilderApi {
  scaffoldPlugin(options: { name: string; kind: string; dir?: string }): { dir: string; files: readonly string[]; monorepoRoot?: string; names: { id: string } };
  buildDistribution(
    file: string,
    options: { out?: string; registry?: string; install?: boolean; bundle?: boolean; docker?: boolean; source?: unknown; log?: (line: string) => void },
  ): Promise<{ outDir: string; files: readonly string[]; installed: boolean; bundle?: string; resolution: { plugins: readonly { name: string; version: string }[] } }>;
  FolderSource: { fromWorkspace(root: string): unknown };
}

const BUILDER_PACKAGE = '@sextant/builder';

/** Imports @sextant/builder from next to the CLI, or explains how to install it. */
export async function loadBuilder(): Promise<BuilderApi> {
  try {
    return (await import(BUILDER_PACKAGE)) as BuilderApi;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(BUILDER_PACKAGE);
    if (!missing) throw e;
    throw new SextantError(ErrorCode.PLUGIN_LOAD_FAILED, `this command needs ${BUILDER_PACKAGE}, which is not installed next to @sextant/cli`, {
      hint: `npm i -D ${BUILDER_PACKAGE} (or run npx -p @sextant/cli -p ${BUILDER_PACKAGE} sextant ...)`,
    });
  }
}

export const buildCommand: Command = {
  name: 'build',
  summary: 'build a custom distribution from distribution.yaml (checked plugin versions, static imports)',
  usage: 'sextant build distribution.yaml [--out DIR] [--registry URL] [--no-install] [--bundle] [--docker]',
  allowPositionals: true,
  options: {
    out: { type: 'string', short: 'o', value: 'DIR', description: 'output folder (default: dist/<name> next to the manifest; replaced)' },
    registry: { type: 'string', value: 'URL', description: 'npm registry to resolve and install from (default: npm config get registry)' },
    workspace: { type: 'string', value: 'DIR', description: 'resolve packages from a monorepo checkout instead of a registry (use with --no-install)' },
    'no-install': { type: 'boolean', description: 'only write the package; do not npm install or verify it' },
    bundle: { type: 'boolean', description: 'also write a single-file bundle (needs rolldown)' },
    docker: { type: 'boolean', description: 'also write a Dockerfile' },
  },
  details: [
    'distribution.yaml:',
    '  name: acme-sextant',
    '  version: 1.0.0',
    '  runtime: ^0.1.0',
    '  roles: [run]',
    '  plugins: ["@sextant/plugin-redis@^0.1.0", "@sextant/plugin-nginx@^0.1.0"]',
    '  config: { collectors: { redis: { url: "redis://127.0.0.1:6379" } } }',
    '',
    'Exit status: 0 built, 2 invalid manifest or incompatible plugins (each explained with its fix), 1 other failures.',
  ].join('\n'),
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('give exactly one distribution manifest, e.g. sextant build distribution.yaml');
    const builder = await loadBuilder();
    const log = (line: string) => process.stderr.write(`${line}\n`);
    try {
      const result = await builder.buildDistribution(positionals[0], {
        ...(values.out ? { out: values.out as string } : {}),
        ...(values.registry ? { registry: values.registry as string } : {}),
        ...(values.workspace ? { source: builder.FolderSource.fromWorkspace(values.workspace as string) } : {}),
        install: !values['no-install'],
        ...(values.bundle ? { bundle: true } : {}),
        ...(values.docker ? { docker: true } : {}),
        log,
      });
      process.stdout.write(
        [
          `built ${result.outDir}`,
          ...result.resolution.plugins.map((p) => `  ${p.name} ${p.version}`),
          ...(result.bundle ? [`bundle: ${result.bundle}`] : []),
          result.installed ? `run it: cd ${result.outDir} && node main.js run` : `install it: cd ${result.outDir} && npm install --omit=dev`,
          '',
        ].join('\n'),
      );
      return 0;
    } catch (e) {
      const conflicts = (e as { conflicts?: { sentence: string }[] }).conflicts;
      if (conflicts) {
        process.stderr.write(`SEXTANT_ERR_PLUGIN_INVALID: ${positionals[0]} cannot be built:\n${conflicts.map((c) => `  - ${c.sentence}`).join('\n')}\n`);
        return 2;
      }
      if ((e as { code?: string }).code === ErrorCode.CONFIG_INVALID || (e as { code?: string }).code === ErrorCode.CONFIG_UNREADABLE) {
        process.stderr.write(`${formatError(e)}\n`);
        return 2;
      }
      throw e;
    }
  },
};
