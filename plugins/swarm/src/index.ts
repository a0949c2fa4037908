/**
 * @sextant/plugin-swarm — Docker Swarm for Sextant.
 * The plugin itself is the default export of `@sextant/plugin-swarm/plugin`.
 */
export { swarmCollectorFactory, SwarmCollector } from './swarm-collector.js';
export type { SwarmRole } from './swarm-collector.js';
export { swarmConfigSchema, swarmDefaults, engineEndpoint } from './config.js';
export type { SwarmConfig, SwarmConfigInput } from './config.js';
export { SWARM_KEYS, STACK_LABEL, entityIds } from './swarm-keys.js';
export { SWARM_METRICS, NODE_AVAILABILITIES, NODE_STATES, renderMetricsTable } from './swarm-metrics.js';
export type { SwarmMetricSpec } from './swarm-metrics.js';
export { buildSnapshot, taskBucket, TASK_BUCKETS, updateProgress } from './swarm-snapshot.js';
export type { SwarmSnapshot, ServiceView, NodeView, TaskView, TaskBucket, ServiceMode, PublishedPort } from './swarm-snapshot.js';
export { factsFromEngineEvent, factsFromSnapshots, changeEvent } from './swarm-change-events.js';
export type { ChangeFact, FactOrigin } from './swarm-change-events.js';
export { SwarmTopology } from './swarm-topology.js';
export { TaskFailureTracker } from './task-failure-tracker.js';
export { RecordedSwarmEngine } from './bench/recorded-swarm-engine.js';
export type { RecordedSwarmShape, RecordedSwarmEngineOptions } from './bench/recorded-swarm-engine.js';
