/**
 * What a runtime keeps in its data directory so a restart — or a SIGKILL — keeps what was learned
 * and what is open (docs/architecture.md, "Storage and restarts"):
 *
 *   <dataDir>/snapshots/series.jsonl       the series registry, one JSON line per series id, in id
 *                                          order, append-only (ids are never reused)
 *   <dataDir>/snapshots/<instance>.bin     a detector's or correlator's own snapshot()
 *   <dataDir>/snapshots/incidents.json     the incidents the API serves (latest state of each)
 *   <dataDir>/snapshots/events.json        the recent event log (deploys, silences, maintenance)
 *
 * Series ids are what every snapshot refers to, so the registry is restored first and in the same
 * order: id N after a restart is the series that was id N before. Without that a detector's
 * learned state would attach to whichever series happened to be registered N-th.
 *
 * Writes are atomic (temporary file + rename); the registry only appends lines for new series, so
 * a checkpoint of a large, settled server costs the detector snapshots and little else. A torn last
 * line (a crash during an append) is ignored on load.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Incident, Logger } from '@sextant/plugin-api';
import type { StoredEvent } from '../pipeline/pipeline.js';
import type { SeriesRegistry } from '../store/series-registry.js';

export interface RestoredState {
  readonly series: number;
  readonly incidents: Incident[];
  readonly events: StoredEvent[];
}

export class StateCheckpoint {
  readonly dir: string;
  private savedSeries = 0;

  constructor(
    dataDir: string,
    private readonly registry: SeriesRegistry,
    private readonly logger: Logger,
  ) {
    this.dir = join(dataDir, 'snapshots');
  }

  /** The file of one component instance's snapshot. */
  instanceFile(instanceId: string): string {
    return join(this.dir, `${instanceId.replace(/\//g, '__')}.bin`);
  }

  /**
   * Re-registers the saved series in id order, then reads the saved incidents and events. Call
   * before any collector or agent registers a series. Never throws: a damaged file is logged and
   * what could be read is kept.
   */
  load(): RestoredState {
    const file = join(this.dir, 'series.jsonl');
    let series = 0;
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      for (const line of lines) {
        if (!line) continue;
        let record: { id: number; source: string; metric: string; unit: string; type: string; resource: Record<string, never>; attributes: Record<string, never> };
        try {
          record = JSON.parse(line);
        } catch {
          this.logger.warn(`${file}: line ${series + 1} is damaged (torn write?); series registered after it get new ids and their learned state is not restored`);
          break;
        }
        if (record.id !== series) {
          this.logger.warn(`${file}: expected series id ${series}, found ${String(record.id)}; stopping the restore of series there`);
          break;
        }
        try {
          const id = this.registry.intern(record as never, record.source);
          if (id !== record.id) throw new Error(`series ${record.id} came back as ${id}`);
        } catch (e) {
          this.logger.warn(`${file}: series ${series} could not be restored: ${e instanceof Error ? e.message : String(e)}`);
          break;
        }
        series++;
      }
      if (series < lines.filter(Boolean).length) {
        // Rewrite the file to what was restored, so later appends stay aligned with ids.
        this.rewriteSeries(series);
      }
    }
    this.savedSeries = series;
    return { series, incidents: this.readJson<Incident[]>('incidents.json') ?? [], events: this.readJson<StoredEvent[]>('events.json') ?? [] };
  }

  /** Appends the series registered since the last call. Returns how many were written. */
  saveSeries(): number {
    const all = this.registry.all();
    if (all.length <= this.savedSeries) return 0;
    mkdirSync(this.dir, { recursive: true });
    let text = '';
    for (let id = this.savedSeries; id < all.length; id++) text += `${JSON.stringify(all[id])}\n`;
    appendFileSync(join(this.dir, 'series.jsonl'), text);
    const written = all.length - this.savedSeries;
    this.savedSeries = all.length;
    return written;
  }

  saveIncidents(incidents: Iterable<Incident>): void {
    this.writeAtomic('incidents.json', JSON.stringify([...incidents]));
  }

  saveEvents(events: readonly StoredEvent[]): void {
    this.writeAtomic('events.json', JSON.stringify(events));
  }

  /** Writes bytes to `<dir>/<name>` through a temporary file and a rename. */
  writeAtomic(name: string, data: string | Uint8Array): void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, name);
    writeFileSync(`${file}.tmp`, data);
    renameSync(`${file}.tmp`, file);
  }

  private rewriteSeries(count: number): void {
    const all = this.registry.all();
    let text = '';
    for (let id = 0; id < count; id++) text += `${JSON.stringify(all[id])}\n`;
    this.writeAtomic('series.jsonl', text);
  }

  private readJson<T>(name: string): T | undefined {
    const file = join(this.dir, name);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (e) {
      this.logger.warn(`${file} could not be read (${e instanceof Error ? e.message : String(e)}); starting without it`);
      return undefined;
    }
  }
}
