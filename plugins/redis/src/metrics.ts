/**
 * The one table of metrics this collector emits (one source of truth for names, types and units; CONTRIBUTING.md, "A new package"). The collector declares every series
 * from it, and the README's metrics table is rendered from it ({@link renderMetricsTable}; a test
 * fails when the README drifts).
 *
 * Names follow the OpenTelemetry Collector `redis` receiver where it has one. Rates are per second
 * over the last interval, derived from Redis' cumulative counters with `CounterRate`, so a server
 * restart yields a gap, never a negative or inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

/**
 * How the value is read:
 * - `number`: the INFO field as a number;
 * - `rate`: the INFO field is a cumulative counter, emitted as a per-second rate;
 * - `status`: 1 when the INFO field equals `okValue`, else 0 (absent field: no sample);
 * - `computed`: derived by the collector from several fields or commands (see `source`).
 */
export type RedisMetricRead = 'number' | 'rate' | 'status' | 'computed';

export interface RedisMetricSpec {
  readonly name: string;
  /** UCUM unit. */
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  readonly read: RedisMetricRead;
  /** INFO field for `number`/`rate`/`status`. */
  readonly field?: string;
  /** Value of `field` that means healthy, for `status`. */
  readonly okValue?: string;
  /** Where a `computed` value comes from, for the docs. */
  readonly source?: string;
  /** Point attributes (bounded: databases, replicas, latency events, CPU states). */
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, RedisMetricSpec>>(table: T): T {
  return table;
}

export const REDIS_METRICS = spec({
  uptime: { name: 'redis.uptime', unit: 's', type: 'gauge', read: 'number', field: 'uptime_in_seconds', description: 'Seconds since the server started.' },
  clientsConnected: { name: 'redis.clients.connected', unit: '{client}', type: 'gauge', kind: 'saturation', read: 'number', field: 'connected_clients', description: 'Client connections, replicas excluded.' },
  clientsBlocked: { name: 'redis.clients.blocked', unit: '{client}', type: 'gauge', kind: 'saturation', read: 'number', field: 'blocked_clients', description: 'Clients waiting in a blocking call (BLPOP, XREAD, WAIT, ...).' },
  memoryUsed: { name: 'redis.memory.used', unit: 'By', type: 'gauge', kind: 'memory', read: 'number', field: 'used_memory', description: 'Bytes allocated by Redis with its allocator.' },
  memoryRss: { name: 'redis.memory.rss', unit: 'By', type: 'gauge', kind: 'memory', read: 'number', field: 'used_memory_rss', description: 'Bytes of resident memory as the OS sees it.' },
  memoryPeak: { name: 'redis.memory.peak', unit: 'By', type: 'gauge', kind: 'memory', read: 'number', field: 'used_memory_peak', description: 'Highest redis.memory.used since start.' },
  memoryFragmentation: { name: 'redis.memory.fragmentation_ratio', unit: '1', type: 'gauge', read: 'number', field: 'mem_fragmentation_ratio', description: 'RSS divided by used memory; > 1.5 means fragmentation, < 1 means swapping.' },
  maxmemory: { name: 'redis.maxmemory', unit: 'By', type: 'gauge', kind: 'memory', read: 'number', field: 'maxmemory', description: 'Configured memory limit; 0 means no limit.' },
  commandsProcessed: { name: 'redis.commands.processed', unit: '{command}/s', type: 'rate', kind: 'throughput', read: 'rate', field: 'total_commands_processed', description: 'Commands processed per second over the interval.' },
  commands: { name: 'redis.commands', unit: '{operation}/s', type: 'gauge', kind: 'throughput', read: 'number', field: 'instantaneous_ops_per_sec', description: "Operations per second as sampled by the server (instantaneous_ops_per_sec)." },
  connectionsReceived: { name: 'redis.connections.received', unit: '{connection}/s', type: 'rate', kind: 'throughput', read: 'rate', field: 'total_connections_received', description: 'New connections accepted per second.' },
  connectionsRejected: { name: 'redis.connections.rejected', unit: '{connection}/s', type: 'rate', read: 'rate', field: 'rejected_connections', description: 'Connections refused per second because maxclients was reached.' },
  netInput: { name: 'redis.net.input', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'rate', field: 'total_net_input_bytes', description: 'Bytes read from the network per second.' },
  netOutput: { name: 'redis.net.output', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'rate', field: 'total_net_output_bytes', description: 'Bytes written to the network per second.' },
  keyspaceHits: { name: 'redis.keyspace.hits', unit: '{hit}/s', type: 'rate', kind: 'throughput', read: 'rate', field: 'keyspace_hits', description: 'Successful key lookups per second.' },
  keyspaceMisses: { name: 'redis.keyspace.misses', unit: '{miss}/s', type: 'rate', kind: 'throughput', read: 'rate', field: 'keyspace_misses', description: 'Failed key lookups per second.' },
  keyspaceHitRatio: { name: 'redis.keyspace.hit_ratio', unit: '1', type: 'gauge', read: 'computed', source: 'Δkeyspace_hits / (Δhits + Δmisses) over the interval', description: 'Share of lookups that found their key during the interval (not since start); no sample when there were no lookups.' },
  keysEvicted: { name: 'redis.keys.evicted', unit: '{key}/s', type: 'rate', read: 'rate', field: 'evicted_keys', description: 'Keys evicted per second because of maxmemory.' },
  keysExpired: { name: 'redis.keys.expired', unit: '{key}/s', type: 'rate', read: 'rate', field: 'expired_keys', description: 'Keys expired per second.' },
  dbKeys: { name: 'redis.db.keys', unit: '{key}', type: 'gauge', read: 'computed', source: 'INFO keyspace dbN:keys', attributes: ['db'], description: 'Keys in the database.' },
  dbExpires: { name: 'redis.db.expires', unit: '{key}', type: 'gauge', read: 'computed', source: 'INFO keyspace dbN:expires', attributes: ['db'], description: 'Keys with a TTL in the database.' },
  dbAvgTtl: { name: 'redis.db.avg_ttl', unit: 'ms', type: 'gauge', read: 'computed', source: 'INFO keyspace dbN:avg_ttl', attributes: ['db'], description: 'Estimated average TTL of keys with a TTL.' },
  rdbChanges: { name: 'redis.rdb.changes_since_last_save', unit: '{change}', type: 'gauge', read: 'number', field: 'rdb_changes_since_last_save', description: 'Writes since the last RDB snapshot (data at risk on a crash).' },
  rdbLastSaveAge: { name: 'redis.rdb.last_save.age', unit: 's', type: 'gauge', read: 'computed', source: 'server_time_usec - rdb_last_save_time', description: 'Seconds since the last successful RDB save (measured on the server clock).' },
  rdbLastBgsaveStatus: { name: 'redis.rdb.last_bgsave.status', unit: '1', type: 'gauge', kind: 'availability', read: 'status', field: 'rdb_last_bgsave_status', okValue: 'ok', description: '1 when the last background save succeeded, 0 when it failed.' },
  aofEnabled: { name: 'redis.aof.enabled', unit: '1', type: 'gauge', read: 'number', field: 'aof_enabled', description: '1 when append-only-file persistence is on.' },
  aofLastWriteStatus: { name: 'redis.aof.last_write.status', unit: '1', type: 'gauge', kind: 'availability', read: 'status', field: 'aof_last_write_status', okValue: 'ok', description: '1 when the last AOF write succeeded, 0 when it failed.' },
  role: { name: 'redis.role', unit: '1', type: 'gauge', read: 'computed', source: 'INFO replication role', attributes: ['role'], description: '1 on the series of the current role (primary or replica), 0 on the other; a failover flips them.' },
  slavesConnected: { name: 'redis.slaves.connected', unit: '{replica}', type: 'gauge', read: 'number', field: 'connected_slaves', description: 'Replicas connected to this primary.' },
  replicationOffset: { name: 'redis.replication.offset', unit: 'By', type: 'gauge', read: 'number', field: 'master_repl_offset', description: 'Replication offset of this server.' },
  replicationLag: { name: 'redis.replication.lag', unit: 'By', type: 'gauge', read: 'computed', source: 'master_repl_offset - slaveN:offset', attributes: ['replica'], description: 'How far each replica is behind this primary, in bytes of replication stream.' },
  masterLinkStatus: { name: 'redis.replication.master_link.status', unit: '1', type: 'gauge', kind: 'availability', read: 'status', field: 'master_link_status', okValue: 'up', description: 'On a replica: 1 when the link to its primary is up, 0 when down.' },
  cpuTime: { name: 'redis.cpu.time', unit: 's/s', type: 'rate', kind: 'utilization', read: 'computed', source: 'used_cpu_sys, used_cpu_user', attributes: ['state'], description: 'CPU seconds per second used by the server (state sys or user); 1 = one core.' },
  latestFork: { name: 'redis.latest_fork', unit: 'us', type: 'gauge', kind: 'latency', read: 'number', field: 'latest_fork_usec', description: 'Duration of the latest fork (RDB save, AOF rewrite).' },
  slowlogLength: { name: 'redis.slowlog.length', unit: '{entry}', type: 'gauge', read: 'computed', source: 'SLOWLOG LEN', description: 'Entries in the slow log.' },
  latencyLatest: { name: 'redis.latency.latest', unit: 'ms', type: 'gauge', kind: 'latency', read: 'computed', source: 'LATENCY LATEST', attributes: ['event'], description: 'Latest latency spike per event class, when latency-monitor-threshold is set.' },
});

export type RedisMetricId = keyof typeof REDIS_METRICS;

/** Specs read straight from one INFO field, in table order: the collector's main loop. */
export const FIELD_METRICS: readonly RedisMetricSpec[] = Object.values(REDIS_METRICS).filter((s: RedisMetricSpec) => s.read !== 'computed');

/** The README's metrics table, rendered from {@link REDIS_METRICS}. */
export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | from | description |', '|---|---|---|---|---|---|'];
  for (const s of Object.values(REDIS_METRICS) as RedisMetricSpec[]) {
    const from = s.read === 'computed' ? s.source : s.read === 'status' ? `\`${s.field}\` = ${s.okValue}` : `\`${s.field}\``;
    const attributes = s.attributes?.map((a) => `\`${a}\``).join(', ') ?? '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${attributes} | ${from} | ${s.description} |`);
  }
  return rows.join('\n');
}
