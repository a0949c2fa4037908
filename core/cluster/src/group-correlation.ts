/**
 * One correlator for the whole group (docs/architecture.md, "Scale-out"; issue 22):
 *
 * - Every member publishes the anomalies its partition detectors raise and the events it receives
 *   (agents, receivers, API: deploys, silences, maintenance) to the group's correlation stream
 *   (CorrelationStream). Silence and maintenance events are also stored in Redis for every
 *   member's API (GroupIncidentView, GroupWindows).
 * - Exactly one member leads (LeaderLease). The leader runs the `correlators:` instances over the
 *   stream (consumer group `leader`, claiming what a dead leader read but never committed).
 *   Non-leaders run no correlator.
 * - What the correlators publish is committed by one Lua script, fenced by the lease: the
 *   correlators' snapshots with the stream id applied up to, the current state of every incident
 *   that changed, and the outbox entries of its updates (GroupOutbox). Then the entries are
 *   acknowledged and trimmed. A leader that dies before a commit leaves nothing of it behind; the
 *   next one restores the last commit and replays the stream after it, so an incident is neither
 *   lost, duplicated nor reopened, and each update is notified once by the group.
 * - The leader's GroupOutbox delivers; any member's API reads incidents and silences from Redis
 *   (the runtime's `pipeline.groupView`).
 */
import {
  ErrorCode,
  SextantError,
  formatError,
  mergeDefaults,
  validateConfig,
  type ConfigIssue,
  type Correlator,
  type CorrelatorContext,
  type HealthState,
  type Incident,
  type IncidentUpdate,
  type Logger,
} from '@sextant/plugin-api';
import { configError, createLogger, instanceSpecs, type Runtime, type RuntimeConfig } from '@sextant/runtime';
import { CorrelationStream, decodeStreamItem } from './correlation-stream.js';
import { GroupKeys, LEADER_GROUP } from './group-keys.js';
import { GroupIncidentView, GroupWindows, WINDOW_EVENT_TYPES } from './group-incidents.js';
import { GroupOutbox, outboxEntriesFor, type GroupOutboxEntry, type NotifierTarget } from './group-outbox.js';
import { LeaderLease } from './leader-lease.js';
import type { LocalSeriesMap } from './local-series-map.js';
import type { RedisLink } from './redis-link.js';
import { compareStreamIds } from './sample-entry.js';
import { pluginSelfMetrics } from './plugin-self-metrics.js';

/**
 * KEYS: lease, ckpt, incidents, incident times, outbox, deliveries.
 * ARGV: member, at, time, n, n x (field, snapshot), m, m x (incident id, json, updatedAt), o, o x (entry id, json), max incidents.
 * Beyond `max incidents`, the least recently updated are forgotten (the API lists at most that many).
 */
const COMMIT = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'at', ARGV[2], 'by', ARGV[1], 'time', ARGV[3])
local i = 5
for j = 1, tonumber(ARGV[4]) do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]); i = i + 2 end
local m = tonumber(ARGV[i]); i = i + 1
for j = 1, m do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[4], ARGV[i + 2], ARGV[i])
  i = i + 3
end
local o = tonumber(ARGV[i]); i = i + 1
for j = 1, o do redis.call('HSETNX', KEYS[5], ARGV[i], ARGV[i + 1]); i = i + 2 end
local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[i])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, over - 1)) do
    redis.call('HDEL', KEYS[3], id)
    redis.call('HDEL', KEYS[6], id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1)
end
return 1`;

/** A correlator configuration the leader runs (once, while it leads). */
export interface GroupCorrelatorSpec {
  readonly id: string;
  create(publish: (update: IncidentUpdate) => void, signal: AbortSignal): Promise<Correlator>;
}

export interface GroupCorrelationOptions {
  readonly link: RedisLink;
  /** Close `link` on stop (destroy on halt): a connection of its own. */
  readonly ownsLink?: boolean;
  readonly group: string;
  readonly memberId: string;
  readonly runtime: Runtime;
  /** The `correlators` section: run by the leader only. */
  readonly correlators: RuntimeConfig['correlators'];
  /** Local -> group-wide series ids (anomalies carry the group id on the stream). */
  readonly series: LocalSeriesMap;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  /** How often the leader checkpoints the correlators when nothing was published (default 10 s). */
  readonly checkpointMs?: number;
  /** Idle poll of the correlation stream (default 100 ms). */
  readonly pollMs?: number;
  /** Incidents kept in Redis for the API; the least recently updated go first (default 10,000). */
  readonly maxIncidents?: number;
  readonly logger: Logger;
}

export interface LeaderCounters {
  anomalies: number;
  events: number;
  corrupt: number;
  replaySkipped: number;
  updates: number;
  commits: number;
  refused: number;
}

export interface CorrelationStatus {
  /** The member leading the group's correlation (as of the last lease round). */
  readonly leader: string | null;
  readonly isLeader: boolean;
  readonly correlators: readonly string[];
  readonly published: CorrelationStream['counters'] & { readonly buffered: number };
  /** Leader only: what it applied and committed, and the outbox it delivers. */
  readonly lead?: { readonly appliedId: string; readonly checkpointId: string; readonly counters: LeaderCounters; readonly outboxPending: number };
  readonly leadership: LeaderLease['counts'];
}

export class GroupCorrelation {
  readonly keys: GroupKeys;
  readonly stream: CorrelationStream;
  readonly view: GroupIncidentView;
  /** The group's silences and maintenance windows (`windows.active()`), refreshed every heartbeat. */
  readonly windows: GroupWindows;
  readonly lease: LeaderLease;
  private term: LeaderTerm | undefined;
  private stopping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly notifiers: NotifierTarget[];

  private constructor(
    private readonly options: GroupCorrelationOptions,
    private readonly specs: readonly GroupCorrelatorSpec[],
  ) {
    const { link, memberId, runtime, logger } = options;
    this.keys = new GroupKeys(options.group);
    this.stream = new CorrelationStream({ link, stream: this.keys.stream, memberId, logger });
    this.view = new GroupIncidentView(link, this.keys);
    this.windows = new GroupWindows(this.view, logger);
    this.notifiers = instanceSpecs(runtime.config, []).filter((s) => s.kind === 'notifier' && s.enabled).map((s) => ({ id: s.id, route: s.route }));
    this.lease = new LeaderLease({
      link,
      key: this.keys.lease,
      memberId,
      leaseMs: options.leaseMs,
      logger,
      acquired: () => {
        const t = new LeaderTerm(this.options, this.keys, this.specs, this.notifiers, () => this.lease.holds());
        this.term = t;
        t.start();
      },
      lost: () => {
        const t = this.term;
        this.term = undefined;
        void t?.stop(false);
      },
    });
  }

  /** Validates the correlators, subscribes to the runtime's anomalies and events, joins the leader election. */
  static async start(options: GroupCorrelationOptions): Promise<GroupCorrelation> {
    const specs = await correlatorSpecsFor(options.runtime, options.correlators);
    const c = new GroupCorrelation(options, specs);
    const { runtime, series } = options;
    c.unsubscribe.push(
      runtime.pipeline.onAnomaly((a) => {
        const group = series.groupId(a.seriesId);
        c.stream.publishAnomaly(group >= 0 ? { ...a, seriesId: group } : a);
      }),
      runtime.pipeline.onEvent((e) => {
        c.stream.publishEvent(e);
        if (WINDOW_EVENT_TYPES.has(e.type)) {
          c.view.storeWindowEvent(e).then(
            () => c.windows.refresh(),
            (err: unknown) => options.logger.warn(`cluster: could not store ${e.type} ${e.id} for the group: ${formatError(err)}`),
          );
        }
      }),
    );
    runtime.pipeline.groupView = c.view;
    c.running = true;
    await c.round();
    return c;
  }

  private lastPrune = 0;

  private async round(): Promise<void> {
    await this.lease.tick();
    await this.windows.refresh();
    // The leader forgets silences and maintenance windows that ended more than a week ago (hourly).
    if (this.lease.holds() && Date.now() - this.lastPrune > 3_600_000) {
      this.lastPrune = Date.now();
      await this.view.forgetEnded(Date.now() - 7 * 86_400_000).catch((e) => this.options.logger.debug(`cluster: pruning ended windows failed: ${formatError(e)}`));
    }
    if (this.running) {
      this.timer = setTimeout(() => void this.round(), this.options.heartbeatMs);
      this.timer.unref?.();
    }
  }

  get leader(): string | undefined {
    return this.lease.leader;
  }

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  status(): CorrelationStatus {
    const t = this.term;
    return {
      leader: this.lease.leader ?? null,
      isLeader: this.lease.isLeader,
      correlators: this.specs.map((s) => s.id),
      published: { ...this.stream.counters, buffered: this.stream.pending },
      ...(t ? { lead: { appliedId: t.applied, checkpointId: t.checkpointed, counters: { ...t.counters }, outboxPending: t.outbox.pending } } : {}),
      leadership: { ...this.lease.counts },
    };
  }

  /** Puts the leadership on /metrics (`sextant_cluster_leader{member}` 1 on the leader). */
  publishMetrics(): void {
    const t = this.options.runtime.telemetry;
    const m = { member: this.options.memberId };
    t.set('sextant_cluster_leader', 'Whether this member leads the group (runs the correlators, delivers notifications)', this.lease.isLeader ? 1 : 0, m);
    t.set('sextant_cluster_correlation_published', 'Anomalies and events this member appended to the correlation stream', this.stream.counters.appended, m);
    t.set('sextant_cluster_correlation_dropped', 'Anomalies and events dropped because the store was unreachable and the buffer was full', this.stream.counters.dropped, m);
    const term = this.term;
    if (term) {
      t.set('sextant_cluster_outbox_pending', 'Undelivered notifications of the group (leader only)', term.outbox.pending, m);
      t.set('sextant_cluster_correlation_applied', 'Correlation stream entries the leader applied, by kind; unreadable ones skipped (leader only)', term.counters.anomalies, { ...m, kind: 'anomaly' });
      t.set('sextant_cluster_correlation_applied', 'Correlation stream entries the leader applied, by kind; unreadable ones skipped (leader only)', term.counters.events, { ...m, kind: 'event' });
      t.set('sextant_cluster_correlation_applied', 'Correlation stream entries the leader applied, by kind; unreadable ones skipped (leader only)', term.counters.corrupt, { ...m, kind: 'unreadable' });
      t.set('sextant_cluster_correlation_commits', 'Commits of the group correlation (checkpoint, incidents, outbox) by this leader', term.counters.commits, m);
    }
  }

  /** Leaves cleanly: pending anomalies/events appended, the leader's work committed, the lease released. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      for (const u of this.unsubscribe) u();
      if (this.options.runtime.pipeline.groupView === this.view) this.options.runtime.pipeline.groupView = undefined;
      await this.stream.close();
      const t = this.term;
      this.term = undefined;
      await t?.stop(true);
      await this.lease.release();
      if (this.options.ownsLink) await this.options.link.close();
    })();
    return this.stopping;
  }

  /** Stops at once, saving and releasing nothing (what a crash looks like to the group; tests). */
  halt(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    for (const u of this.unsubscribe) u();
    this.lease.halt();
    this.term?.halt();
    this.term = undefined;
    if (this.options.ownsLink) this.options.link.destroy();
  }
}

type Fields = Map<string, string>;

/** The leader's work for as long as it holds the lease. */
class LeaderTerm {
  state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  applied = '0-0';
  checkpointed = '0-0';
  readonly counters: LeaderCounters = { anomalies: 0, events: 0, corrupt: 0, replaySkipped: 0, updates: 0, commits: 0, refused: 0 };
  readonly outbox: GroupOutbox;
  private instances: { id: string; correlator: Correlator }[] = [];
  private published: IncidentUpdate[] = [];
  private unacked: string[] = [];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lastTick = 0;
  private lastCommitAt = Date.now();
  private halted = false;

  constructor(
    private readonly options: GroupCorrelationOptions,
    private readonly keys: GroupKeys,
    private readonly specs: readonly GroupCorrelatorSpec[],
    private readonly notifiers: readonly NotifierTarget[],
    private readonly leads: () => boolean,
  ) {
    this.outbox = new GroupOutbox({ link: options.link, key: keys.outbox, deliveriesKey: keys.deliveries, runtime: options.runtime, notifiers, leads: () => this.leads() && this.state !== 'stopped', logger: options.logger });
  }

  private get active(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  start(): void {
    this.loop = this.run().catch((e) => this.options.logger.warn(`cluster: the group's correlation stopped on ${this.options.memberId}: ${formatError(e)}`));
  }

  private async run(): Promise<void> {
    const { link, memberId, logger } = this.options;
    const poll = this.options.pollMs ?? 100;
    for (let attempt = 0; this.active; attempt++) {
      try {
        await this.setUp();
        break;
      } catch (e) {
        if (attempt === 0) logger.warn(`cluster: taking over the group's correlation failed: ${formatError(e)}; retrying`);
        await this.shutdownCorrelators();
        await sleep(Math.min(1000, 100 * 2 ** attempt));
      }
    }
    if (!this.active) return;
    this.state = 'running';
    await this.outbox.start().catch((e) => logger.warn(`cluster: loading the group outbox failed: ${formatError(e)}`));
    const stream = this.keys.stream;
    let claimFrom: string | undefined = '0-0';
    while (this.active) {
      try {
        let entries: [string, Fields][];
        if (claimFrom !== undefined) {
          // What a previous leader read but never committed comes first, in stream order.
          const reply: unknown[] = await link.call<unknown[]>(stream, ['XAUTOCLAIM', stream, LEADER_GROUP, memberId, '0', claimFrom, 'COUNT', '200']);
          entries = entriesOf(reply?.[1]);
          const next: string = String(reply?.[0] ?? '0-0');
          claimFrom = next === '0-0' ? undefined : next;
        } else {
          entries = readGroupEntries(await link.call(stream, ['XREADGROUP', 'GROUP', LEADER_GROUP, memberId, 'COUNT', '200', 'STREAMS', stream, '>']));
        }
        if (!this.leads()) {
          // Not sure the lease is still ours: apply nothing; what was read stays pending.
          claimFrom = '0-0';
          await sleep(poll);
          continue;
        }
        this.apply(entries);
        const now = this.options.runtime.clock.now();
        if (now - this.lastTick >= 1000) {
          this.lastTick = now;
          for (const { id, correlator } of this.instances) {
            try {
              correlator.tick?.(now);
            } catch (e) {
              logger.warn(`cluster: correlator ${id} failed on tick: ${formatError(e)}`);
            }
          }
        }
        if (this.published.length > 0 || (Date.now() - this.lastCommitAt >= (this.options.checkpointMs ?? 10_000) && (this.applied !== this.checkpointed || this.unacked.length > 0))) {
          if (!(await this.commit())) return;
        }
        if (entries.length === 0 && claimFrom === undefined) await sleep(poll);
      } catch (e) {
        const msg = formatError(e);
        if (/NOGROUP/.test(msg)) {
          await this.ensureGroup().catch(() => undefined);
          claimFrom = '0-0';
        } else {
          logger.debug(`cluster: correlation read/commit failed: ${msg}; retrying`);
          await sleep(200);
        }
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    const stream = this.keys.stream;
    try {
      await this.options.link.call(stream, ['XGROUP', 'CREATE', stream, LEADER_GROUP, '0', 'MKSTREAM']);
    } catch (e) {
      if (!/BUSYGROUP/.test(formatError(e))) throw e;
    }
  }

  private async setUp(): Promise<void> {
    const { link, logger } = this.options;
    await this.ensureGroup();
    const ckpt = this.keys.checkpoint;
    const saved = await link.callBuffers<(Buffer | null)[]>(ckpt, ['HMGET', ckpt, 'at', ...this.specs.map((s) => `state:${s.id}`)]);
    this.instances = [];
    for (const spec of this.specs) {
      const correlator = await spec.create((u) => this.published.push(u), this.abort.signal);
      await correlator.start?.();
      this.instances.push({ id: spec.id, correlator });
    }
    if (saved[0]) {
      this.applied = this.checkpointed = saved[0].toString();
      this.instances.forEach(({ id, correlator }, i) => {
        const bytes = saved[1 + i];
        if (!bytes || !correlator.restore) return;
        try {
          correlator.restore(new Uint8Array(bytes));
        } catch (e) {
          logger.warn(`cluster: correlator ${id}: saved state refused: ${formatError(e)}`);
        }
      });
      logger.info(`cluster: ${this.options.memberId} restored the group's correlators from the commit at ${this.checkpointed}`);
    }
  }

  private apply(entries: readonly [string, Fields][]): void {
    const { logger } = this.options;
    for (const [id, fields] of entries) {
      this.unacked.push(id);
      if (compareStreamIds(id, this.applied) <= 0) {
        this.counters.replaySkipped++;
        continue;
      }
      this.applied = id;
      const item = decodeStreamItem(fields);
      if (!item) {
        if (this.counters.corrupt++ === 0) logger.warn(`cluster: correlation stream entry ${id} is unreadable (not an anomaly or event in JSON); skipped and counted (sextant_cluster_correlation_applied{kind="unreadable"})`);
        continue;
      }
      if (item.kind === 'a') this.counters.anomalies++;
      else this.counters.events++;
      for (const { id: cid, correlator } of this.instances) {
        try {
          if (item.kind === 'a') correlator.onAnomaly(item.anomaly);
          else correlator.onEvent?.(item.event);
        } catch (e) {
          logger.warn(`cluster: correlator ${cid} failed on a stream entry: ${formatError(e)}`);
        }
      }
    }
  }

  /**
   * Writes the correlators' snapshots, the changed incidents and their outbox entries in one step
   * (refused unless the lease is still ours), then acknowledges and trims. False when the lead is lost.
   */
  async commit(): Promise<boolean> {
    const { link, memberId, runtime, logger } = this.options;
    const updates = this.published;
    const at = this.applied;
    const acked = this.unacked;
    const args: (string | Buffer)[] = ['EVAL', COMMIT, '6', this.keys.lease, this.keys.checkpoint, this.keys.incidents, this.keys.incidentTimes, this.keys.outbox, this.keys.deliveries, memberId, at, String(Date.now())];
    const states: (string | Buffer)[] = [];
    for (const { id, correlator } of this.instances) {
      if (!correlator.snapshot) continue;
      try {
        await correlator.prepareSnapshot?.();
        states.push(`state:${id}`, Buffer.from(correlator.snapshot()));
      } catch (e) {
        logger.warn(`cluster: correlator ${id}: snapshot failed: ${formatError(e)}`);
      }
    }
    args.push(String(states.length / 2), ...states);
    const latest = new Map<string, Incident>();
    for (const u of updates) latest.set(u.incident.id, u.incident);
    args.push(String(latest.size));
    for (const inc of latest.values()) args.push(inc.id, JSON.stringify(inc), String(inc.updatedAt));
    const entries: GroupOutboxEntry[] = outboxEntriesFor(updates, this.notifiers, Date.now());
    args.push(String(entries.length));
    for (const e of entries) args.push(`${e.notifier} ${e.key}`, JSON.stringify(e));
    args.push(String(this.options.maxIncidents ?? 10_000));
    const ok = Number(await link.call(this.keys.lease, args)) === 1;
    if (!ok) {
      this.counters.refused++;
      logger.warn(`cluster: commit of the group's correlation by ${memberId} refused: the lead is no longer ours`);
      this.published = [];
      this.state = 'stopping';
      return false;
    }
    this.published = this.published.slice(updates.length);
    this.checkpointed = at;
    this.lastCommitAt = Date.now();
    this.counters.commits++;
    this.counters.updates += updates.length;
    for (const u of updates) runtime.telemetry.add('sextant_incident_updates_total', 'Incident changes published, by change', 1, { change: u.change });
    this.outbox.add(entries);
    this.outbox.held(updates);
    this.unacked = this.unacked.slice(acked.length);
    const stream = this.keys.stream;
    for (let off = 0; off < acked.length; off += 1000) await link.call(stream, ['XACK', stream, LEADER_GROUP, ...acked.slice(off, off + 1000)]);
    if (at !== '0-0') await link.call(stream, ['XTRIM', stream, 'MINID', at]);
    return true;
  }

  /** Stops; with `save` (a clean leave) commits first and lets deliveries in flight finish. Idempotent. */
  async stop(save: boolean): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.abort.abort();
    await this.loop;
    if (save && wasRunning && !this.halted) {
      try {
        await this.commit();
      } catch (e) {
        this.options.logger.warn(`cluster: final commit of the group's correlation failed: ${formatError(e)}; the next leader replays from the previous one`);
      }
    }
    await this.outbox.stop();
    await this.shutdownCorrelators();
    this.state = 'stopped';
  }

  halt(): void {
    this.halted = true;
    this.outbox.halt();
    void this.stop(false);
  }

  private async shutdownCorrelators(): Promise<void> {
    for (const { correlator } of this.instances) {
      try {
        await correlator.shutdown();
      } catch {
        // a correlator that fails to shut down holds nothing we need
      }
    }
    this.instances = [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Entries of an XREADGROUP / XAUTOCLAIM reply (RESP2 arrays or RESP3 maps). */
function entriesOf(list: unknown): [string, Fields][] {
  if (!Array.isArray(list)) return [];
  const out: [string, Fields][] = [];
  for (const e of list) {
    if (!Array.isArray(e) || e.length < 2) continue;
    const fields: Fields = new Map();
    const raw = e[1];
    if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) fields.set(String(raw[i]), String(raw[i + 1]));
    else if (raw && typeof raw === 'object') for (const [k, v] of raw instanceof Map ? raw.entries() : Object.entries(raw)) fields.set(String(k), String(v));
    else continue; // an entry deleted meanwhile
    out.push([String(e[0]), fields]);
  }
  return out;
}

function readGroupEntries(reply: unknown): [string, Fields][] {
  if (!reply) return [];
  if (Array.isArray(reply)) return entriesOf((reply[0] as unknown[] | undefined)?.[1]);
  if (reply instanceof Map) return entriesOf([...reply.values()][0]);
  if (typeof reply === 'object') return entriesOf(Object.values(reply)[0]);
  return [];
}

/** Builds the leader's correlator factories from the `correlators` section, validating every instance. */
async function correlatorSpecsFor(runtime: Runtime, section: RuntimeConfig['correlators']): Promise<GroupCorrelatorSpec[]> {
  const issues: ConfigIssue[] = [];
  const specs = instanceSpecs({ ...runtime.config, collectors: {}, detectors: {}, notifiers: {}, exporters: {}, correlators: section } as RuntimeConfig, issues).filter((s) => s.kind === 'correlator' && s.enabled);
  const out: GroupCorrelatorSpec[] = [];
  for (const spec of specs) {
    const path = `correlators.${spec.id}`;
    const entry = runtime.factory('correlator', spec.type);
    if (!entry) {
      issues.push({ path, message: `no correlator of type "${spec.type}" is installed` });
      continue;
    }
    if (spec.isolation && spec.isolation !== 'in-process') issues.push({ path: `${path}.isolation`, message: 'the correlators of a server group run in-process on the leader', hint: 'remove isolation from this correlator' });
    const result = await validateConfig(entry.factory.configSchema, mergeDefaults(entry.factory.defaults ?? {}, spec.config), path);
    if (!result.ok) {
      issues.push(...result.issues);
      continue;
    }
    const config = result.value;
    const logger = createLogger(spec.id);
    const metrics = pluginSelfMetrics(runtime, entry.pluginId, spec.id);
    out.push({
      id: spec.id,
      create: async (publish, signal) => {
        const ctx: CorrelatorContext<unknown> = {
          config,
          instanceId: spec.id,
          logger,
          clock: runtime.clock,
          status: {
            set: (state: HealthState, message?: string) => {
              if (state === 'degraded' || state === 'error') logger.warn(`${spec.id} is ${state}${message ? `: ${message}` : ''}`);
            },
          },
          metrics,
          signal,
          dataDir: undefined,
          // Series ids on the stream are group-wide; the group's catalog lives in the partitions.
          catalog: { describe: () => undefined, size: 0 },
          topology: runtime.topology,
          publish,
        };
        try {
          return (await entry.factory.create(ctx as never)) as Correlator;
        } catch (e) {
          throw new SextantError(ErrorCode.START_FAILED, `${spec.id}: create() failed on the leader: ${formatError(e)}`);
        }
      },
    });
  }
  if (issues.length) throw configError(issues);
  return out;
}

