/**
 * Membership and partition ownership (docs/architecture.md, "Scale-out").
 *
 * - **Members** heartbeat into one sorted set scored by their expiry in Redis time (so clock skew
 *   between members does not matter); an entry older than `memberTtlMs` is dropped by the next
 *   heartbeat of anyone. The live member list is what each heartbeat returns.
 * - **Leases**: partition `p` is owned by whoever holds `{group:p<p>}:lease`, set with `SET NX PX`
 *   and renewed or released by Lua scripts that act only when the key still holds the caller's id,
 *   so a member can never renew or drop a lease someone else took over.
 * - **Balance**: a member holds at most `ceil(partitions / live members)`. It releases the extras
 *   (after its listener has checkpointed them) when members join, and takes free partitions
 *   (orphaned when a member's lease expired) up to that bound, preferring partitions by rendezvous
 *   hash so members do not all race for the same ones.
 *
 * Invariant: a partition is in `owned` only while this member holds its lease in Redis (added after
 * the SET succeeded, removed before the release script runs). If Redis cannot be reached for a
 * whole lease time, every partition is given up locally, because the leases may have expired.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@sextant/plugin-api';
import type { ClusterKeys } from './cluster-keys.js';
import { fnv1a32 } from './partition-of.js';
import type { RedisLink } from './redis-link.js';

const HEARTBEAT = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[2], epoch)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = redis.call('ZRANGE', KEYS[1], 0, -1)
table.insert(out, 1, epoch)
return out`;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/**
 * Every held lease in one call (standalone Redis): KEYS = leases, ARGV = member, lease ms; returns
 * 1/0 per key as RENEW would. On a Redis Cluster the leases of different partitions live in
 * different slots, so they are renewed one script each there.
 */
const RENEW_ALL = `local out = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then out[i] = redis.call('PEXPIRE', KEYS[i], ARGV[2]) else out[i] = 0 end
end
return out`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** What the owner of partitions does when ownership changes. */
export interface LeaseListener {
  /** The lease of `p` is ours now: start working on it (restore, then read). Not awaited. */
  acquired(p: number): void;
  /** We give `p` up voluntarily: stop and checkpoint; the lease is released when this settles. */
  releasing(p: number): Promise<void>;
  /** The lease of `p` is gone (expired, or Redis was unreachable too long): drop its state without writing. */
  lost(p: number): void;
  /**
   * The group's data epoch changed: the store lost everything (a Redis restarted without
   * persistence, or flushed). Called before any partition is taken again.
   */
  epochChanged?(previous: string, current: string): void;
}

export interface PartitionLeasesOptions {
  readonly link: RedisLink;
  readonly keys: ClusterKeys;
  readonly memberId: string;
  /** Lease time, ms (default 5000): a dead member's partitions are free after at most this long. */
  readonly leaseMs?: number;
  /** Heartbeat, renewal and balancing period, ms (default leaseMs / 5). */
  readonly heartbeatMs?: number;
  readonly listener: LeaseListener;
  readonly logger?: Logger;
}

export class PartitionLeases {
  readonly owned = new Set<number>();
  /** Live members as of the last heartbeat, sorted. */
  members: readonly string[] = [];
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  /** Partitions taken over / released / lost since start (for /metrics). */
  readonly counts = { acquired: 0, released: 0, lost: 0, heartbeatFailures: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private lastRenewOk = 0;
  private failing = false;
  private readonly preference: number[];
  /** The group's data epoch as of the last heartbeat (undefined before the first one). */
  epoch: string | undefined;
  /** Partition -> local time the last successful SET/renew was sent (its lease runs from no earlier). */
  private readonly renewedAt = new Map<number, number>();

  constructor(private readonly options: PartitionLeasesOptions) {
    this.leaseMs = options.leaseMs ?? 5000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(this.leaseMs / 5));
    const P = options.keys.partitions;
    // Rendezvous order: this member's most preferred partitions first.
    this.preference = Array.from({ length: P }, (_, p) => p).sort((a, b) => fnv1a32(`${options.memberId}:${b}`) - fnv1a32(`${options.memberId}:${a}`));
  }

  get memberId(): string {
    return this.options.memberId;
  }

  /**
   * Joins the group: heartbeats, renews and balances every `heartbeatMs` until stop() or halt().
   * The promise settles after the first round (never rejects).
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.lastRenewOk = Date.now();
    let last = Date.now();
    const loop = () => {
      if (!this.running) return;
      const gap = Date.now() - last;
      last = Date.now();
      if (gap > this.leaseMs / 2) {
        this.options.logger?.warn(`cluster: ${this.options.memberId} renewed its leases ${gap} ms after the previous round (lease ${this.leaseMs} ms): this process is overloaded; partitions may move`);
      }
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (this.running) this.timer = setTimeout(loop, this.heartbeatMs);
      });
    };
    loop();
    return this.ticking ?? Promise.resolve();
  }

  /** One round: heartbeat, renew what we hold, release extras, take free partitions. */
  async tick(): Promise<void> {
    const { link, keys, memberId } = this.options;
    try {
      const reply = (await link.call<string[]>(keys.members, ['EVAL', HEARTBEAT, '2', keys.members, keys.epoch, memberId, String(this.leaseMs), randomBytes(8).toString('hex')])).map(String);
      const [epoch, ...live] = reply;
      if (this.epoch !== undefined && epoch !== this.epoch) {
        this.options.logger?.warn(`cluster: the store lost the group's data (epoch ${this.epoch} -> ${epoch}: Redis restarted without persistence, or was flushed); series ids, streams and learned state start over`);
        const previous = this.epoch;
        this.epoch = epoch;
        for (const p of [...this.owned]) this.lose(p);
        this.options.listener.epochChanged?.(previous, epoch);
      }
      this.epoch = epoch;
      this.members = live.includes(memberId) ? live : [...live, memberId].sort();
      await this.renewAll();
      this.lastRenewOk = Date.now();
      if (this.failing) this.options.logger?.info(`cluster: the store answers again; member ${memberId} holds ${this.owned.size} partition(s)`);
      this.failing = false;
    } catch (e) {
      this.counts.heartbeatFailures++;
      if (!this.failing) this.options.logger?.warn(`cluster: heartbeat of ${memberId} failed: ${e instanceof Error ? e.message : String(e)}; retrying every ${this.heartbeatMs} ms`);
      this.failing = true;
      if (Date.now() - this.lastRenewOk > this.leaseMs && this.owned.size > 0) {
        this.options.logger?.warn(`cluster: no renewal for more than the lease time (${this.leaseMs} ms); giving up ${this.owned.size} partition(s) until the store answers`);
        for (const p of [...this.owned]) this.lose(p);
      }
      return;
    }
    if (!this.running) return;
    try {
      await this.balance();
    } catch (e) {
      this.options.logger?.warn(`cluster: rebalancing failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private lose(p: number): void {
    if (!this.owned.delete(p)) return;
    this.counts.lost++;
    this.options.listener.lost(p);
  }

  private async renewAll(): Promise<void> {
    const { link, keys, memberId } = this.options;
    const held = [...this.owned];
    const sentAt = Date.now();
    if (held.length === 0) return;
    // One script for every lease on a standalone Redis: 64 scripts a heartbeat were a measurable
    // share of an idle member's CPU (issue 22); a Redis Cluster needs one per slot.
    const results = link.cluster
      ? await Promise.all(held.map((p) => link.call<number>(keys.lease(p), ['EVAL', RENEW, '1', keys.lease(p), memberId, String(this.leaseMs)])))
      : await link.call<number[]>(keys.lease(held[0]), ['EVAL', RENEW_ALL, String(held.length), ...held.map((p) => keys.lease(p)), memberId, String(this.leaseMs)]);
    results.forEach((r, i) => {
      if (Number(r) !== 1) {
        this.options.logger?.warn(`cluster: lease of partition ${held[i]} was lost (expired or taken over)`);
        this.lose(held[i]);
      } else this.renewedAt.set(held[i], sentAt);
    });
  }

  /**
   * True while this member surely still holds the lease of `p`: owned, and the last renewal was
   * sent less than 80% of the lease time ago by the local clock (a stalled process must not keep
   * applying entries after its lease may have expired and been taken over).
   */
  holds(p: number): boolean {
    return this.owned.has(p) && Date.now() - (this.renewedAt.get(p) ?? 0) < this.leaseMs * 0.8;
  }

  /** The most partitions one member should hold with the current live members. */
  get target(): number {
    return Math.ceil(this.options.keys.partitions / Math.max(1, this.members.length));
  }

  private async balance(): Promise<void> {
    const { link, keys, memberId } = this.options;
    const target = this.target;
    if (this.owned.size > target) {
      // Give up the least preferred ones first.
      const extras = this.preference.filter((p) => this.owned.has(p)).slice(target);
      await Promise.all(extras.map((p) => this.release(p)));
      return;
    }
    let candidates = this.preference.filter((p) => !this.owned.has(p));
    while (this.running && this.owned.size < target && candidates.length > 0) {
      const batch = candidates.slice(0, target - this.owned.size);
      candidates = candidates.slice(batch.length);
      const sentAt = Date.now();
      const results = await Promise.all(batch.map((p) => link.call<string | null>(keys.lease(p), ['SET', keys.lease(p), memberId, 'NX', 'PX', String(this.leaseMs)])));
      results.forEach((r, i) => {
        if (r !== 'OK' || !this.running) return;
        const p = batch[i];
        this.owned.add(p);
        this.renewedAt.set(p, sentAt);
        this.counts.acquired++;
        this.options.listener.acquired(p);
      });
    }
  }

  private async release(p: number): Promise<void> {
    const { link, keys, memberId } = this.options;
    // Checkpointing must not starve the renewal of the other partitions.
    await Promise.race([this.options.listener.releasing(p).catch(() => undefined), new Promise((r) => setTimeout(r, Math.floor(this.leaseMs / 3)))]);
    if (!this.owned.delete(p)) return;
    this.counts.released++;
    await link.call(keys.lease(p), ['EVAL', RELEASE, '1', keys.lease(p), memberId]);
  }

  /** Leaves the group cleanly: every partition is checkpointed by the listener and released. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    await Promise.all([...this.owned].map((p) => this.release(p).catch(() => undefined)));
    await this.options.link.call(this.options.keys.members, ['ZREM', this.options.keys.members, this.options.memberId]).catch(() => undefined);
  }

  /** Stops at once without releasing anything (what a crash looks like to the others; tests). */
  halt(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }
}
