/**
 * Remembers which beacons (page-load id + sequence number) were already accepted, so a beacon
 * sent twice — replayed by a proxy, a browser extension or an attacker — is refused instead of
 * counting page views and purchases twice. Memory is bounded: entries expire after `ttlMs` and the
 * oldest are dropped beyond `capacity`.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  /** Records `pid`/`seq` at `now`; false when it was seen within the ttl. */
  firstTime(pid: string, seq: number, now: number): boolean {
    const key = `${pid}:${seq}`;
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    if (at !== undefined) this.seen.delete(key);
    if (this.seen.size >= this.capacity) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, now);
    return true;
  }

  /** Forgets entries older than the ttl (insertion order is time order). */
  expire(now: number): void {
    for (const [key, at] of this.seen) {
      if (now - at < this.ttlMs) break;
      this.seen.delete(key);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
