/**
 * The `postgresql` collector: one connection per instance, one round per interval.
 *
 * A round reads server facts, pg_stat_database, pg_stat_activity, pg_locks, replication state
 * (pg_stat_replication on a primary, replay position on a standby) and checkpoint counters, and
 * writes every value of {@link POSTGRESQL_METRICS} the server reported.
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable / refused / wrong password / pg_hba.conf rejection / unknown database: status
 *   `error` with a coded message and a hint, `connection_errors_total` counts the round; the next
 *   round connects again (one attempt per round, so a dead server costs one refused connect per
 *   interval).
 * - the connection breaks mid-run (server stopped, backend terminated): the client is dropped and
 *   the next round reconnects; the first good round sets status `ok`.
 * - a server restart (postmaster start time changed): every counter baseline is dropped, so the
 *   first round after it emits no rate instead of a negative or inflated one; a
 *   `postgresql.restart` event is emitted.
 * - a statistics query refused (missing pg_monitor) or failing: `query_errors_total`, status
 *   `degraded` naming the fix; the other queries of the round still count.
 * - a value that is not a finite non-negative number: dropped and counted
 *   (`values_rejected_total`).
 */
import pg from 'pg';
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
import { MetricWriter, StatusChangeReporter } from '@sextant/integration-kit';
import { endpointOf, postgresqlConfigDefaults, postgresqlConfigSchema, type PostgresqlConfig, type PostgresqlEndpoint } from './config.js';
import { POSTGRESQL_METRICS, type PostgresqlMetricSpec } from './metrics.js';
import { classifyPostgresqlError } from './postgresql-errors.js';
import { ACTIVITY_SQL, BGWRITER_17_SQL, BGWRITER_SQL, DATABASES_SQL, LOCKS_SQL, REPLICATION_SQL, SERVER_SQL, STANDBY_SQL } from './statistics-queries.js';

/** `application_name` of the collector's connection, so operators can tell it apart in pg_stat_activity. */
export const COLLECTOR_APPLICATION_NAME = 'sextant-collector';

/** Upper bound of series with attributes (states, lock modes, standbys) per instance, databases aside. */
const MAX_DYNAMIC_SERIES = 512;

const M = POSTGRESQL_METRICS;

/** Per-database counters: result column -> metric. */
const DATABASE_COUNTERS: readonly (readonly [string, PostgresqlMetricSpec])[] = [
  ['commits', M.commits],
  ['rollbacks', M.rollbacks],
  ['blks_read', M.blocksRead],
  ['blks_hit', M.blocksHit],
  ['tup_returned', M.tupReturned],
  ['tup_fetched', M.tupFetched],
  ['tup_inserted', M.tupInserted],
  ['tup_updated', M.tupUpdated],
  ['tup_deleted', M.tupDeleted],
  ['deadlocks', M.deadlocks],
  ['conflicts', M.conflicts],
  ['temp_files', M.tempFiles],
  ['temp_bytes', M.tempBytes],
];
const DATABASE_GAUGES: readonly (readonly [string, PostgresqlMetricSpec])[] = [
  ['backends', M.backends],
  ['size_bytes', M.dbSize],
  ['xid_age', M.xidAge],
];
const BGWRITER_COUNTERS: readonly (readonly [string, PostgresqlMetricSpec, Record<string, string>])[] = [
  ['checkpoints_timed', M.checkpoints, { type: 'scheduled' }],
  ['checkpoints_req', M.checkpoints, { type: 'requested' }],
  ['buffers_checkpoint', M.bufferWrites, { source: 'checkpoints' }],
  ['buffers_clean', M.bufferWrites, { source: 'bgwriter' }],
  ['buffers_backend', M.bufferWrites, { source: 'backend' }],
  ['maxwritten_clean', M.bgwriterMaxWritten, {}],
];

type Row = Record<string, unknown>;

interface SelfCounters {
  readonly connectionErrors: SelfCounter;
  readonly queryErrors: SelfCounter;
  readonly valuesRejected: SelfCounter;
  readonly seriesLimited: SelfCounter;
  readonly restarts: SelfCounter;
}

interface ServerFacts {
  readonly versionNum: number;
  readonly inRecovery: boolean;
}

/**
 * A number from a statistics row: finite numbers (node-postgres returns float8/int4 as numbers)
 * and numeric strings; NaN for anything else. `null` means "not applicable" and is `undefined`.
 */
export function numberOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.trim())) return Number(value);
  return Number.NaN;
}

/** `idle in transaction (aborted)` -> `idle_in_transaction_aborted`; bounded length. */
function stateLabel(state: unknown): string {
  const text = typeof state === 'string' ? state : 'unknown';
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 48) || 'unknown';
}

export class PostgresqlCollector implements Collector {
  private readonly endpoint: PostgresqlEndpoint;
  private readonly where: string;
  private readonly user: string;
  private readonly password: string | undefined;
  private readonly resource: Attributes;
  private readonly counters: SelfCounters;

  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly writer: MetricWriter;
  private startedAt = Number.NaN;
  /** max_connections of the current round, for the utilisation. */
  private maxConnections: number | undefined;
  /** Block rates written for the current database row (blks_hit, blks_read), for the hit ratio. */
  private readonly lastRates = new Map<string, number>();
  private readonly status: StatusChangeReporter;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<PostgresqlConfig>) {
    const config = ctx.config;
    this.endpoint = endpointOf(config.url);
    this.where = `${this.endpoint.host}:${this.endpoint.port}`;
    const url = new URL(config.url);
    this.user = config.username ?? (url.username ? decodeURIComponent(url.username) : 'postgres');
    this.password = config.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'postgresql',
      'server.address': this.endpoint.host,
      'server.port': this.endpoint.port,
      'db.system': 'postgresql',
      ...config.resource,
    };
    const m = ctx.metrics;
    this.counters = {
      connectionErrors: m.counter('connection_errors_total', 'Rounds that could not connect to PostgreSQL or lost the connection'),
      queryErrors: m.counter('query_errors_total', 'Statistics queries that failed or timed out'),
      valuesRejected: m.counter('values_rejected_total', 'Values dropped because they were not finite non-negative numbers'),
      seriesLimited: m.counter('series_limited_total', 'Series not created because a limit (maxDatabases, attribute values) was reached'),
      restarts: m.counter('server_restarts_total', 'PostgreSQL restarts noticed (postmaster start time changed)'),
    };
    this.writer = new MetricWriter(ctx, {
      resource: this.resource,
      seriesLimited: this.counters.seriesLimited,
      // databases are bounded by maxDatabases; states, lock modes and standbys by this cap
      limits: [{ applies: (spec) => spec.attributes !== undefined && spec.attributes[0] !== 'postgresql.database.name', max: MAX_DYNAMIC_SERIES }],
    });
    this.status = new StatusChangeReporter(ctx, `postgresql at ${this.where} is healthy again`);
  }

  start(): void {
    if (this.stopped) return;
    this.ctx.status.set('starting', `connecting to postgresql at ${this.where}`);
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    let client: pg.Client;
    try {
      client = await this.connection();
    } catch (error) {
      this.counters.connectionErrors.add(1);
      this.status.report('error', isSextantError(error) ? error : classifyPostgresqlError(error, this.endpoint, this.user));
      return;
    }
    if (signal.aborted || this.stopped) return;
    const now = this.ctx.clock.now();

    let facts: ServerFacts;
    try {
      facts = this.processServer(await this.query(client, SERVER_SQL), now);
    } catch (error) {
      this.roundFailed(client, error);
      return;
    }

    let degraded: SextantError | undefined;
    const run = async (sql: string, params: unknown[], use: (rows: Row[]) => void) => {
      if (signal.aborted || this.stopped) return;
      try {
        use(await this.query(client, sql, params));
      } catch (error) {
        if (this.client !== client) throw error; // the connection broke: the round is over
        this.counters.queryErrors.add(1);
        degraded ??= classifyPostgresqlError(error, this.endpoint, this.user);
      }
    };
    try {
      await run(DATABASES_SQL, [this.ctx.config.databases], (rows) => this.processDatabases(rows, now));
      await run(ACTIVITY_SQL, [], (rows) => this.processActivity(rows, now));
      await run(LOCKS_SQL, [], (rows) => this.processLocks(rows, now));
      if (facts.inRecovery) await run(STANDBY_SQL, [], (rows) => this.processStandby(rows, now));
      else await run(REPLICATION_SQL, [], (rows) => this.processReplication(rows, now));
      await run(facts.versionNum >= 170000 ? BGWRITER_17_SQL : BGWRITER_SQL, [], (rows) => this.processBgwriter(rows, now));
    } catch (error) {
      this.roundFailed(client, error);
      return;
    }
    if (degraded) this.status.report('degraded', degraded);
    else this.status.report('ok');
  }

  /** The open connection, or a new one (one attempt; the next round tries again). */
  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const { timeout } = this.ctx.config;
    const client = new pg.Client({
      host: this.endpoint.host,
      port: this.endpoint.port,
      database: this.endpoint.database,
      user: this.user,
      password: this.password,
      application_name: COLLECTOR_APPLICATION_NAME,
      connectionTimeoutMillis: timeout,
      // the server cancels a statistics query that runs too long; the client gives up a little later
      statement_timeout: timeout,
      query_timeout: timeout + 1000,
      ssl: false,
    });
    // after connect, a broken connection is reported through 'error'; without a listener it would crash the process
    client.on('error', (error) => this.dropClient(client, error));
    client.on('end', () => this.dropClient(client));
    try {
      await client.connect();
    } catch (error) {
      void client.end().catch(() => {});
      throw error;
    }
    if (this.stopped) {
      void client.end().catch(() => {});
      throw new SextantError(ErrorCode.CONNECTION_FAILED, 'collector stopped');
    }
    this.client = client;
    this.ctx.logger.info(`connected to postgresql at ${this.where} as ${this.user}`);
    return client;
  }

  private dropClient(client: pg.Client, error?: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (!this.stopped && error) this.ctx.logger.warn(`postgresql at ${this.where}: connection lost (${formatError(classifyPostgresqlError(error, this.endpoint, this.user))})`);
    void client.end().catch(() => {});
  }

  /** A round that failed on its first query, or whose connection broke mid-round. */
  private roundFailed(client: pg.Client, error: unknown): void {
    const classified = classifyPostgresqlError(error, this.endpoint, this.user);
    if (classified.code === ErrorCode.CONNECTION_FAILED || this.client !== client) {
      this.counters.connectionErrors.add(1);
      this.dropClient(client, error);
    } else {
      this.counters.queryErrors.add(1);
    }
    this.status.report('error', classified);
  }

  private async query(client: pg.Client, sql: string, params: unknown[] = []): Promise<Row[]> {
    const result = await client.query<Row>({ text: sql, values: params });
    if (!Array.isArray(result.rows)) throw new SextantError(ErrorCode.PARSE_FAILED, `postgresql at ${this.where} answered a statistics query without rows`);
    return result.rows;
  }

  private processServer(rows: Row[], now: number): ServerFacts {
    const row = rows[0];
    if (!row) throw new SextantError(ErrorCode.PARSE_FAILED, `postgresql at ${this.where} returned no server row`, { hint: 'is this a PostgreSQL server (or a pooler that does not pass queries through)? check url' });
    const startedAt = numberOf(row.started_at);
    if (startedAt !== undefined && Number.isFinite(startedAt)) {
      if (Number.isFinite(this.startedAt) && startedAt !== this.startedAt) this.noticeRestart(now, numberOf(row.uptime_s));
      this.startedAt = startedAt;
    }
    const max = this.gauge(M.connectionMax, {}, row.max_connections, now);
    this.gauge(M.uptime, {}, row.uptime_s, now);
    const inRecovery = row.in_recovery === true;
    this.writer.gauge(M.role, { role: 'primary' }, inRecovery ? 0 : 1, now);
    this.writer.gauge(M.role, { role: 'replica' }, inRecovery ? 1 : 0, now);
    this.maxConnections = max;
    return { versionNum: numberOf(row.version_num) ?? 0, inRecovery };
  }

  private noticeRestart(now: number, uptime: number | undefined): void {
    this.counters.restarts.add(1);
    this.writer.forgetRates();
    this.ctx.sink.event({
      type: 'postgresql.restart',
      timestamp: now,
      title: `postgresql on ${this.where} restarted (up ${uptime !== undefined && Number.isFinite(uptime) ? Math.round(uptime) : '?'} s)`,
      resource: this.resource,
      attributes: { 'postgresql.uptime': uptime !== undefined && Number.isFinite(uptime) ? uptime : -1 },
      severity: 'warning',
      source: 'postgresql',
    });
  }

  private processDatabases(rows: Row[], now: number): void {
    const { maxDatabases } = this.ctx.config;
    if (rows.length > maxDatabases) this.counters.seriesLimited.add(rows.length - maxDatabases);
    for (const row of rows.slice(0, maxDatabases)) {
      if (typeof row.name !== 'string') {
        this.counters.valuesRejected.add(1);
        continue;
      }
      const db = { 'postgresql.database.name': row.name };
      for (const [column, spec] of DATABASE_GAUGES) this.gauge(spec, db, row[column], now);
      for (const [column, spec] of DATABASE_COUNTERS) this.counter(spec, db, row[column], now);
      const hit = this.lastRates.get('blks_hit');
      const read = this.lastRates.get('blks_read');
      this.lastRates.clear();
      if (hit !== undefined && read !== undefined && hit + read > 0) this.writer.gauge(M.cacheHitRatio, db, hit / (hit + read), now);
    }
  }

  private processActivity(rows: Row[], now: number): void {
    let total = 0;
    let waiting = 0;
    let oldest = 0;
    let longest = 0;
    for (const row of rows) {
      this.gauge(M.connections, { state: stateLabel(row.state) }, row.connections, now);
      total += this.accepted(row.total) ?? 0;
      waiting += this.accepted(row.waiting) ?? 0;
      oldest = Math.max(oldest, this.accepted(row.oldest_xact_s) ?? 0);
      longest = Math.max(longest, this.accepted(row.longest_query_s) ?? 0);
    }
    // states seen before but without sessions now read 0, not their last value
    for (const { attributes, id } of this.writer.known(M.connections)) {
      if (!rows.some((r) => stateLabel(r.state) === attributes.state)) this.ctx.sink.sample(id, 0, now);
    }
    this.writer.gauge(M.lockWaiters, {}, waiting, now);
    this.writer.gauge(M.transactionMaxAge, {}, oldest, now);
    this.writer.gauge(M.queryMaxDuration, {}, longest, now);
    if (this.maxConnections !== undefined && this.maxConnections > 0) this.writer.gauge(M.connectionUtilization, {}, total / this.maxConnections, now);
  }

  private processLocks(rows: Row[], now: number): void {
    let waiting = 0;
    const seen = new Set<string>();
    for (const row of rows) {
      if (typeof row.mode !== 'string') {
        this.counters.valuesRejected.add(1);
        continue;
      }
      const mode = row.mode.slice(0, 48);
      seen.add(mode);
      this.gauge(M.locks, { mode }, row.locks, now);
      waiting += this.accepted(row.waiting) ?? 0;
    }
    for (const { attributes, id } of this.writer.known(M.locks)) {
      if (!seen.has(attributes.mode)) this.ctx.sink.sample(id, 0, now);
    }
    this.writer.gauge(M.locksWaiting, {}, waiting, now);
  }

  private processReplication(rows: Row[], now: number): void {
    for (const row of rows) {
      if (typeof row.client !== 'string') {
        this.counters.valuesRejected.add(1);
        continue;
      }
      const client = row.client.slice(0, 128);
      this.gauge(M.replicationDataDelay, { 'replication.client': client }, row.replay_bytes, now);
      this.gauge(M.walLag, { 'replication.client': client, operation: 'write' }, row.write_lag_s, now);
      this.gauge(M.walLag, { 'replication.client': client, operation: 'flush' }, row.flush_lag_s, now);
      this.gauge(M.walLag, { 'replication.client': client, operation: 'replay' }, row.replay_lag_s, now);
    }
  }

  private processStandby(rows: Row[], now: number): void {
    const row = rows[0];
    if (!row) return;
    this.gauge(M.replicaReplayDelay, {}, row.replay_delay_s, now);
    this.gauge(M.replicaPendingBytes, {}, row.pending_bytes, now);
  }

  private processBgwriter(rows: Row[], now: number): void {
    const row = rows[0];
    if (!row) return;
    for (const [column, spec, attributes] of BGWRITER_COUNTERS) this.counter(spec, attributes, row[column], now);
  }

  /** A finite non-negative number from a row, or undefined (NULL: silently; anything else: counted). */
  private accepted(raw: unknown): number | undefined {
    const value = numberOf(raw);
    if (value === undefined) return undefined;
    if (Number.isFinite(value) && value >= 0) return value;
    this.counters.valuesRejected.add(1);
    return undefined;
  }

  private gauge(spec: PostgresqlMetricSpec, attributes: Record<string, string>, raw: unknown, now: number): number | undefined {
    const value = this.accepted(raw);
    if (value !== undefined) this.writer.gauge(spec, attributes, value, now);
    return value;
  }

  private counter(spec: PostgresqlMetricSpec, attributes: Record<string, string>, raw: unknown, now: number): void {
    const value = this.accepted(raw);
    if (value === undefined) return;
    const perSecond = this.writer.rate(spec, attributes, value, now);
    if (perSecond === undefined) return;
    if (spec === M.blocksHit) this.lastRates.set('blks_hit', perSecond);
    else if (spec === M.blocksRead) this.lastRates.set('blks_read', perSecond);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    if (!client) return;
    // end() waits for the server's goodbye; a server that is gone must not hold shutdown up
    await Promise.race([client.end().catch(() => {}), new Promise<void>((resolve) => this.ctx.clock.setTimeout(resolve, 1000))]);
  }
}

export const postgresqlCollectorFactory = createCollectorFactory<PostgresqlConfig>({
  type: 'postgresql',
  stability: 'alpha',
  description: 'PostgreSQL server metrics: connections against max_connections, transactions, cache hit ratio, deadlocks, locks, long transactions, replication lag, checkpoints.',
  configSchema: postgresqlConfigSchema,
  defaults: postgresqlConfigDefaults,
  configJsonSchema: z.toJSONSchema(postgresqlConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new PostgresqlCollector(ctx),
});
