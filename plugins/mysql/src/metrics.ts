/**
 * The one table of metrics this collector emits. The collector declares every series from it and
 * the README's table is rendered from it ({@link renderMetricsTable}; a test fails when the README
 * drifts).
 *
 * Names follow the OpenTelemetry Collector `mysql` receiver where it has one (`mysql.threads`,
 * `mysql.commands`, `mysql.query.slow.count`, `mysql.buffer_pool.usage`, `mysql.row_locks`,
 * `mysql.replica.time_behind_source`, ...). Counters from `SHOW GLOBAL STATUS` are emitted as
 * per-second rates over the last interval (`CounterRate`), so a restart or `FLUSH STATUS` yields a
 * gap, never a negative or inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

/**
 * How the value is read:
 * - `status`: a `SHOW GLOBAL STATUS` value as a gauge;
 * - `counter`: a `SHOW GLOBAL STATUS` counter, emitted as a per-second rate;
 * - `computed`: derived by the collector (see `source`).
 */
export type MysqlMetricRead = 'status' | 'counter' | 'computed';

export interface MysqlMetricSpec {
  readonly name: string;
  /** UCUM unit. */
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  readonly read: MysqlMetricRead;
  /** `SHOW GLOBAL STATUS` variable for `status`/`counter`, with the fixed attributes it gets. */
  readonly fields?: readonly (readonly [variable: string, attributes: Readonly<Record<string, string>>])[];
  /** Where a `computed` value comes from, for the docs. */
  readonly source?: string;
  /** Point attributes (each with a fixed, small set of values). */
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, MysqlMetricSpec>>(table: T): T {
  return table;
}

const one = (variable: string) => [[variable, {}]] as const;

export const MYSQL_METRICS = spec({
  uptime: { name: 'mysql.uptime', unit: 's', type: 'gauge', read: 'status', fields: one('Uptime'), description: 'Seconds since the server started.' },
  connectionMax: { name: 'mysql.connection.max', unit: '{connection}', type: 'gauge', read: 'computed', source: 'variable max_connections', description: 'Configured maximum number of client connections.' },
  connectionUtilization: { name: 'mysql.connection.utilization', unit: '1', type: 'gauge', kind: 'utilization', read: 'computed', source: 'Threads_connected / max_connections', description: 'Share of max_connections in use (the collector\'s own connection included); at 1 new clients get "Too many connections".' },
  maxUsedConnections: { name: 'mysql.connection.max_used', unit: '{connection}', type: 'gauge', read: 'status', fields: one('Max_used_connections'), description: 'Most connections open at once since start (or FLUSH STATUS).' },
  threads: {
    name: 'mysql.threads', unit: '{thread}', type: 'gauge', kind: 'saturation', read: 'status', attributes: ['kind'],
    fields: [['Threads_connected', { kind: 'connected' }], ['Threads_running', { kind: 'running' }], ['Threads_cached', { kind: 'cached' }]],
    description: 'Client threads: connected, running a statement now, and idle in the thread cache.',
  },
  connections: { name: 'mysql.connection.count', unit: '{connection}/s', type: 'rate', kind: 'throughput', read: 'counter', fields: one('Connections'), description: 'Connection attempts per second (successful or not).' },
  connectionErrors: {
    name: 'mysql.connection.errors', unit: '{error}/s', type: 'rate', read: 'counter', attributes: ['error'],
    fields: [['Connection_errors_max_connections', { error: 'max_connections' }], ['Connection_errors_internal', { error: 'internal' }], ['Connection_errors_accept', { error: 'accept' }], ['Connection_errors_select', { error: 'select' }], ['Connection_errors_tcpwrap', { error: 'tcpwrap' }], ['Connection_errors_peer_address', { error: 'peer_address' }]],
    description: 'Connections refused per second, by reason (max_connections: the server was full).',
  },
  abortedConnects: { name: 'mysql.aborted.connects', unit: '{connection}/s', type: 'rate', read: 'counter', fields: one('Aborted_connects'), description: 'Failed connection attempts per second (wrong password, no privilege, handshake timeout).' },
  abortedClients: { name: 'mysql.aborted.clients', unit: '{connection}/s', type: 'rate', read: 'counter', fields: one('Aborted_clients'), description: 'Connections dropped per second because the client died or idled past wait_timeout.' },
  questions: { name: 'mysql.query.client.count', unit: '{query}/s', type: 'rate', kind: 'throughput', read: 'counter', fields: one('Questions'), description: 'Statements sent by clients per second.' },
  queries: { name: 'mysql.query.count', unit: '{query}/s', type: 'rate', kind: 'throughput', read: 'counter', fields: one('Queries'), description: 'Statements executed per second, including those inside stored programs.' },
  slowQueries: { name: 'mysql.query.slow.count', unit: '{query}/s', type: 'rate', read: 'counter', fields: one('Slow_queries'), description: 'Statements per second that took longer than long_query_time.' },
  commands: {
    name: 'mysql.commands', unit: '{command}/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['command'],
    fields: ['select', 'insert', 'update', 'delete', 'replace', 'commit', 'rollback', 'begin', 'insert_select', 'update_multi', 'delete_multi', 'load', 'call_procedure'].map((c) => [`Com_${c}`, { command: c }] as const),
    description: 'Statements per second by type (Com_*).',
  },
  bytes: { name: 'mysql.net.bytes', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['direction'], fields: [['Bytes_received', { direction: 'received' }], ['Bytes_sent', { direction: 'sent' }]], description: 'Bytes per second received from and sent to clients.' },
  fullJoins: { name: 'mysql.joins.full', unit: '{join}/s', type: 'rate', read: 'counter', fields: one('Select_full_join'), description: 'Joins per second that scanned a whole table for lack of an index.' },
  tmpResources: {
    name: 'mysql.tmp_resources', unit: '{resource}/s', type: 'rate', read: 'counter', attributes: ['resource'],
    fields: [['Created_tmp_disk_tables', { resource: 'disk_tables' }], ['Created_tmp_tables', { resource: 'tables' }], ['Created_tmp_files', { resource: 'files' }]],
    description: 'Temporary tables and files created per second; disk_tables means an in-memory one did not fit.',
  },
  tableLocks: { name: 'mysql.locks', unit: '{lock}/s', type: 'rate', read: 'counter', attributes: ['kind'], fields: [['Table_locks_immediate', { kind: 'immediate' }], ['Table_locks_waited', { kind: 'waited' }]], description: 'Table locks per second granted at once or after a wait.' },
  bufferPoolUsage: { name: 'mysql.buffer_pool.usage', unit: 'By', type: 'gauge', kind: 'memory', read: 'status', fields: one('Innodb_buffer_pool_bytes_data'), description: 'Bytes of data in the InnoDB buffer pool.' },
  bufferPoolDirty: { name: 'mysql.buffer_pool.dirty', unit: 'By', type: 'gauge', kind: 'memory', read: 'status', fields: one('Innodb_buffer_pool_bytes_dirty'), description: 'Bytes of modified pages not yet written to disk.' },
  bufferPoolLimit: { name: 'mysql.buffer_pool.limit', unit: 'By', type: 'gauge', read: 'computed', source: 'variable innodb_buffer_pool_size', description: 'Configured size of the InnoDB buffer pool.' },
  bufferPoolReadRequests: { name: 'mysql.buffer_pool.read_requests', unit: '{request}/s', type: 'rate', kind: 'throughput', read: 'counter', fields: one('Innodb_buffer_pool_read_requests'), description: 'Logical page reads per second.' },
  bufferPoolReads: { name: 'mysql.buffer_pool.disk_reads', unit: '{read}/s', type: 'rate', kind: 'throughput', read: 'counter', fields: one('Innodb_buffer_pool_reads'), description: 'Page reads per second that missed the buffer pool and went to disk.' },
  bufferPoolHitRatio: { name: 'mysql.buffer_pool.hit_ratio', unit: '1', type: 'gauge', read: 'computed', source: '1 - ΔInnodb_buffer_pool_reads / ΔInnodb_buffer_pool_read_requests over the interval', description: 'Share of page reads served from memory during the interval (not since start); no sample when there were no reads.' },
  rowLockWaits: { name: 'mysql.row_locks.waits', unit: '{wait}/s', type: 'rate', read: 'counter', fields: one('Innodb_row_lock_waits'), description: 'InnoDB row lock waits per second.' },
  rowLockTime: { name: 'mysql.row_locks.time', unit: 'ms/s', type: 'rate', kind: 'saturation', read: 'counter', fields: one('Innodb_row_lock_time'), description: 'Milliseconds per second spent waiting for InnoDB row locks.' },
  rowLockCurrentWaits: { name: 'mysql.row_locks.current_waits', unit: '{wait}', type: 'gauge', kind: 'saturation', read: 'status', fields: one('Innodb_row_lock_current_waits'), description: 'InnoDB row lock waits in progress now.' },
  deadlocks: { name: 'mysql.innodb.deadlocks', unit: '{deadlock}/s', type: 'rate', read: 'counter', fields: one('Innodb_deadlocks'), description: 'InnoDB deadlocks per second (MariaDB; MySQL does not count them in status).' },
  transactionMaxAge: { name: 'mysql.transaction.max_age', unit: 's', type: 'gauge', kind: 'latency', read: 'computed', source: 'information_schema.INNODB_TRX trx_started', description: 'Age of the oldest open InnoDB transaction (0 when none); needs PROCESS.' },
  transactionsLockWait: { name: 'mysql.transactions.lock_wait', unit: '{transaction}', type: 'gauge', kind: 'saturation', read: 'computed', source: "information_schema.INNODB_TRX trx_state = 'LOCK WAIT'", description: 'InnoDB transactions waiting for a lock now; needs PROCESS.' },
  queryMaxDuration: { name: 'mysql.query.max_duration', unit: 's', type: 'gauge', kind: 'latency', read: 'computed', source: 'information_schema.PROCESSLIST TIME of running statements', description: 'Running time of the longest statement still running (0 when none), the collector\'s own and replication threads excluded; needs PROCESS to see other users\' statements.' },
  replicaBehind: { name: 'mysql.replica.time_behind_source', unit: 's', type: 'gauge', kind: 'latency', read: 'computed', source: 'SHOW REPLICA STATUS Seconds_Behind_Master', description: 'On a replica: how far the applied events are behind the source (absent while the SQL thread is stopped).' },
  replicaThreads: { name: 'mysql.replica.thread.running', unit: '1', type: 'gauge', kind: 'availability', read: 'computed', source: 'SHOW REPLICA STATUS Slave_IO_Running / Slave_SQL_Running', attributes: ['thread'], description: 'On a replica: 1 when the io (fetch) or sql (apply) replication thread runs, 0 when it stopped.' },
});

export type MysqlMetricId = keyof typeof MYSQL_METRICS;

/** Specs read straight from `SHOW GLOBAL STATUS`, in table order. */
export const STATUS_METRICS: readonly MysqlMetricSpec[] = Object.values(MYSQL_METRICS).filter((s: MysqlMetricSpec) => s.read !== 'computed');

/** The README's metrics table, rendered from {@link MYSQL_METRICS}. */
export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | from | description |', '|---|---|---|---|---|---|'];
  for (const s of Object.values(MYSQL_METRICS) as MysqlMetricSpec[]) {
    const from = s.read === 'computed' ? s.source : s.fields!.map(([v]) => `\`${v}\``).join(', ');
    const attributes = s.attributes?.map((a) => `\`${a}\``).join(', ') ?? '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${attributes} | ${from} | ${s.description} |`);
  }
  return rows.join('\n');
}
