/**
 * `sextant plugins list` (what the runtime can find, without starting anything) and
 * `sextant plugins status` (instances of a running Sextant, through its API).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import semver from 'semver';
import { SUPPORTED_PROTOCOLS } from '@sextant/runtime';
import type { Command } from '../command.js';
import { loadConfig, loadRuntime } from '../distribution.js';
import { printIssues } from '../output/issues.js';
import { renderTable } from '../output/table.js';

const apiFlag = { type: 'string' as const, value: 'URL', description: 'API of the running Sextant', default: 'http://127.0.0.1:7070' };

export const pluginsListCommand: Command = {
  name: 'plugins list',
  summary: 'list every plugin this runtime can find, with kinds, stability and compatibility',
  usage: 'sextant plugins list [--config FILE] [--json]',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'configuration file (for plugins.paths and plugins.discover)' },
    json: { type: 'boolean', description: 'print JSON for machines' },
  },
  details: 'Plugins are the built-in ones plus every installed package whose package.json has a "sextant" manifest.',
  async run({ values }) {
    const source = loadConfig(values.config as string | undefined);
    if (!source.config) {
      printIssues(source.issues, source.file);
      return 2;
    }
    const runtime = await loadRuntime(source.config, { level: 'silent' });
    const contract = contractVersion();
    const plugins = runtime.plugins().map((p) => {
      const protocolOk = p.protocol.some((v) => SUPPORTED_PROTOCOLS.includes(v));
      const apiOk = !p.pluginApiRange || !contract || /^(\*|workspace:|file:|link:)/.test(p.pluginApiRange) || semver.satisfies(contract, p.pluginApiRange, { includePrerelease: true });
      const why = !protocolOk ? `speaks protocol ${p.protocol.join(',')}, this runtime ${SUPPORTED_PROTOCOLS.join(',')}` : !apiOk ? `needs @sextant/plugin-api ${p.pluginApiRange}, this runtime has ${contract}` : undefined;
      return { ...p, compatible: p.state === 'loaded' && protocolOk && apiOk, ...(why ? { incompatibility: why } : {}) };
    });
    await runtime.stop();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ plugins }, null, 2)}\n`);
      return 0;
    }
    const rows = plugins.map((p) => [
      p.id,
      p.version,
      p.kinds.join(','),
      p.stability ?? [...new Set(p.factories.map((f) => f.stability))].join(',') ?? '',
      p.protocol.map((v) => `v${v}`).join(','),
      p.compatible ? 'yes' : 'no',
      p.source === 'builtin' ? 'built-in' : p.dir ?? p.packageName,
    ]);
    process.stdout.write(`${renderTable(['ID', 'VERSION', 'KINDS', 'STABILITY', 'PROTOCOL', 'COMPATIBLE', 'FOUND IN'], rows)}\n`);
    for (const p of plugins.filter((x) => x.incompatibility)) process.stdout.write(`\n${p.packageName} is not compatible: ${p.incompatibility}\n`);
    const failed = plugins.filter((p) => p.state === 'failed');
    for (const p of failed) process.stdout.write(`\n${p.packageName}: ${p.error}\n`);
    const types = plugins.flatMap((p) => p.factories.map((f) => `${f.kind} ${f.type} (${p.id}, ${f.stability}): ${f.description}`));
    if (types.length) process.stdout.write(`\nComponent types:\n${types.map((t) => `  ${t}`).join('\n')}\n`);
    return 0;
  },
};

export const pluginsStatusCommand: Command = {
  name: 'plugins status',
  summary: 'show the status of every plugin instance of a running Sextant',
  usage: 'sextant plugins status [--api URL] [--json]',
  options: { api: apiFlag, json: { type: 'boolean', description: 'print JSON for machines' } },
  async run({ values }) {
    const base = String(values.api).replace(/\/$/, '');
    let body: { instances: Record<string, unknown>[] };
    try {
      const res = await fetch(`${base}/api/v1/plugins`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as typeof body;
    } catch (e) {
      process.stderr.write(`sextant: cannot reach ${base}: ${(e as Error).message}; is "sextant run" running? (use --api URL)\n`);
      return 1;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      return 0;
    }
    const rows = body.instances.map((i) => [i.id, i.kind, i.plugin, i.isolation, i.state, i.restarts, i.collections, i.failures, i.series ?? '', i.message ?? '']);
    process.stdout.write(`${renderTable(['INSTANCE', 'KIND', 'PLUGIN', 'ISOLATION', 'STATE', 'RESTARTS', 'ROUNDS', 'FAILURES', 'SERIES', 'MESSAGE'], rows)}\n`);
    return 0;
  },
};

/** The @sextant/plugin-api version this CLI's runtime was built with. */
function contractVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve('@sextant/plugin-api/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}
