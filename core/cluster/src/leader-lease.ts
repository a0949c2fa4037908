/**
 * The group's one leader (docs/architecture.md, "Scale-out"): whoever holds `{<group>:corr}:lease`
 * runs the correlators, writes incidents and delivers notifications. The lease is taken with
 * `SET NX PX` and renewed or released by Lua scripts that act only for the holder (as the partition
 * leases), so expiry runs on Redis time and a member can never renew a lease someone else took.
 *
 * `holds()` is true only while the last renewal was sent less than 80% of the lease time ago by
 * the local clock: a stalled leader stops writing before anyone else can have taken over.
 */
import { formatError, type Logger } from '@sextant/plugin-api';
import type { RedisLink } from './redis-link.js';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return redis.call('GET', KEYS[1]) or ''`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface LeaderLeaseOptions {
  readonly link: RedisLink;
  readonly key: string;
  readonly memberId: string;
  /** Lease time, ms: a dead leader is replaced after at most this long. */
  readonly leaseMs: number;
  readonly logger?: Logger;
  /** The lease is ours now (not awaited). */
  acquired(): void;
  /** The lease is gone (taken over, expired, or Redis unreachable for a lease time). */
  lost(): void;
}

export class LeaderLease {
  /** The leader as of the last round (this member or another), undefined when none. */
  leader: string | undefined;
  readonly counts = { acquired: 0, lost: 0, released: 0 };
  private held = false;
  private renewedAt = 0;
  private lastOk = Date.now();
  private failing = false;

  constructor(private readonly options: LeaderLeaseOptions) {}

  get isLeader(): boolean {
    return this.held;
  }

  holds(): boolean {
    return this.held && Date.now() - this.renewedAt < this.options.leaseMs * 0.8;
  }

  /** One round: renew if held, else try to take the lease. Never throws. */
  async tick(): Promise<void> {
    const { link, key, memberId, leaseMs } = this.options;
    const sentAt = Date.now();
    try {
      if (this.held) {
        const r = await link.call<number | string>(key, ['EVAL', RENEW, '1', key, memberId, String(leaseMs)]);
        if (Number(r) === 1) {
          this.renewedAt = sentAt;
          this.leader = memberId;
        } else {
          this.leader = r ? String(r) : undefined;
          this.options.logger?.warn(`cluster: ${memberId} lost the correlation lead${this.leader ? ` to ${this.leader}` : ''} (lease expired)`);
          this.drop();
        }
      } else {
        const r = await link.call<string | null>(key, ['SET', key, memberId, 'NX', 'PX', String(leaseMs), 'GET']);
        if (r === null || r === undefined) {
          this.held = true;
          this.renewedAt = sentAt;
          this.leader = memberId;
          this.counts.acquired++;
          this.options.logger?.info(`cluster: ${memberId} leads the group's correlation`);
          this.options.acquired();
        } else {
          this.leader = String(r);
        }
      }
      this.lastOk = Date.now();
      this.failing = false;
    } catch (e) {
      if (!this.failing) this.options.logger?.warn(`cluster: leader lease round failed: ${formatError(e)}`);
      this.failing = true;
      if (this.held && Date.now() - this.lastOk > leaseMs) {
        this.options.logger?.warn(`cluster: no lease renewal for a whole lease time (${leaseMs} ms); ${memberId} stops leading until the store answers`);
        this.drop();
      }
    }
  }

  private drop(): void {
    if (!this.held) return;
    this.held = false;
    this.counts.lost++;
    this.options.lost();
  }

  /** Gives the lease up (after the leader's work was saved), so another member takes over at once. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    this.counts.released++;
    const { link, key, memberId } = this.options;
    await link.call(key, ['EVAL', RELEASE, '1', key, memberId]).catch(() => undefined);
    if (this.leader === memberId) this.leader = undefined;
  }

  /** Forgets the lease without releasing it (a crash, as the others see it; tests). */
  halt(): void {
    this.held = false;
  }
}
