/**
 * `sextant plugins explain <container>`: which plugins autodiscovery starts for a container and
 * why — or why none. Reads the engine once (through the containers collector) and applies the
 * same matcher `run` uses; no running Sextant is needed.
 */
import { explainContainer } from '@sextant/runtime';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { engineSocket, loadConfig, loadRuntime } from '../distribution.js';
import { discoveryPlugins, runningContainers } from '../autodiscovery.js';
import { printIssues } from '../output/issues.js';

export const pluginsExplainCommand: Command = {
  name: 'plugins explain',
  summary: 'say which plugins autodiscovery starts for a container and why, or why none match',
  usage: 'sextant plugins explain CONTAINER [--config FILE] [--json]',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'configuration file (for plugins.paths and the containers collector settings)' },
    json: { type: 'boolean', description: 'print JSON for machines' },
  },
  allowPositionals: true,
  details: 'CONTAINER is a name, a full id or an id prefix. Rules come from the "discovery" field of each plugin manifest;\nthe io.sextant.plugins label can override or disable them.',
  async run({ values, positionals }) {
    const target = positionals[0];
    if (!target) throw new UsageError('name the container: sextant plugins explain CONTAINER');
    const source = loadConfig(values.config as string | undefined, (raw) => {
      const collectors = (raw.collectors ?? {}) as Record<string, unknown>;
      raw.collectors = { containers: collectors.containers ?? {} };
      raw.detectors = {};
      raw.correlators = {};
      raw.notifiers = {};
      raw.autodiscovery = { enabled: false };
    });
    if (!source.config) {
      printIssues(source.issues, source.file);
      return 2;
    }
    if (!engineSocket() && !process.env.DOCKER_HOST) {
      process.stderr.write('sextant plugins explain: no container engine socket found (/var/run/docker.sock, /run/podman/podman.sock or DOCKER_HOST)\n');
      return 1;
    }
    const runtime = await loadRuntime(source.config, { level: 'error' }, { collectImmediately: false });
    try {
      await runtime.start();
      // The collector connects to the engine in the background; wait for its first list (<= 15 s).
      const deadline = Date.now() + 15_000;
      while (runtime.statuses().find((s) => s.type === 'containers')?.state === 'starting' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const status = runtime.statuses().find((s) => s.type === 'containers');
      if (status?.state === 'error') {
        process.stderr.write(`sextant plugins explain: cannot read containers: ${status.message ?? 'engine unavailable'}\n`);
        return 1;
      }
      const containers = runningContainers(runtime);
      const found = containers.filter((c) => c.name === target || c.name === `/${target}` || c.id === target || c.id.startsWith(target));
      if (found.length === 0) {
        process.stderr.write(`sextant plugins explain: no container "${target}" (known: ${containers.map((c) => c.name).join(', ') || 'none'})\n`);
        return 1;
      }
      if (found.length > 1) throw new UsageError(`"${target}" matches ${found.length} containers; give more of the id`);
      const lines = explainContainer(found[0], discoveryPlugins(runtime));
      process.stdout.write(values.json ? `${JSON.stringify({ container: found[0], explanation: lines }, null, 2)}\n` : `${lines.join('\n')}\n`);
      return 0;
    } finally {
      await runtime.stop();
    }
  },
};
