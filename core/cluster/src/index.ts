/**
 * @sextant/cluster — several `sextant server` processes sharing the work through Redis
 * (docs/architecture.md, "Scale-out"). Distributions use it; plugins never import it.
 */
export { connectRedis, parseStoreUrl, redactStoreUrl } from './redis-link.js';
export type { RedisLink, RedisArg, ParsedStoreUrl, ConnectOptions } from './redis-link.js';
export { ClusterKeys, CONSUMER_GROUP } from './cluster-keys.js';
export { partitionOf, partitionOfKey, fnv1a32 } from './partition-of.js';
export { PartitionLeases } from './partition-leases.js';
export type { LeaseListener, PartitionLeasesOptions } from './partition-leases.js';
