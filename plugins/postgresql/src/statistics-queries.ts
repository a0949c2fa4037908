/**
 * The SQL the collector runs each round, with the columns each returns. All read the cumulative
 * statistics views that every PostgreSQL >= 10 has; a role with `pg_monitor` may run all of them.
 * Every number is cast to float8 or text on the server, so node-postgres never hands back a value
 * whose type depends on the server version (bigint would come back as a string, numeric as text).
 */

/** One row: server-wide facts. */
export const SERVER_SQL = `SELECT current_setting('server_version_num')::int AS version_num,
  current_setting('max_connections')::int AS max_connections,
  pg_is_in_recovery() AS in_recovery,
  extract(epoch FROM pg_postmaster_start_time())::float8 AS started_at,
  extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_s`;

/**
 * One row per database that accepts connections and is not a template; `$1` is a text[] filter
 * (empty: all). Ordered by name so `maxDatabases` keeps a stable set.
 */
export const DATABASES_SQL = `SELECT d.datname AS name,
  s.numbackends::float8 AS backends, s.xact_commit::float8 AS commits, s.xact_rollback::float8 AS rollbacks,
  s.blks_read::float8 AS blks_read, s.blks_hit::float8 AS blks_hit,
  s.tup_returned::float8 AS tup_returned, s.tup_fetched::float8 AS tup_fetched, s.tup_inserted::float8 AS tup_inserted,
  s.tup_updated::float8 AS tup_updated, s.tup_deleted::float8 AS tup_deleted,
  s.conflicts::float8 AS conflicts, s.temp_files::float8 AS temp_files, s.temp_bytes::float8 AS temp_bytes,
  s.deadlocks::float8 AS deadlocks,
  CASE WHEN has_database_privilege(d.oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'USAGE') THEN pg_database_size(d.oid)::float8 END AS size_bytes,
  age(d.datfrozenxid)::float8 AS xid_age
FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
WHERE d.datallowconn AND NOT d.datistemplate AND (cardinality($1::text[]) = 0 OR d.datname = ANY($1::text[]))
ORDER BY d.datname`;

/**
 * Client backends by state, the collector's own excluded. Without pg_monitor the collector's role
 * sees `state` and `backend_type` of other roles' sessions as NULL: those rows (with a user, so not
 * the checkpointer and friends) count as state `unknown`. `total` counts every client backend including
 * the collector's, for utilisation against max_connections.
 */
export const ACTIVITY_SQL = `SELECT coalesce(state, 'unknown') AS state,
  count(*) FILTER (WHERE pid <> pg_backend_pid())::float8 AS connections,
  count(*)::float8 AS total,
  count(*) FILTER (WHERE wait_event_type = 'Lock')::float8 AS waiting,
  coalesce(max(extract(epoch FROM now() - xact_start)) FILTER (WHERE pid <> pg_backend_pid()), 0)::float8 AS oldest_xact_s,
  coalesce(max(extract(epoch FROM now() - query_start)) FILTER (WHERE state = 'active' AND pid <> pg_backend_pid()), 0)::float8 AS longest_query_s
FROM pg_stat_activity WHERE backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL) GROUP BY 1`;

export const LOCKS_SQL = `SELECT mode, count(*)::float8 AS locks, count(*) FILTER (WHERE NOT granted)::float8 AS waiting FROM pg_locks WHERE mode IS NOT NULL GROUP BY mode`;

/** On a primary: one row per connected standby (or logical replication / pg_basebackup client). */
export const REPLICATION_SQL = `SELECT coalesce(nullif(application_name, ''), 'unnamed') || '@' || coalesce(host(client_addr), 'local') AS client,
  pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS replay_bytes,
  coalesce(extract(epoch FROM write_lag), 0)::float8 AS write_lag_s,
  coalesce(extract(epoch FROM flush_lag), 0)::float8 AS flush_lag_s,
  coalesce(extract(epoch FROM replay_lag), 0)::float8 AS replay_lag_s
FROM pg_stat_replication ORDER BY 1`;

/** On a standby: time and bytes of WAL not replayed yet (0 s when replay caught up with receive). */
export const STANDBY_SQL = `SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS replay_delay_s,
  coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8 AS pending_bytes`;

/** Checkpoint and buffer-write counters before PostgreSQL 17. */
export const BGWRITER_SQL = `SELECT checkpoints_timed::float8 AS checkpoints_timed, checkpoints_req::float8 AS checkpoints_req,
  buffers_checkpoint::float8 AS buffers_checkpoint, buffers_clean::float8 AS buffers_clean,
  buffers_backend::float8 AS buffers_backend, maxwritten_clean::float8 AS maxwritten_clean
FROM pg_stat_bgwriter`;

/** The same on PostgreSQL 17+, where checkpoints moved to pg_stat_checkpointer and buffers_backend is gone. */
export const BGWRITER_17_SQL = `SELECT c.num_timed::float8 AS checkpoints_timed, c.num_requested::float8 AS checkpoints_req,
  c.buffers_written::float8 AS buffers_checkpoint, b.buffers_clean::float8 AS buffers_clean,
  NULL::float8 AS buffers_backend, b.maxwritten_clean::float8 AS maxwritten_clean
FROM pg_stat_checkpointer c, pg_stat_bgwriter b`;
