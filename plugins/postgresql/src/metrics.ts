/**
 * The one table of metrics this collector emits. The collector declares every series from it and
 * the README's table is rendered from it ({@link renderMetricsTable}; a test fails when the README
 * drifts).
 *
 * Names follow the OpenTelemetry Collector `postgresql` receiver where it has one
 * (`postgresql.backends`, `postgresql.commits`, `postgresql.deadlocks`, `postgresql.db_size`, ...).
 * Every `rate` is per second over the last interval, derived from PostgreSQL's cumulative counters
 * with `CounterRate`, so a server restart or `pg_stat_reset()` yields a gap, never a negative or
 * inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

export interface PostgresqlMetricSpec {
  readonly name: string;
  /** UCUM unit. */
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  /** Where the value comes from, for the docs. */
  readonly source: string;
  /** Point attributes; each has a bounded set of values (databases are capped by `maxDatabases`). */
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, PostgresqlMetricSpec>>(table: T): T {
  return table;
}

const DB = ['postgresql.database.name'] as const;

export const POSTGRESQL_METRICS = spec({
  uptime: { name: 'postgresql.uptime', unit: 's', type: 'gauge', source: 'now() - pg_postmaster_start_time()', description: 'Seconds since the server (postmaster) started.' },
  connectionMax: { name: 'postgresql.connection.max', unit: '{connection}', type: 'gauge', source: 'max_connections', description: 'Configured maximum number of client connections.' },
  connectionUtilization: { name: 'postgresql.connection.utilization', unit: '1', type: 'gauge', kind: 'utilization', source: 'client backends / max_connections', description: 'Share of max_connections in use (the collector\'s own connection included); new clients are refused near 1 (minus superuser_reserved_connections).' },
  connections: { name: 'postgresql.connections', unit: '{connection}', type: 'gauge', kind: 'saturation', source: 'pg_stat_activity by state', attributes: ['state'], description: 'Client connections by state (active, idle, idle_in_transaction, idle_in_transaction_aborted, ...), the collector\'s own excluded; `unknown` when the role may not see other sessions (grant pg_monitor).' },
  lockWaiters: { name: 'postgresql.connections.waiting', unit: '{connection}', type: 'gauge', kind: 'saturation', source: "pg_stat_activity wait_event_type = 'Lock'", description: 'Client connections blocked waiting for a lock right now.' },
  transactionMaxAge: { name: 'postgresql.transaction.max_age', unit: 's', type: 'gauge', kind: 'latency', source: 'max(now() - xact_start)', description: 'Age of the oldest open transaction (0 when none): long ones hold back vacuum and hold locks.' },
  queryMaxDuration: { name: 'postgresql.query.max_duration', unit: 's', type: 'gauge', kind: 'latency', source: "max(now() - query_start) where state = 'active'", description: 'Running time of the longest query still running (0 when none).' },
  locks: { name: 'postgresql.database.locks', unit: '{lock}', type: 'gauge', source: 'pg_locks by mode', attributes: ['mode'], description: 'Locks held or awaited, by lock mode (AccessShareLock, RowExclusiveLock, ...).' },
  locksWaiting: { name: 'postgresql.locks.waiting', unit: '{lock}', type: 'gauge', kind: 'saturation', source: 'pg_locks where not granted', description: 'Lock requests not granted yet.' },
  backends: { name: 'postgresql.backends', unit: '{connection}', type: 'gauge', source: 'pg_stat_database.numbackends', attributes: DB, description: 'Backends connected to the database.' },
  commits: { name: 'postgresql.commits', unit: '{commit}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.xact_commit', attributes: DB, description: 'Transactions committed per second.' },
  rollbacks: { name: 'postgresql.rollbacks', unit: '{rollback}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.xact_rollback', attributes: DB, description: 'Transactions rolled back per second (errors, deadlock victims, explicit ROLLBACK).' },
  blocksRead: { name: 'postgresql.blocks_read', unit: '{block}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.blks_read', attributes: DB, description: 'Blocks read from outside shared buffers (OS cache or disk) per second.' },
  blocksHit: { name: 'postgresql.blocks_hit', unit: '{block}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.blks_hit', attributes: DB, description: 'Blocks found in shared buffers per second.' },
  cacheHitRatio: { name: 'postgresql.cache.hit_ratio', unit: '1', type: 'gauge', source: 'Δblks_hit / (Δblks_hit + Δblks_read) over the interval', attributes: DB, description: 'Share of block reads served from shared buffers during the interval (not since start); no sample when nothing was read.' },
  tupReturned: { name: 'postgresql.tup_returned', unit: '{tuple}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.tup_returned', attributes: DB, description: 'Rows scanned per second (sequential and index scans).' },
  tupFetched: { name: 'postgresql.tup_fetched', unit: '{tuple}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.tup_fetched', attributes: DB, description: 'Rows fetched by index scans per second.' },
  tupInserted: { name: 'postgresql.tup_inserted', unit: '{tuple}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.tup_inserted', attributes: DB, description: 'Rows inserted per second.' },
  tupUpdated: { name: 'postgresql.tup_updated', unit: '{tuple}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.tup_updated', attributes: DB, description: 'Rows updated per second.' },
  tupDeleted: { name: 'postgresql.tup_deleted', unit: '{tuple}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.tup_deleted', attributes: DB, description: 'Rows deleted per second.' },
  deadlocks: { name: 'postgresql.deadlocks', unit: '{deadlock}/s', type: 'rate', source: 'pg_stat_database.deadlocks', attributes: DB, description: 'Deadlocks detected per second (each one aborted a transaction).' },
  conflicts: { name: 'postgresql.conflicts', unit: '{query}/s', type: 'rate', source: 'pg_stat_database.conflicts', attributes: DB, description: 'On a standby: queries cancelled per second because of recovery conflicts.' },
  tempFiles: { name: 'postgresql.temp_files', unit: '{file}/s', type: 'rate', source: 'pg_stat_database.temp_files', attributes: DB, description: 'Temporary files created per second (sorts and hashes larger than work_mem).' },
  tempBytes: { name: 'postgresql.temp.io', unit: 'By/s', type: 'rate', kind: 'throughput', source: 'pg_stat_database.temp_bytes', attributes: DB, description: 'Bytes written to temporary files per second.' },
  dbSize: { name: 'postgresql.db_size', unit: 'By', type: 'gauge', kind: 'memory', source: 'pg_database_size()', attributes: DB, description: 'Disk space used by the database.' },
  xidAge: { name: 'postgresql.database.xid_age', unit: '{transaction}', type: 'gauge', source: 'age(pg_database.datfrozenxid)', attributes: DB, description: 'Transactions since the database was last fully frozen; PostgreSQL stops accepting writes near 2^31 (wraparound).' },
  role: { name: 'postgresql.role', unit: '1', type: 'gauge', source: 'pg_is_in_recovery()', attributes: ['role'], description: '1 on the series of the current role (primary or replica), 0 on the other; a promotion flips them.' },
  replicationDataDelay: { name: 'postgresql.replication.data_delay', unit: 'By', type: 'gauge', source: 'pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) per pg_stat_replication row', attributes: ['replication.client'], description: 'On a primary: WAL bytes each standby has not replayed yet.' },
  walLag: { name: 'postgresql.wal.lag', unit: 's', type: 'gauge', kind: 'latency', source: 'pg_stat_replication write_lag / flush_lag / replay_lag', attributes: ['replication.client', 'operation'], description: 'On a primary: how long recent WAL took to be written, flushed and replayed on each standby (0 when idle).' },
  replicaReplayDelay: { name: 'postgresql.replica.replay_delay', unit: 's', type: 'gauge', kind: 'latency', source: 'now() - pg_last_xact_replay_timestamp(), 0 when caught up', description: 'On a standby: how far replay is behind the primary in time (0 when everything received is replayed).' },
  replicaPendingBytes: { name: 'postgresql.replica.pending', unit: 'By', type: 'gauge', source: 'pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())', description: 'On a standby: WAL received but not replayed yet.' },
  checkpoints: { name: 'postgresql.bgwriter.checkpoint.count', unit: '{checkpoint}/s', type: 'rate', source: 'pg_stat_bgwriter checkpoints_timed / checkpoints_req (pg_stat_checkpointer on 17+)', attributes: ['type'], description: 'Checkpoints per second, `scheduled` (checkpoint_timeout) or `requested` (WAL volume, CHECKPOINT); many requested ones mean max_wal_size is too small.' },
  bufferWrites: { name: 'postgresql.bgwriter.buffers.writes', unit: '{buffer}/s', type: 'rate', kind: 'throughput', source: 'pg_stat_bgwriter buffers_checkpoint / buffers_clean / buffers_backend', attributes: ['source'], description: 'Buffers written per second by checkpoints, the background writer and backends themselves (backend writes are absent on 17+).' },
  bgwriterMaxWritten: { name: 'postgresql.bgwriter.maxwritten', unit: '{stop}/s', type: 'rate', source: 'pg_stat_bgwriter.maxwritten_clean', description: 'Times per second the background writer stopped because it wrote bgwriter_lru_maxpages.' },
});

export type PostgresqlMetricId = keyof typeof POSTGRESQL_METRICS;

/** The README's metrics table, rendered from {@link POSTGRESQL_METRICS}. */
export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | from | description |', '|---|---|---|---|---|---|'];
  for (const s of Object.values(POSTGRESQL_METRICS) as PostgresqlMetricSpec[]) {
    const attributes = s.attributes?.map((a) => `\`${a}\``).join(', ') ?? '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${attributes} | ${s.source} | ${s.description} |`);
  }
  return rows.join('\n');
}
