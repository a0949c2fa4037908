/**
 * `sextant feedback`: tell the detectors, without labelling data, that an anomaly was no problem
 * or that a series had a problem they missed. The series' sensitivity changes; nothing else does.
 */
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const feedbackCommand: Command = {
  name: 'feedback',
  summary: 'mark an anomaly "not a problem" or a series "missed here"; that series\' sensitivity adapts',
  usage: 'sextant feedback (not-a-problem --anomaly ID | missed-here --series ID [--at TIME]) [--api URL] [--token T]  |  sextant feedback --export',
  options: {
    anomaly: { type: 'string', value: 'ID', description: 'the anomaly that was no problem (GET /api/v1/anomalies)' },
    series: { type: 'string', value: 'ID', description: 'the series (GET /api/v1/series)' },
    at: { type: 'string', value: 'TIME', description: 'when the missed problem was: ms or ISO time (default: now)' },
    export: { type: 'boolean', description: 'print every feedback record as JSON lines (for offline evaluation)' },
    api: { type: 'string', value: 'URL', description: 'API of the running Sextant', default: 'http://127.0.0.1:7070' },
    token: { type: 'string', value: 'TOKEN', description: 'write token (default: $SEXTANT_TOKEN)' },
  },
  allowPositionals: true,
  details: 'Exit status: 0 applied, 1 refused or unreachable, 2 usage error.',
  async run({ values, positionals }) {
    const base = String(values.api).replace(/\/$/, '');
    if (values.export) {
      const res = await fetch(`${base}/api/v1/feedback`, { signal: AbortSignal.timeout(10_000) }).catch((e: Error) => e);
      if (res instanceof Error) {
        process.stderr.write(`sextant feedback: cannot reach ${base}: ${res.message}\n`);
        return 1;
      }
      const body = (await res.json()) as { feedback: unknown[] };
      for (const r of body.feedback) process.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    }
    const verdict = positionals[0];
    if (verdict !== 'not-a-problem' && verdict !== 'missed-here') throw new UsageError('say not-a-problem or missed-here');
    const token = (values.token as string | undefined) ?? process.env.SEXTANT_TOKEN;
    if (!token) throw new UsageError('a write token is required: --token or $SEXTANT_TOKEN (the server.token of the running Sextant)');
    const payload: Record<string, unknown> = { verdict };
    if (values.anomaly !== undefined) payload.anomaly = String(values.anomaly);
    else if (values.series !== undefined) {
      const id = Number(values.series);
      if (!Number.isInteger(id) || id < 0) throw new UsageError(`--series takes a series id (got "${String(values.series)}")`);
      payload.series = id;
    } else throw new UsageError('name what the verdict is about: --anomaly ID or --series ID');
    if (values.at !== undefined) payload.timestamp = /^\d+$/.test(String(values.at)) ? Number(values.at) : String(values.at);
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      process.stderr.write(`sextant feedback: cannot reach ${base}: ${(e as Error).message}; is Sextant running? (use --api URL)\n`);
      return 1;
    }
    const body = (await res.json().catch(() => ({}))) as { feedback?: { detector: string; series: number; threshold: number }[]; error?: { code: string; message: string; hint?: string } };
    if (!res.ok) {
      process.stderr.write(`sextant feedback: ${body.error ? `${body.error.code}: ${body.error.message}${body.error.hint ? `; ${body.error.hint}` : ''}` : `HTTP ${res.status}`}\n`);
      return 1;
    }
    for (const f of body.feedback ?? []) process.stdout.write(`${f.detector}: series ${f.series} now alerts at score ${f.threshold.toFixed(2)}\n`);
    return 0;
  },
};
