/**
 * The `nginx` collector factory: one instance per nginx server, combining the stub_status page and,
 * optionally, a tailed access log. Each round reads both; the instance status is the worse of the
 * two verdicts and is reported only when it changes.
 */
import { ErrorCode, createCollectorFactory, formatError, isSextantError, type Attributes, type Collector, type CollectorContext, type HealthState } from '@sextant/plugin-api';
import { z } from 'zod';
import { AccessLogSource } from './access-log-source.js';
import { nginxConfigDefaults, nginxConfigSchema, serverAttributes, type NginxConfig } from './config.js';
import { StubStatusSource, type SourceHealth } from './stub-status-source.js';

const SEVERITY: Record<SourceHealth['state'], number> = { ok: 0, degraded: 1, error: 2 };

/** Resource of every series and event: host, then service and server, then the configured `resource` map. */
export function nginxResource(ctx: CollectorContext<NginxConfig>): Attributes {
  return { ...ctx.hostResource, 'service.name': ctx.config.serviceName, ...serverAttributes(ctx.config), ...ctx.config.resource };
}

class NginxCollector implements Collector {
  private readonly stub: StubStatusSource;
  private readonly log: AccessLogSource | undefined;
  private lastStatus = '';
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<NginxConfig>) {
    const resource = nginxResource(ctx);
    this.stub = new StubStatusSource(ctx, resource);
    this.log = ctx.config.accessLog ? new AccessLogSource(ctx, ctx.config.accessLog, resource) : undefined;
  }

  async start(): Promise<void> {
    this.report({ state: 'ok' }, 'starting');
    await this.log?.start();
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    const verdicts: SourceHealth[] = [];
    if (this.stub.enabled) verdicts.push(await guarded(() => this.stub.collect(signal)));
    if (this.log) verdicts.push(await guarded(() => this.log!.collect()));
    let worst: SourceHealth = { state: 'ok' };
    for (const v of verdicts) if (SEVERITY[v.state] > SEVERITY[worst.state]) worst = v;
    // with both sources, one failing leaves the other's data flowing: degraded, not error
    if (worst.state === 'error' && verdicts.some((v) => v.state === 'ok')) worst = { ...worst, state: 'degraded' };
    this.report(worst);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.log?.shutdown();
  }

  private report(h: SourceHealth, state: HealthState = h.state): void {
    const key = `${state}|${h.message ?? ''}`;
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    if (h.message) this.ctx.logger.warn(h.message, { instance: this.ctx.instanceId });
    this.ctx.status.set(state, h.message, h.code);
  }
}

/** Sources report problems as verdicts; anything they throw (a series limit, a bug) becomes one too. */
async function guarded(read: () => Promise<SourceHealth>): Promise<SourceHealth> {
  try {
    return await read();
  } catch (e) {
    return { state: 'error', code: isSextantError(e) ? e.code : ErrorCode.INTERNAL, message: formatError(e) };
  }
}

export const nginxCollectorFactory = createCollectorFactory<NginxConfig>({
  type: 'nginx',
  stability: 'beta',
  description: 'nginx connections and requests from stub_status; status classes, latency quantiles, bytes and top URL patterns from the access log.',
  configSchema: nginxConfigSchema,
  defaults: nginxConfigDefaults,
  configJsonSchema: z.toJSONSchema(nginxConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new NginxCollector(ctx),
});
