/**
 * Where bot-token mode remembers, per incident, the message that opened it (`channel` + `ts`) and
 * the last update sequence delivered. Kept in `<dataDir>/slack-threads.json` (written atomically)
 * so a restart still threads replies under the original message and drops duplicate deliveries;
 * in memory only when the instance has no data directory.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SlackThread {
  readonly channel: string;
  readonly ts: string;
  /** Highest update sequence delivered for the incident. */
  readonly sequence: number;
  /** Milliseconds since the epoch of the last change; old entries are pruned. */
  readonly touchedAt: number;
}

/** Entries untouched for this long are forgotten. */
const RETENTION_MS = 30 * 24 * 3_600_000;

export class SlackThreadStore {
  private readonly threads = new Map<string, SlackThread>();
  private readonly file: string | undefined;

  constructor(dataDir: string | undefined) {
    this.file = dataDir ? join(dataDir, 'slack-threads.json') : undefined;
  }

  /** Loads the file; a missing file is empty, a corrupt one is reported and ignored. */
  load(): { problem?: string } {
    if (!this.file) return {};
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? {} : { problem: `cannot read ${this.file}: ${(e as Error).message}` };
    }
    try {
      const raw = JSON.parse(text) as Record<string, SlackThread>;
      for (const [id, t] of Object.entries(raw)) {
        if (typeof t?.channel === 'string' && typeof t.ts === 'string' && Number.isFinite(t.sequence)) this.threads.set(id, t);
      }
      return {};
    } catch (e) {
      return { problem: `ignoring corrupt ${this.file}: ${(e as Error).message}` };
    }
  }

  get(incidentId: string): SlackThread | undefined {
    return this.threads.get(incidentId);
  }

  set(incidentId: string, thread: SlackThread): void {
    this.threads.set(incidentId, thread);
    for (const [id, t] of this.threads) if (thread.touchedAt - t.touchedAt > RETENTION_MS) this.threads.delete(id);
    if (!this.file) return;
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.threads)));
    renameSync(tmp, this.file);
  }
}
