/**
 * `sextant notify test NAME`: sends a sample incident through the configured notifier instance NAME
 * (notifiers.NAME in sextant.yaml) and reports the outcome, without starting anything else.
 */
import { formatError, type Notifier } from '@sextant/plugin-api';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { loadConfig, loadRuntime } from '../distribution.js';
import { printIssues } from '../output/issues.js';

export const notifyTestCommand: Command = {
  name: 'notify test',
  summary: 'send a sample incident through one configured notifier and report the outcome',
  usage: 'sextant notify test NAME [--config FILE] [--change opened|resolved]',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'configuration file with a notifiers section' },
    change: { type: 'string', value: 'CHANGE', description: 'opened, updated or resolved', default: 'opened' },
  },
  allowPositionals: true,
  async run({ values, positionals }) {
    const name = positionals[0];
    if (!name) throw new UsageError('name the notifier instance: sextant notify test NAME (as in notifiers.NAME)');
    const change = String(values.change);
    if (!['opened', 'updated', 'resolved'].includes(change)) throw new UsageError('--change must be opened, updated or resolved');
    const source = loadConfig(values.config as string | undefined, (raw) => {
      const notifiers = (raw.notifiers ?? {}) as Record<string, unknown>;
      if (!(name in notifiers)) throw new UsageError(`no notifier "${name}" in ${values.config ?? 'the configuration'} (configured: ${Object.keys(notifiers).join(', ') || 'none'})`);
      raw.collectors = {};
      raw.detectors = {};
      raw.correlators = {};
      raw.notifiers = { [name]: notifiers[name] };
      raw.autodiscovery = { enabled: false };
      raw.server = { ...(raw.server as object), enabled: false };
    });
    if (!source.config) {
      printIssues(source.issues, source.file);
      return 2;
    }
    const runtime = await loadRuntime(source.config, { level: 'warn' });
    try {
      const issues = await runtime.validate();
      if (issues.length) {
        printIssues(issues, source.file);
        return 2;
      }
      const problems = await runtime.start();
      const notifier = runtime.component(name) as Notifier | undefined;
      // A problem elsewhere (another plugin package that does not load) must not stop a test of this notifier.
      for (const p of problems) process.stderr.write(`${notifier ? 'note: ' : ''}${p.code}: ${p.message}${p.hint ? `; ${p.hint}` : ''}\n`);
      if (!notifier) {
        if (problems.length) return 1;
        throw new UsageError(`notifier ${name} did not start`);
      }
      const now = Date.now();
      const incident = {
        id: `inc-test-${now.toString(36)}`,
        title: 'Sextant test notification: checkout latency 8x above normal (sample incident)',
        status: change === 'resolved' ? ('resolved' as const) : ('open' as const),
        impact: 'user' as const,
        severity: 'warning' as const,
        openedAt: now,
        updatedAt: now,
        ...(change === 'resolved' ? { resolvedAt: now } : {}),
        entities: ['service:checkout'],
        anomalyIds: [],
        eventIds: [],
        causes: [{ entity: 'service:payments', score: 0.8, summary: 'payments was deployed 2 minutes before (sample)', evidence: ['this is a test notification sent by `sextant notify test`'] }],
        timeline: [{ timestamp: now, kind: 'note' as const, message: 'test notification' }],
        suppressed: [],
      };
      const started = Date.now();
      const outcome = await notifier.deliver({ idempotencyKey: `${incident.id}:1`, update: { change: change as 'opened', sequence: 1, incident }, attempt: 1 });
      const ms = Date.now() - started;
      if (outcome.ok) {
        process.stdout.write(`${name}: delivered in ${ms} ms${outcome.detail ? ` (${outcome.detail})` : ''}\n`);
        return 0;
      }
      process.stderr.write(`${name}: delivery failed after ${ms} ms (${outcome.retryable ? 'would be retried' : 'not retryable'}): ${outcome.error}\n`);
      return 1;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      process.stderr.write(`${name}: ${formatError(e)}\n`);
      return 1;
    } finally {
      await runtime.stop();
    }
  },
};
