/**
 * Lease-based leader election (coordination.k8s.io/v1 Lease), the client-go protocol:
 *
 * - the holder renews `spec.renewTime` at every `tryAcquireOrRenew()`;
 * - a candidate takes the lease when it is free, or when the holder has not changed it for
 *   `leaseDuration` as measured by the candidate's own clock since it last *saw* a change
 *   (never by comparing the holder's timestamps with local time, so clock skew does not matter);
 * - every write carries the resourceVersion it read: of two candidates racing, one gets 409
 *   Conflict and stays a follower;
 * - a holder that cannot renew for `leaseDuration` steps down by itself;
 * - `release()` on shutdown hands over at once (holder cleared).
 */
import { KubeApiError, type KubeConnection } from './kube-connection.js';

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly now: () => number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElection {
  private leader = false;
  private lastRenewed = 0;
  private observed: { holder: string; renewTime: string; at: number } | undefined;
  private transitions = 0;

  constructor(
    private readonly connection: KubeConnection,
    private readonly options: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /** Who holds the lease, as last seen. */
  get holder(): string | undefined {
    return this.observed?.holder || undefined;
  }

  get leaderTransitions(): number {
    return this.transitions;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases`;
  }

  /**
   * One round: acquire or renew. Returns whether this instance leads afterwards. Throws only
   * KubeApiErrors other than 404/409 (403 when RBAC lacks the lease rule, connection failures);
   * a leader that fails this way for `leaseDuration` stops leading.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    // Rounds never overlap: a second caller waits for the round in flight.
    this.inFlight ??= this.runRound().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private inFlight: Promise<boolean> | undefined;

  private async runRound(): Promise<boolean> {
    const now = this.options.now();
    try {
      const result = await this.round(now);
      if (result === 'conflict') {
        // Someone wrote the lease between our read and write. A leader keeps leading until it
        // has failed to renew for a whole lease duration (client-go's renew deadline).
        if (this.leader && now - this.lastRenewed > this.options.leaseDurationMs) this.leader = false;
      } else {
        this.leader = result;
        if (result) this.lastRenewed = now;
      }
    } catch (e) {
      if (this.leader && now - this.lastRenewed > this.options.leaseDurationMs) this.leader = false;
      throw e;
    }
    return this.leader;
  }

  private spec(now: number, previous?: Lease['spec']): Lease['spec'] {
    const takingOver = previous?.holderIdentity !== this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      acquireTime: takingOver ? microTime(now) : (previous?.acquireTime ?? microTime(now)),
      renewTime: microTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (takingOver && previous?.holderIdentity ? 1 : 0),
    };
  }

  private async round(now: number): Promise<boolean | 'conflict'> {
    let current: Lease;
    try {
      current = await this.connection.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.options.name)}`);
    } catch (e) {
      if (!(e instanceof KubeApiError) || e.status !== 404) throw e;
      const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.options.name, namespace: this.options.namespace }, spec: this.spec(now) };
      try {
        await this.connection.request('POST', this.path, { body: lease });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) return 'conflict'; // someone else created it first
        throw err;
      }
      this.transitions++;
      this.observed = { holder: this.options.identity, renewTime: lease.spec.renewTime!, at: now };
      return true;
    }
    const holder = current.spec?.holderIdentity ?? '';
    const renewTime = current.spec?.renewTime ?? '';
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) this.observed = { holder, renewTime, at: now };
    const mine = holder === this.options.identity;
    const expired = !holder || now - this.observed.at > this.options.leaseDurationMs;
    if (!mine && !expired) return false;
    const updated: Lease = { ...current, spec: this.spec(now, current.spec) };
    try {
      await this.connection.request('PUT', `${this.path}/${encodeURIComponent(this.options.name)}`, { body: updated });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return 'conflict';
      throw err;
    }
    if (!mine) this.transitions++;
    this.observed = { holder: this.options.identity, renewTime: updated.spec.renewTime!, at: now };
    return true;
  }

  /** Gives the lease up so another agent can take it at once. Never throws. */
  async release(): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    try {
      const current = await this.connection.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.options.name)}`);
      if (current.spec?.holderIdentity !== this.options.identity) return;
      await this.connection.request('PUT', `${this.path}/${encodeURIComponent(this.options.name)}`, {
        body: { ...current, spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.options.now()) } },
      });
    } catch {
      // best effort: the lease expires by itself
    }
  }
}
