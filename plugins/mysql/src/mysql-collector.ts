/**
 * The `mysql` collector (MariaDB and MySQL): one connection per instance, one round per interval.
 *
 * A round reads `SHOW GLOBAL STATUS`, two variables (max_connections, innodb_buffer_pool_size),
 * open InnoDB transactions and running statements from information_schema, and replica state, and
 * writes every value of {@link MYSQL_METRICS} the server reported.
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable / refused / wrong password / host not allowed / server full: status `error` with a
 *   coded message and a hint, `connection_errors_total` counts the round; the next round connects
 *   again (one attempt per round).
 * - the connection breaks mid-run (server stopped, KILL): the connection is dropped and the next
 *   round reconnects; the first good round sets status `ok`.
 * - a restart (Uptime went back): every counter baseline is dropped, so the first round after it
 *   emits no rate instead of a negative or inflated one; a `mysql.restart` event is emitted.
 * - the transaction/processlist or replica query refused (missing PROCESS or REPLICATION CLIENT):
 *   status `degraded` once naming the grant, that part is switched off for this instance, the rest
 *   still counts.
 * - a status value that is not a finite non-negative number: dropped and counted
 *   (`values_rejected_total`); a status reply without Variable_name/Value rows: `degraded` with
 *   `SEXTANT_ERR_PARSE_FAILED`.
 */
import mysql from 'mysql2/promise';
import { z } from 'zod';
import {
  createCollectorFactory,
  ErrorCode,
  formatError,
  isSextantError,
  SextantError,
  type Attributes,
  type Collector,
  type CollectorContext,
  type HealthState,
  type SelfCounter,
} from '@sextant/plugin-api';
import { CounterRate } from '@sextant/plugin-kit';
import { MetricWriter, StatusChangeReporter } from '@sextant/integration-kit';
import { endpointOf, mysqlConfigDefaults, mysqlConfigSchema, type MysqlConfig, type MysqlEndpoint } from './config.js';
import { MYSQL_METRICS, STATUS_METRICS, type MysqlMetricSpec } from './metrics.js';
import { classifyMysqlError } from './mysql-errors.js';

const M = MYSQL_METRICS;

const VARIABLES_SQL = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections', 'innodb_buffer_pool_size')";
/** Needs PROCESS; without it INNODB_TRX is refused. */
const TRANSACTIONS_SQL = "SELECT COUNT(*) AS trx, COALESCE(SUM(trx_state = 'LOCK WAIT'), 0) AS lock_wait, COALESCE(MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())), 0) AS oldest_s FROM information_schema.INNODB_TRX";
/** Statements running now, not sleeping sessions, replication or the server's own threads. */
const PROCESSLIST_SQL = "SELECT COALESCE(MAX(TIME), 0) AS longest_s FROM information_schema.PROCESSLIST WHERE COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID', 'Connect', 'Slave_IO', 'Slave_SQL', 'Slave_worker') AND ID <> CONNECTION_ID() AND USER NOT IN ('system user', 'event_scheduler')";

/** A status value: finite numbers and numeric strings; NaN for anything else, undefined when absent. */
export function statusNumber(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.trim())) return Number(value);
  return Number.NaN;
}

/** `SHOW ... STATUS/VARIABLES` rows as a map; `undefined` when the reply has no such rows. */
export function variablesOf(rows: unknown): Map<string, unknown> | undefined {
  if (!Array.isArray(rows)) return undefined;
  const map = new Map<string, unknown>();
  for (const row of rows) {
    const name = (row as { Variable_name?: unknown } | null)?.Variable_name;
    if (typeof name === 'string') map.set(name, (row as { Value?: unknown }).Value);
  }
  return map.size > 0 ? map : undefined;
}

interface SelfCounters {
  readonly connectionErrors: SelfCounter;
  readonly queryErrors: SelfCounter;
  readonly valuesRejected: SelfCounter;
  readonly restarts: SelfCounter;
}

type Connection = mysql.Connection;

export class MysqlCollector implements Collector {
  private readonly endpoint: MysqlEndpoint;
  private readonly where: string;
  private readonly user: string;
  private readonly password: string | undefined;
  private readonly resource: Attributes;
  private readonly counters: SelfCounters;

  private connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private readonly writer: MetricWriter;
  private readRequests = new CounterRate();
  private diskReads = new CounterRate();
  private lastUptime = Number.NaN;
  private transactionsEnabled = true;
  private replicaEnabled = true;
  /** `SHOW REPLICA STATUS` (MariaDB 10.5+, MySQL 8.0.22+) or the older `SHOW SLAVE STATUS`. */
  private replicaStatement = 'SHOW REPLICA STATUS';
  private readonly status: StatusChangeReporter;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<MysqlConfig>) {
    const config = ctx.config;
    this.endpoint = endpointOf(config.url);
    this.where = `${this.endpoint.host}:${this.endpoint.port}`;
    const url = new URL(config.url);
    this.user = config.username ?? (url.username ? decodeURIComponent(url.username) : 'root');
    this.password = config.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'mysql',
      'server.address': this.endpoint.host,
      'server.port': this.endpoint.port,
      'db.system': 'mysql',
      ...config.resource,
    };
    const m = ctx.metrics;
    this.counters = {
      connectionErrors: m.counter('connection_errors_total', 'Rounds that could not connect to MySQL or lost the connection'),
      queryErrors: m.counter('query_errors_total', 'Statistics queries that failed or timed out'),
      valuesRejected: m.counter('values_rejected_total', 'Status values dropped because they were not finite non-negative numbers'),
      restarts: m.counter('server_restarts_total', 'Server restarts noticed (Uptime went back)'),
    };
    this.writer = new MetricWriter(ctx, { resource: this.resource, seriesLimited: m.counter('series_limited_total', 'Series not created because the runtime series limit was reached') });
    this.status = new StatusChangeReporter(ctx, `mysql at ${this.where} is healthy again`);
  }

  start(): void {
    if (this.stopped) return;
    this.ctx.status.set('starting', `connecting to mysql at ${this.where}`);
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    let connection: Connection;
    try {
      connection = await this.open();
    } catch (error) {
      this.counters.connectionErrors.add(1);
      this.status.report('error', isSextantError(error) ? error : classifyMysqlError(error, this.endpoint, this.user));
      return;
    }
    if (signal.aborted || this.stopped) return;
    const now = this.ctx.clock.now();

    let status: Map<string, unknown> | undefined;
    let variables: Map<string, unknown> | undefined;
    try {
      status = variablesOf(await this.query(connection, 'SHOW GLOBAL STATUS'));
      variables = variablesOf(await this.query(connection, VARIABLES_SQL));
    } catch (error) {
      this.roundFailed(connection, error);
      return;
    }
    if (!status) {
      this.counters.valuesRejected.add(1);
      this.status.report('degraded', new SextantError(ErrorCode.PARSE_FAILED, `SHOW GLOBAL STATUS on ${this.where} returned no Variable_name/Value rows`, { hint: 'is this a MySQL or MariaDB server (or a proxy that answers it itself)? check url' }));
      return;
    }
    this.processStatus(status, variables ?? new Map(), now);

    let degraded: SextantError | undefined;
    try {
      if (this.transactionsEnabled) degraded = (await this.collectActivity(connection, now)) ?? degraded;
      if (this.replicaEnabled) degraded = (await this.collectReplica(connection, now)) ?? degraded;
    } catch (error) {
      this.roundFailed(connection, error);
      return;
    }
    if (degraded) this.status.report('degraded', degraded);
    else this.status.report('ok');
  }

  /** The open connection, or a new one (one attempt; the next round tries again). */
  private async open(): Promise<Connection> {
    if (this.connection) return this.connection;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Connection> {
    const connection = await mysql.createConnection({
      host: this.endpoint.host,
      port: this.endpoint.port,
      user: this.user,
      password: this.password,
      connectTimeout: this.ctx.config.timeout,
      // status values stay strings; numbers are parsed (and checked) by the collector
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectAttributes: { program_name: 'sextant-collector' },
    });
    // a broken connection is reported through 'error'; without a listener it would crash the process
    connection.on('error', (error: unknown) => this.drop(connection, error));
    if (this.stopped) {
      connection.destroy();
      throw new SextantError(ErrorCode.CONNECTION_FAILED, 'collector stopped');
    }
    this.connection = connection;
    this.ctx.logger.info(`connected to mysql at ${this.where} as ${this.user}`);
    return connection;
  }

  private drop(connection: Connection, error?: unknown): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    if (!this.stopped && error) this.ctx.logger.warn(`mysql at ${this.where}: connection lost (${formatError(classifyMysqlError(error, this.endpoint, this.user))})`);
    connection.destroy();
  }

  private roundFailed(connection: Connection, error: unknown): void {
    const classified = classifyMysqlError(error, this.endpoint, this.user);
    if (classified.code === ErrorCode.CONNECTION_FAILED || (error as { fatal?: boolean }).fatal === true || this.connection !== connection) {
      this.counters.connectionErrors.add(1);
      this.drop(connection, error);
    } else {
      this.counters.queryErrors.add(1);
    }
    this.status.report('error', classified);
  }

  private async query(connection: Connection, sql: string): Promise<unknown> {
    const [rows] = await connection.query({ sql, timeout: this.ctx.config.timeout });
    return rows;
  }

  /**
   * Writes every status-derived metric of one round read at `now` (ms). Public for tools that
   * obtain SHOW GLOBAL STATUS another way; `collect()` is the normal entry point.
   */
  processStatus(status: Map<string, unknown>, variables: Map<string, unknown>, now: number): void {
    const uptime = statusNumber(status.get('Uptime'));
    if (uptime !== undefined && Number.isFinite(uptime)) {
      if (uptime < this.lastUptime) this.noticeRestart(now, uptime);
      this.lastUptime = uptime;
    }
    for (const spec of STATUS_METRICS) {
      for (const [variable, attributes] of spec.fields!) {
        const value = this.accepted(status.get(variable));
        if (value === undefined) continue;
        if (spec.read === 'counter') this.writer.rate(spec, attributes, value, now);
        else this.writer.gauge(spec, attributes, value, now);
      }
    }
    const maxConnections = this.accepted(variables.get('max_connections'));
    if (maxConnections !== undefined) {
      this.writer.gauge(M.connectionMax, {}, maxConnections, now);
      const connected = this.accepted(status.get('Threads_connected'));
      if (connected !== undefined && maxConnections > 0) this.writer.gauge(M.connectionUtilization, {}, connected / maxConnections, now);
    }
    const poolSize = this.accepted(variables.get('innodb_buffer_pool_size'));
    if (poolSize !== undefined) this.writer.gauge(M.bufferPoolLimit, {}, poolSize, now);

    const requests = statusNumber(status.get('Innodb_buffer_pool_read_requests'));
    const reads = statusNumber(status.get('Innodb_buffer_pool_reads'));
    if (requests !== undefined && reads !== undefined) {
      const dRequests = this.readRequests.delta(requests, now);
      const dReads = this.diskReads.delta(reads, now);
      if (dRequests !== undefined && dReads !== undefined && dRequests > 0) this.writer.gauge(M.bufferPoolHitRatio, {}, Math.max(0, 1 - dReads / dRequests), now);
    }
  }

  private noticeRestart(now: number, uptime: number): void {
    this.counters.restarts.add(1);
    this.writer.forgetRates();
    this.readRequests = new CounterRate();
    this.diskReads = new CounterRate();
    this.ctx.sink.event({
      type: 'mysql.restart',
      timestamp: now,
      title: `mysql on ${this.where} restarted (up ${uptime} s)`,
      resource: this.resource,
      attributes: { 'mysql.uptime': uptime },
      severity: 'warning',
      source: 'mysql',
    });
  }

  private async collectActivity(connection: Connection, now: number): Promise<SextantError | undefined> {
    try {
      const [trx] = (await this.query(connection, TRANSACTIONS_SQL)) as Record<string, unknown>[];
      const [running] = (await this.query(connection, PROCESSLIST_SQL)) as Record<string, unknown>[];
      this.gauge(M.transactionsLockWait, {}, trx?.lock_wait, now);
      this.gauge(M.transactionMaxAge, {}, trx?.oldest_s, now);
      this.gauge(M.queryMaxDuration, {}, running?.longest_s, now);
      return undefined;
    } catch (error) {
      return this.optionalQueryFailed(error, 'transactions');
    }
  }

  private async collectReplica(connection: Connection, now: number): Promise<SextantError | undefined> {
    let rows: unknown;
    try {
      rows = await this.query(connection, this.replicaStatement);
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_PARSE_ERROR' && this.replicaStatement === 'SHOW REPLICA STATUS') {
        this.replicaStatement = 'SHOW SLAVE STATUS'; // MariaDB < 10.5.1, MySQL < 8.0.22
        return this.collectReplica(connection, now);
      }
      return this.optionalQueryFailed(error, 'replica');
    }
    const row = Array.isArray(rows) ? (rows[0] as Record<string, unknown> | undefined) : undefined;
    if (!row) return undefined; // not a replica
    const io = row.Slave_IO_Running ?? row.Replica_IO_Running;
    const sql = row.Slave_SQL_Running ?? row.Replica_SQL_Running;
    if (typeof io === 'string') this.writer.gauge(M.replicaThreads, { thread: 'io' }, io === 'Yes' ? 1 : 0, now);
    if (typeof sql === 'string') this.writer.gauge(M.replicaThreads, { thread: 'sql' }, sql === 'Yes' ? 1 : 0, now);
    // NULL while the SQL thread is stopped: no sample rather than a made-up 0
    this.gauge(M.replicaBehind, {}, row.Seconds_Behind_Master ?? row.Seconds_Behind_Source, now);
    return undefined;
  }

  /**
   * The transaction and replica queries are extras: when the server refuses them (missing
   * privilege) that part is switched off for this instance with one degraded status; a lost
   * connection ends the round.
   */
  private optionalQueryFailed(error: unknown, part: 'transactions' | 'replica'): SextantError {
    const classified = classifyMysqlError(error, this.endpoint, this.user);
    if (classified.code === ErrorCode.CONNECTION_FAILED || (error as { fatal?: boolean }).fatal === true) throw error;
    this.counters.queryErrors.add(1);
    if (classified.code !== ErrorCode.AUTH_FAILED) return classified;
    if (part === 'transactions') this.transactionsEnabled = false;
    else this.replicaEnabled = false;
    const grant = part === 'transactions' ? 'PROCESS' : 'REPLICATION CLIENT (MariaDB 10.5+: SLAVE MONITOR)';
    return new SextantError(ErrorCode.AUTH_FAILED, `${classified.message}; ${part === 'transactions' ? 'transaction and running-statement' : 'replica'} metrics are off for this instance`, {
      hint: `GRANT ${grant} ON *.* TO '${this.user}'@'<collector address>'`,
      cause: error,
    });
  }

  /** A finite non-negative number, or undefined (absent: silently; anything else: counted). */
  private accepted(raw: unknown): number | undefined {
    const value = statusNumber(raw);
    if (value === undefined) return undefined;
    if (Number.isFinite(value) && value >= 0) return value;
    this.counters.valuesRejected.add(1);
    return undefined;
  }

  private gauge(spec: MysqlMetricSpec, attributes: Readonly<Record<string, string>>, raw: unknown, now: number): void {
    const value = this.accepted(raw);
    if (value !== undefined) this.writer.gauge(spec, attributes, value, now);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const connection = this.connection ?? (await this.connecting?.catch(() => undefined));
    this.connection = undefined;
    // destroy(), not end(): shutdown must not wait on a server that may be gone
    connection?.destroy();
  }
}

export const mysqlCollectorFactory = createCollectorFactory<MysqlConfig>({
  type: 'mysql',
  stability: 'alpha',
  description: 'MariaDB/MySQL server metrics: connections against max_connections, statements and slow queries, InnoDB buffer pool hit ratio, row lock waits, deadlocks, long transactions, replica lag.',
  configSchema: mysqlConfigSchema,
  defaults: mysqlConfigDefaults,
  configJsonSchema: z.toJSONSchema(mysqlConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new MysqlCollector(ctx),
});
