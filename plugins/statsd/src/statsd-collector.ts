/**
 * The `statsd` collector factory: its own UDP/TCP listener feeding the aggregator; every
 * collection round (the runtime's interval, i.e. the StatsD flush interval) writes the interval's
 * series through `ctx.sink`.
 *
 * Resource of every series: the host's resource plus the configured `resource` map. DogStatsD tags
 * become point attributes.
 */
import { createCollectorFactory, ErrorCode, formatError, isSextantError, type Attributes, type Collector, type CollectorContext, type SextantEvent } from '@sextant/plugin-api';
import { z } from 'zod';
import { statsdConfigDefaults, statsdConfigSchema, type StatsdConfig } from './config.js';
import { StatsdAggregator, type StatsdAggregatorStats } from './statsd-aggregator.js';
import { StatsdIntake } from './statsd-intake.js';
import { StatsdListener } from './statsd-listener.js';
import type { DogStatsdEvent } from './dogstatsd-event.js';
import { tagsToAttributes } from './statsd-line.js';

const SEVERITY: Record<string, SextantEvent['severity']> = { error: 'critical', warning: 'warning' };

/**
 * A DogStatsD event as a Sextant event: type `statsd.event`, the event's title, its text in
 * `message`, tags as attributes, `h:` as `host.name` of the resource; `t:error` is critical,
 * `t:warning` a warning, anything else info. Stamped with the time it arrived (`d:` is kept in
 * `statsd.date_happened`).
 */
export function toSextantEvent(event: DogStatsdEvent, resource: Attributes, now: number): SextantEvent {
  const attributes: Record<string, string | number> = { ...tagsToAttributes(event.tags), message: event.text, alert_type: event.alertType };
  if (event.priority) attributes.priority = event.priority;
  if (event.aggregationKey) attributes.aggregation_key = event.aggregationKey;
  if (event.sourceType) attributes.source_type = event.sourceType;
  if (event.timestamp !== undefined) attributes['statsd.date_happened'] = event.timestamp;
  return {
    type: 'statsd.event',
    timestamp: now,
    title: event.title,
    resource: event.hostname ? { ...resource, 'host.name': event.hostname } : resource,
    attributes,
    severity: SEVERITY[event.alertType] ?? 'info',
    source: 'statsd',
  };
}

/** The running collector; tests and embedders read `address()` and the intake's totals. */
export interface StatsdCollector extends Collector {
  address(): { readonly host: string; readonly port: number } | undefined;
  readonly intake: StatsdIntake;
  readonly aggregator: StatsdAggregator;
}

function createStatsdCollector(ctx: CollectorContext<StatsdConfig>): StatsdCollector {
  const config = ctx.config;
  const resource: Attributes = { ...ctx.hostResource, ...config.resource };
  const aggregator = new StatsdAggregator(
    { prefix: config.prefix, counters: config.counters, maxSeries: config.maxSeries, maxSetMembers: config.maxSetMembers, expireAfterMs: config.expireAfter },
    ctx.clock.now(),
  );
  const intake = new StatsdIntake(
    aggregator,
    {
      lines: ctx.metrics.counter('lines_total', 'StatsD lines recorded'),
      malformed: ctx.metrics.counter('malformed_total', 'StatsD lines refused, by reason (syntax, name, type, value, non_finite, sample_rate, tags, too_long, packet_too_large, event, overflow, type_conflict, series_limit)'),
      ignored: ctx.metrics.counter('ignored_total', 'DogStatsD service checks, and events beyond maxEventsPerInterval, received and ignored, by kind'),
      events: ctx.metrics.counter('events_total', 'DogStatsD events stored as Sextant events'),
    },
    () => ctx.clock.now(),
    config.maxPacketBytes,
    (event) => {
      if (eventsThisInterval >= config.maxEventsPerInterval) return false;
      eventsThisInterval++;
      ctx.sink.event(toSextantEvent(event, resource, ctx.clock.now()));
      return true;
    },
  );
  let eventsThisInterval = 0;
  const dropped = ctx.metrics.counter('dropped_total', 'Values not written, by reason (series_refused: the runtime series limit; set_members: maxSetMembers reached)');
  const tracked = ctx.metrics.gauge('tracked_series', 'Distinct metric name + tag sets tracked (limit: maxSeries)');
  const reported: Pick<StatsdAggregatorStats, 'seriesRefused' | 'setMembersDropped'> = { seriesRefused: 0, setMembersDropped: 0 };
  let limitedReported = 0;
  let limitDegraded = false;
  const listener = new StatsdListener(config, { onText: (text) => intake.ingest(text), onOversize: (what) => intake.oversize(what) });

  return {
    intake,
    aggregator,
    address: () => listener.address(),
    async start() {
      try {
        await listener.listen();
      } catch (e) {
        ctx.status.set('error', formatError(e), isSextantError(e) ? e.code : ErrorCode.START_FAILED);
        throw e;
      }
      const a = listener.address()!;
      ctx.logger.info(`StatsD listening on ${a.host}:${a.port} (${[config.udp && 'udp', config.tcp && 'tcp'].filter(Boolean).join(', ')})`, { host: a.host, port: a.port });
      ctx.status.set('ok');
    },
    collect() {
      eventsThisInterval = 0;
      aggregator.flush(ctx.sink, resource, ctx.clock.now());
      tracked.set(aggregator.size);
      const stats = aggregator.stats;
      if (stats.seriesRefused > reported.seriesRefused) dropped.add(stats.seriesRefused - reported.seriesRefused, { reason: 'series_refused' });
      if (stats.setMembersDropped > reported.setMembersDropped) dropped.add(stats.setMembersDropped - reported.setMembersDropped, { reason: 'set_members' });
      reported.seriesRefused = stats.seriesRefused;
      reported.setMembersDropped = stats.setMembersDropped;
      // degraded from the first dropped line while the table stays full; ok once expiry makes room
      const droppedNow = stats.seriesLimited > limitedReported;
      limitedReported = stats.seriesLimited;
      if (droppedNow || (limitDegraded && aggregator.size >= config.maxSeries)) {
        limitDegraded = true;
        ctx.status.set('degraded', `${ErrorCode.LIMIT_EXCEEDED}: statsd tracks its maxSeries of ${config.maxSeries} metric+tag sets; ${stats.seriesLimited} lines for new ones dropped so far. A tag with unbounded values (ids, URLs)? Drop that tag in the client or raise maxSeries`, ErrorCode.LIMIT_EXCEEDED);
      } else if (limitDegraded) {
        limitDegraded = false;
        ctx.status.set('ok');
      }
    },
    async shutdown() {
      await listener.close();
    },
  };
}

export const statsdCollectorFactory = createCollectorFactory<StatsdConfig>({
  type: 'statsd',
  stability: 'alpha',
  description: 'StatsD / DogStatsD receiver (UDP and TCP): counters as rates, gauges, timer/histogram/distribution percentiles (DDSketch), sets; tags as attributes.',
  configSchema: statsdConfigSchema,
  defaults: statsdConfigDefaults as Partial<StatsdConfig>,
  configJsonSchema: z.toJSONSchema(statsdConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => createStatsdCollector(ctx),
});
