/**
 * Turns `SLOWLOG GET n` replies into `slowlog` events, each entry exactly once.
 *
 * Reply shape (Redis >= 4): `[[id, unixSeconds, durationMicros, [arg...], "ip:port", clientName], ...]`,
 * newest first. Slowlog ids grow by one per entry for the life of the server process (SLOWLOG RESET
 * does not reuse them) and restart at 0 with the process, so the tracker keys "already seen" on the
 * server's `run_id` plus the highest id emitted.
 *
 * Privacy: only the command name and the number of arguments go into the event; keys and values
 * can hold personal data and are never copied.
 */
import type { Attributes, SextantEvent } from '@sextant/plugin-api';

export interface SlowlogOutcome {
  readonly events: SextantEvent[];
  /** Entries that fell off the slowlog between two rounds (more than `maxEntries` new ones). */
  readonly missed: number;
  /** Entries that could not be read (wrong shape). */
  readonly malformed: number;
}

export class SlowlogTracker {
  private runId: string | undefined;
  private lastSeenId = -1;

  /**
   * @param ownClientName entries from this client name (the collector itself) are skipped, so a
   *   low `slowlog-log-slower-than` does not report the collector's own INFO calls.
   */
  constructor(
    private readonly resource: Attributes,
    private readonly where: string,
    private readonly ownClientName: string,
  ) {}

  /** `reply` is the raw SLOWLOG GET reply; `runId` the server's INFO run_id (may be undefined). */
  update(reply: unknown, runId: string | undefined, maxEntries: number): SlowlogOutcome {
    const events: SextantEvent[] = [];
    if (runId !== this.runId) {
      this.runId = runId;
      this.lastSeenId = -1;
    }
    if (!Array.isArray(reply)) return { events, missed: 0, malformed: reply === null || reply === undefined ? 0 : 1 };
    let malformed = 0;
    let highest = -1;
    let lowestNew = Number.POSITIVE_INFINITY;
    const fresh: { id: number; at: number; micros: number; command: string; args: number; client: string; clientName: string }[] = [];
    for (const entry of reply) {
      if (!Array.isArray(entry) || entry.length < 4) {
        malformed++;
        continue;
      }
      const id = Number(entry[0]);
      const at = Number(entry[1]);
      const micros = Number(entry[2]);
      const args = entry[3];
      if (!Number.isSafeInteger(id) || id < 0 || !Number.isFinite(at) || at < 0 || !Number.isFinite(micros) || micros < 0 || !Array.isArray(args)) {
        malformed++;
        continue;
      }
      if (id > highest) highest = id;
      if (id <= this.lastSeenId) continue;
      if (id < lowestNew) lowestNew = id;
      if (typeof entry[5] === 'string' && entry[5] === this.ownClientName) continue;
      fresh.push({
        id,
        at,
        micros,
        command: String(args[0] ?? '?').slice(0, 64).toUpperCase(),
        args: args.length,
        client: typeof entry[4] === 'string' ? entry[4].slice(0, 64) : '',
        clientName: typeof entry[5] === 'string' ? entry[5].slice(0, 64) : '',
      });
    }
    // the server restarted without us noticing the run_id (e.g. run_id unavailable): ids went back
    if (highest >= 0 && highest < this.lastSeenId) {
      this.lastSeenId = -1;
      return this.update(reply, runId, maxEntries);
    }
    const missed = this.lastSeenId >= 0 && reply.length >= maxEntries && lowestNew !== Number.POSITIVE_INFINITY ? Math.max(0, lowestNew - this.lastSeenId - 1) : 0;
    if (highest > this.lastSeenId) this.lastSeenId = highest;
    fresh.sort((a, b) => a.id - b.id);
    for (const e of fresh) {
      const ms = Math.round(e.micros / 10) / 100;
      const attributes: Record<string, string | number> = {
        'db.operation.name': e.command,
        'redis.slowlog.id': e.id,
        'redis.slowlog.duration_us': e.micros,
        'redis.slowlog.args': e.args,
      };
      if (e.client) attributes['client.address'] = e.client;
      if (e.clientName) attributes['redis.client.name'] = e.clientName;
      events.push({
        id: `redis-slowlog:${this.where}:${this.runId ?? 'unknown'}:${e.id}`,
        type: 'slowlog',
        timestamp: e.at * 1000,
        title: `slow redis command ${e.command} took ${ms} ms on ${this.where}`,
        resource: this.resource,
        attributes,
        severity: 'warning',
        source: 'redis',
      });
    }
    return { events, missed, malformed };
  }
}
