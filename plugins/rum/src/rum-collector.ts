/**
 * The `rum` collector factory: the collect endpoint (own listener) plus the aggregator. Beacons
 * are recorded as they arrive; every collection round writes the interval's figures.
 *
 * Resource of every series: `service.name` (the site), the configured `resource` map, and
 * `sextant.impact` (`user` or `business`, from the metrics table). No `host.name`: the figures
 * describe visitors' browsers, not the host the agent runs on.
 */
import { createCollectorFactory, formatError, isSextantError, ErrorCode, SextantError, type Attributes, type Collector, type CollectorContext, type HttpRouterService } from '@sextant/plugin-api';
import { z } from 'zod';
import { BeaconIntake } from './beacon-intake.js';
import { CollectEndpoint } from './collect-endpoint.js';
import { rumConfigDefaults, rumConfigSchema, type RumConfig } from './config.js';
import { RumAggregator, type RumAggregatorStats } from './rum-aggregator.js';
import { loadSnippetAssets, SNIPPET_PATHS } from './snippet-assets.js';

/** The running collector; tests and embedders read `address()` and the intake's counters. */
export interface RumCollector extends Collector {
  /** Its own listener's address (`listen: host:port`). */
  address(): { readonly host: string; readonly port: number } | undefined;
  /** Its path on the API server (`listen: api`). */
  mountPath(): string | undefined;
  readonly intake: BeaconIntake;
}

export function rumResource(config: RumConfig): Attributes {
  const { ['sextant.impact']: _ignored, ...extra } = config.resource;
  return { 'service.name': config.serviceName, ...extra };
}

function createRumCollector(ctx: CollectorContext<RumConfig>, http: HttpRouterService | undefined): RumCollector {
  const config = ctx.config;
  const resource = rumResource(config);
  const aggregator = new RumAggregator(
    { maxPages: config.maxPages, sampleRate: config.sampleRate, sessionWindowMs: config.sessionWindow, maxSessions: config.maxSessions, defaultCurrency: config.defaultCurrency },
    ctx.clock.now(),
  );
  const intake = new BeaconIntake(config, aggregator, {
    accepted: ctx.metrics.counter('beacons_total', 'Beacons accepted'),
    rejected: ctx.metrics.counter('rejected_total', 'Beacons and requests refused, by reason (origin, bot, rate_limited, too_large, malformed, invalid, replayed, method)'),
    eventsDropped: ctx.metrics.counter('events_dropped_total', 'Events dropped inside accepted beacons, by reason'),
  });
  const skipped = ctx.metrics.counter('events_skipped_total', 'Events not counted, by reason (duplicate_purchase, sampled_out, currency_limit, series_limit)');
  const reported: RumAggregatorStats = { duplicatePurchases: 0, timingsSampledOut: 0, currenciesRefused: 0, seriesRefused: 0 };
  const labels: Record<keyof RumAggregatorStats, string> = { duplicatePurchases: 'duplicate_purchase', timingsSampledOut: 'sampled_out', currenciesRefused: 'currency_limit', seriesRefused: 'series_limit' };
  let endpoint: CollectEndpoint | undefined;

  return {
    intake,
    address: () => endpoint?.address(),
    mountPath: () => endpoint?.mountPath(),
    async start() {
      try {
        const assets = await loadSnippetAssets();
        endpoint = new CollectEndpoint(intake, assets, { listen: config.listen, maxBodyBytes: config.maxBodyBytes, now: () => ctx.clock.now() });
        if (config.listen !== 'api') await endpoint.listen();
        else if (!http?.available) {
          throw new SextantError(ErrorCode.CONFIG_INVALID, `${ctx.instanceId}.listen is "api", but this process serves no HTTP API`, {
            hint: 'give the endpoint a port of its own (listen: 127.0.0.1:7090), or turn the API on (an agent serves one only with --port)',
          });
        } else endpoint.mountOn(http, ctx.instanceId);
      } catch (e) {
        ctx.status.set('error', formatError(e), isSextantError(e) ? e.code : ErrorCode.START_FAILED);
        throw e;
      }
      const a = endpoint.address();
      const base = a ? `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` : `<API server>${endpoint.mountPath()}`;
      const site = `service:${config.serviceName}`;
      ctx.sink.topology({
        upsertEntities: [{ id: site, type: 'service', name: config.serviceName, attributes: { 'sextant.service.kind': 'website' } }],
        upsertEdges: config.calls.map((backend) => ({ from: site, to: `service:${backend}`, type: 'calls' })),
      });
      ctx.sink.flush();
      ctx.logger.info(`RUM collect endpoint on ${base}${SNIPPET_PATHS.collect}; snippet at ${base}${SNIPPET_PATHS.script}`, a ? { host: a.host, port: a.port } : { path: endpoint.mountPath() });
      ctx.status.set('ok');
    },
    collect() {
      const now = ctx.clock.now();
      aggregator.flush(ctx.sink, resource, now);
      intake.expire(now);
      for (const key of Object.keys(labels) as (keyof RumAggregatorStats)[]) {
        const delta = aggregator.stats[key] - reported[key];
        if (delta > 0) skipped.add(delta, { reason: labels[key] });
        reported[key] = aggregator.stats[key];
      }
    },
    async shutdown() {
      const e = endpoint;
      endpoint = undefined;
      await e?.close();
    },
  };
}

/** The factory; `services.http` (`coreServices.httpRouter`) serves instances with `listen: api`. */
export function createRumCollectorFactory(services: { readonly http?: HttpRouterService } = {}) {
  return createCollectorFactory<RumConfig>({
    type: 'rum',
    stability: 'alpha',
    description: 'Real-user monitoring: serves the browser snippet and turns its beacons into page views, timing and Core Web Vitals quantiles, errors, sessions, orders, revenue and conversion.',
    configSchema: rumConfigSchema,
    defaults: rumConfigDefaults as Partial<RumConfig>,
    configJsonSchema: z.toJSONSchema(rumConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    create: (ctx) => createRumCollector(ctx, services.http),
  });
}

/** The factory without the runtime's router (tests, embedding): `listen: api` fails at start. */
export const rumCollectorFactory = createRumCollectorFactory();
