/**
 * @sextant/cluster — several `sextant server` processes sharing the work through Redis
 * (docs/architecture.md, "Scale-out"). Distributions use it; plugins never import it.
 */
export { connectRedis, parseStoreUrl, redactStoreUrl } from './redis-link.js';
export type { RedisLink, RedisArg, ParsedStoreUrl, ConnectOptions } from './redis-link.js';
export { ClusterKeys, CONSUMER_GROUP } from './cluster-keys.js';
export { partitionOf, partitionOfKey, partitionKey, peerGroupOf, fnv1a32, PARTITIONING } from './partition-of.js';
export { PartitionLeases } from './partition-leases.js';
export type { LeaseListener, PartitionLeasesOptions } from './partition-leases.js';
export { ClusterMember } from './cluster-member.js';
export type { ClusterMemberOptions, ClusterStatus } from './cluster-member.js';
export { PartitionAppender } from './partition-appender.js';
export type { AppenderCounters, PartitionAppenderOptions } from './partition-appender.js';
export { PartitionWorker } from './partition-worker.js';
export type { PartitionDetectorSpec, WorkerCounters } from './partition-worker.js';
export { GroupSeriesRegistry } from './group-series-registry.js';
export { LocalSeriesMap } from './local-series-map.js';
export { encodeSamples, decodeSamples, compareStreamIds } from './sample-entry.js';
export { PartitionDetectors, PartitionDetectorProxy } from './partition-detectors.js';
export type { LocalDetectorHealth, RemoteFeedback } from './partition-detectors.js';
export { GroupDetectorEvents, maintenanceUntil } from './group-detector-events.js';
export { MemberApi } from './member-api.js';
export { checkGroupLayout, layoutOf } from './group-layout.js';
export { GroupCorrelation } from './group-correlation.js';
export type { GroupCorrelationOptions, CorrelationStatus, LeaderCounters, GroupCorrelatorSpec } from './group-correlation.js';
export { GroupKeys, LEADER_GROUP } from './group-keys.js';
export { GroupIncidentView, GroupWindows, windowsOf, WINDOW_EVENT_TYPES } from './group-incidents.js';
export type { GroupWindow } from './group-incidents.js';
export { GroupOutbox, outboxEntriesFor } from './group-outbox.js';
export type { GroupOutboxEntry, NotifierTarget } from './group-outbox.js';
export { LeaderLease } from './leader-lease.js';
export type { LeaderLeaseOptions } from './leader-lease.js';
export { CorrelationStream, decodeStreamItem } from './correlation-stream.js';
