/**
 * `sextant run`: agent + server in one process with the embedded store — the default way to run.
 */
import { formatError } from '@sextant/plugin-api';
import { ApiServer, type Runtime, type SampleObserver } from '@sextant/runtime';
import { parseDuration } from '@sextant/plugin-kit';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { allConfigIssues, announceDefaults, loadConfig, loadRuntime } from '../distribution.js';
import { printIssues } from '../output/issues.js';
import { humanNumber, renderTable } from '../output/table.js';
import { logOptions, logFlags } from '../output/log-flags.js';
import { startAutodiscovery } from '../autodiscovery.js';

export interface RunHooks {
  /** Called once the runtime and API are up (used by `agent`/`server` and autodiscovery). */
  readonly afterStart?: (runtime: Runtime, api: ApiServer | undefined) => Promise<void> | void;
  readonly beforeStop?: (runtime: Runtime) => Promise<void> | void;
}

const runHooks: RunHooks[] = [];
/** Lets other parts of the distribution attach to `run` without editing it. */
export function addRunHook(hook: RunHooks): void {
  runHooks.push(hook);
}

function jsonlObserver(write: (s: string) => void): SampleObserver {
  return (batch, registry) => {
    let out = '';
    for (let i = 0; i < batch.length; i++) {
      const s = registry.describe(batch.series[i])!;
      out += `${JSON.stringify({ metric: s.metric, unit: s.unit, resource: s.resource, attributes: s.attributes, timestamp: batch.timestamps[i], value: batch.values[i] })}\n`;
    }
    write(out);
  };
}

/** Keeps the latest value per series and prints a table every `everyMs`. */
function tableSummary(runtime: Runtime, everyMs: number, write: (s: string) => void): () => void {
  const latest = new Map<number, { t: number; v: number }>();
  const stop = runtime.pipeline.observe((batch) => {
    for (let i = 0; i < batch.length; i++) latest.set(batch.series[i], { t: batch.timestamps[i], v: batch.values[i] });
  });
  const tty = process.stdout.isTTY;
  const render = () => {
    const rows = [...latest.entries()]
      .map(([id, p]) => {
        const s = runtime.registry.describe(id)!;
        const attrs = Object.entries(s.attributes).map(([k, v]) => `${k}=${String(v)}`).join(' ');
        return [s.metric, attrs, humanNumber(p.v), s.unit];
      })
      .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
    const statuses = runtime.statuses().map((s) => `${s.id}:${s.state}`).join('  ');
    const header = `Sextant — ${rows.length} series, ${new Date().toLocaleTimeString()} — ${statuses}`;
    write(`${tty ? '\x1b[2J\x1b[H' : '\n'}${header}\n\n${renderTable(['METRIC', 'ATTRIBUTES', 'VALUE', 'UNIT'], rows)}\n`);
  };
  const timer = setInterval(render, everyMs);
  return () => {
    clearInterval(timer);
    stop();
  };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run agent and server in one process (embedded store, API on 127.0.0.1:7070)',
  usage: 'sextant run [--config FILE] [--port N] [--interval 10s] [--duration 30s] [--print samples --format jsonl|table]',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'configuration file (default: ./sextant.yaml if present, else built-in defaults)' },
    port: { type: 'string', short: 'p', value: 'N', description: 'API port (0 picks a free one)' },
    host: { type: 'string', value: 'ADDR', description: 'API address to bind' },
    interval: { type: 'string', value: 'DURATION', description: 'default collection interval, e.g. 10s' },
    duration: { type: 'string', value: 'DURATION', description: 'stop cleanly after this long, e.g. 30s' },
    print: { type: 'string', value: 'WHAT', description: 'also print "samples" on stdout' },
    format: { type: 'string', value: 'FORMAT', description: 'jsonl (one JSON object per sample) or table (refreshing summary)', default: 'jsonl' },
    'data-dir': { type: 'string', value: 'DIR', description: 'where learned state is kept between runs' },
    'no-api': { type: 'boolean', description: 'do not serve the HTTP API' },
    ...logFlags,
  },
  details: [
    'Examples:',
    '  sextant run                                   collect this host every 10 s, API on http://127.0.0.1:7070',
    '  sextant run --print samples --format jsonl    also print every sample as a JSON line',
    '  sextant run --duration 30s --port 0           stop after 30 s; pick a free port',
    '',
    'Exit status: 0 after a clean stop (Ctrl-C, SIGTERM, --duration), 2 when the configuration is invalid, 1 on failure.',
  ].join('\n'),
  async run({ values }) {
    const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration as string);
    if (values.duration !== undefined && durationMs === undefined) throw new UsageError(`--duration must be a duration like 30s or 5m (got "${String(values.duration)}")`);
    if (values.print !== undefined && values.print !== 'samples') throw new UsageError(`--print takes "samples" (got "${String(values.print)}")`);
    if (values.format !== 'jsonl' && values.format !== 'table') throw new UsageError(`--format must be jsonl or table (got "${String(values.format)}")`);
    const source = loadConfig(values.config as string | undefined, (raw) => {
      const server = ((raw.server ??= {}) as Record<string, unknown>);
      if (values.port !== undefined) server.port = Number(values.port);
      if (values.host !== undefined) server.host = values.host;
      if (values.interval !== undefined) raw.interval = values.interval;
      if (values['data-dir'] !== undefined) raw.dataDir = values['data-dir'];
      if (values['no-api']) server.enabled = false;
    });
    if (!source.config) {
      printIssues(await allConfigIssues(source), source.file);
      return 2;
    }
    const config = source.config;
    const log = logOptions(values);
    const runtime = await loadRuntime(config, log);
    const issues = await runtime.validate();
    if (issues.length) {
      printIssues(issues, source.file);
      await runtime.stop();
      return 2;
    }
    announceDefaults(runtime, source);
    const write = (s: string) => process.stdout.write(s);
    let stopTable: (() => void) | undefined;
    if (values.print === 'samples') {
      if (values.format === 'jsonl') runtime.pipeline.observe(jsonlObserver(write));
      else stopTable = tableSummary(runtime, Math.min(config.interval, 10_000), write);
    }
    let api: ApiServer | undefined;
    let discovery: ReturnType<typeof startAutodiscovery>;
    let exitCode = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const onSignal = (sig: string) => {
      process.stderr.write(`\nreceived ${sig}, stopping...\n`);
      resolveDone();
    };
    const sigint = () => onSignal('SIGINT');
    const sigterm = () => onSignal('SIGTERM');
    process.once('SIGINT', sigint);
    process.once('SIGTERM', sigterm);
    try {
      await runtime.start();
      if (config.server.enabled) {
        api = new ApiServer(runtime, { host: config.server.host, port: config.server.port, token: config.server.token, logger: runtime.logger });
        try {
          const where = await api.listen();
          runtime.logger.info(`API listening on ${where.url} (web UI: ${where.url}/ ; try ${where.url}/api/v1/plugins)`);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          const hint = err.code === 'EADDRINUSE' ? `; port ${config.server.port} is taken: use --port N (or --port 0 for a free one)` : '';
          process.stderr.write(`sextant: cannot serve the API on ${config.server.host}:${config.server.port}: ${err.message}${hint}\n`);
          exitCode = 1;
          resolveDone();
        }
      }
      discovery = startAutodiscovery(runtime);
      for (const hook of runHooks) await hook.afterStart?.(runtime, api);
      const timer = durationMs !== undefined ? setTimeout(resolveDone, durationMs) : undefined;
      await done;
      if (timer) clearTimeout(timer);
    } catch (e) {
      process.stderr.write(`sextant: ${formatError(e)}\n`);
      exitCode = (e as { code?: string }).code === 'SEXTANT_ERR_CONFIG_INVALID' ? 2 : 1;
    } finally {
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
      stopTable?.();
      await discovery?.shutdown();
      for (const hook of runHooks) await hook.beforeStop?.(runtime);
      await api?.close();
      await runtime.stop();
    }
    return exitCode;
  },
};
