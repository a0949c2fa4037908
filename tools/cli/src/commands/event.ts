/** `sextant event`: record a change event (deploy, config run, ...) in a running Sextant. */
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const eventCommand: Command = {
  name: 'event',
  summary: 'record a change event (deploy, config run, scaling) so incidents can name it as a cause',
  usage: 'sextant event --type deploy --service NAME [--version V] [--title TEXT] [--attr k=v ...] [--api URL] [--token T]',
  options: {
    type: { type: 'string', value: 'TYPE', description: 'deploy, config.run, scale, ...', default: 'deploy' },
    service: { type: 'string', value: 'NAME', description: 'service.name the event concerns' },
    host: { type: 'string', value: 'NAME', description: 'host.name the event concerns' },
    version: { type: 'string', value: 'V', description: 'version deployed (service.version)' },
    title: { type: 'string', value: 'TEXT', description: 'one line for people (default: built from the other flags)' },
    attr: { type: 'string', multiple: true, value: 'K=V', description: 'extra attribute, repeatable' },
    severity: { type: 'string', value: 'LEVEL', description: 'info, warning or critical' },
    api: { type: 'string', value: 'URL', description: 'API of the running Sextant', default: 'http://127.0.0.1:7070' },
    token: { type: 'string', value: 'TOKEN', description: 'write token (default: $SEXTANT_TOKEN)' },
  },
  async run({ values }) {
    if (!values.service && !values.host) throw new UsageError('name what the event concerns: --service NAME and/or --host NAME');
    const token = (values.token as string | undefined) ?? process.env.SEXTANT_TOKEN;
    if (!token) throw new UsageError('a write token is required: --token or $SEXTANT_TOKEN (the server.token of the running Sextant)');
    const resource: Record<string, string> = {};
    if (values.service) resource['service.name'] = String(values.service);
    if (values.host) resource['host.name'] = String(values.host);
    if (values.version) resource['service.version'] = String(values.version);
    const attributes: Record<string, string> = {};
    for (const kv of (values.attr as string[] | undefined) ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new UsageError(`--attr takes key=value (got "${kv}")`);
      attributes[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const title = String(values.title ?? `${String(values.type)} of ${String(values.service ?? values.host)}${values.version ? ` ${String(values.version)}` : ''}`);
    const base = String(values.api).replace(/\/$/, '');
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ type: values.type, title, resource, ...(Object.keys(attributes).length ? { attributes } : {}), ...(values.severity ? { severity: values.severity } : {}), source: 'cli' }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      process.stderr.write(`sextant event: cannot reach ${base}: ${(e as Error).message}; is Sextant running? (use --api URL)\n`);
      return 1;
    }
    const body = (await res.json().catch(() => ({}))) as { event?: { id: string }; error?: { code: string; message: string; hint?: string } };
    if (!res.ok) {
      process.stderr.write(`sextant event: ${body.error ? `${body.error.code}: ${body.error.message}${body.error.hint ? `; ${body.error.hint}` : ''}` : `HTTP ${res.status}`}\n`);
      return 1;
    }
    process.stdout.write(`recorded ${String(values.type)} event ${body.event?.id}: ${title}\n`);
    return 0;
  },
};
