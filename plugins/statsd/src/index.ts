/**
 * @sextant/plugin-statsd — a StatsD / DogStatsD receiver.
 */
export { default as plugin } from './plugin.js';
export { statsdCollectorFactory, toSextantEvent } from './statsd-collector.js';
export { parseDogStatsdEvent, MAX_EVENT_TITLE, MAX_EVENT_TEXT } from './dogstatsd-event.js';
export type { DogStatsdEvent } from './dogstatsd-event.js';
export type { StatsdCollector } from './statsd-collector.js';
export { statsdConfigSchema, statsdConfigDefaults } from './config.js';
export type { StatsdConfig } from './config.js';
export { parseStatsdLine, newParsedLine, canonicalTags, tagsToAttributes, MAX_NAME_LENGTH, MAX_TAGS, MAX_TAG_LENGTH, RESERVED_TAG_KEYS } from './statsd-line.js';
export type { ParsedLine, LineOutcome, MalformedReason, StatsdType } from './statsd-line.js';
export { StatsdAggregator, QUANTILES, SKETCH_RELATIVE_ACCURACY } from './statsd-aggregator.js';
export type { StatsdAggregatorOptions, StatsdAggregatorStats, CounterOutput, RecordOutcome } from './statsd-aggregator.js';
export { StatsdIntake } from './statsd-intake.js';
export type { StatsdIntakeCounters, StatsdIntakeTotals, StatsdEventHandler } from './statsd-intake.js';
