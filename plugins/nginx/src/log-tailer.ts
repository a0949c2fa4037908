/**
 * Follows a growing log file across rotations, reading only what was appended since the last call.
 *
 * Rotation, as logrotate does it:
 * - rename (`create`): the file is renamed and nginx, after `nginx -s reopen` (SIGUSR1), writes to a
 *   new file at the same path. The tailer keeps reading the old file to its end (nginx may still
 *   write to it until the reopen), then switches to the new file from its start.
 * - copytruncate: the file is copied and truncated in place. Seen as the file being shorter than the
 *   read position; reading restarts at 0. Lines written between the last read and the copy are in
 *   the copy only and are not seen (inherent to copytruncate). A truncation followed by more writes
 *   than were read before is indistinguishable from growth; prefer rename rotation.
 *
 * Bounds: lines longer than `maxLineBytes` are skipped and counted; at most `maxReadBytes` are read
 * per call (the rest waits for the next call), so a huge backlog cannot stall a round. Never throws
 * for a missing or unreadable file: {@link LogTailer.poll} reports it.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface LogTailerOptions {
  /** Start at the beginning of the file present at the first open, instead of its end. */
  readonly fromStart: boolean;
  readonly maxLineBytes: number;
  readonly maxReadBytes: number;
  /** Read buffer size; must exceed maxLineBytes. */
  readonly chunkBytes?: number;
}

/** What one {@link LogTailer.poll} found. */
export interface TailReport {
  /** The file is not there (not created yet, or rotated away and not recreated with nothing open). */
  readonly missing: boolean;
  /** The error that kept the file from being read, if any (permissions, ...). */
  readonly error: string | undefined;
  readonly bytes: number;
  readonly lines: number;
  readonly oversized: number;
  readonly renames: number;
  readonly truncations: number;
  /** True when `maxReadBytes` stopped the read before the end of the file. */
  readonly backlog: boolean;
}

/** Receives each complete line as `text[start, end)`, without the newline. Must not keep `text`. */
export type LineSink = (text: string, start: number, end: number) => void;

export class LogTailer {
  private handle: FileHandle | undefined;
  private ino = -1;
  private dev = -1;
  private position = 0;
  private opened = false;
  private readonly buffer: Buffer;
  /** Bytes of an incomplete last line kept at the start of `buffer`. */
  private carry = 0;
  /** Inside a line longer than maxLineBytes: drop bytes until the next newline. */
  private skipping = false;
  private counts = { bytes: 0, lines: 0, oversized: 0, renames: 0, truncations: 0 };

  constructor(
    readonly path: string,
    private readonly options: LogTailerOptions,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(options.chunkBytes ?? 1 << 20, options.maxLineBytes * 2));
  }

  /**
   * Opens the file and remembers where reading starts (its end unless `fromStart`). A file that is
   * missing now and created later is read from its start: everything in it is new.
   */
  async start(): Promise<void> {
    try {
      await this.openCurrent();
    } catch {
      // poll() reports it
    }
    this.opened = true;
  }

  /** Reads everything appended since the last call and hands each complete line to `sink`. */
  async poll(sink: LineSink): Promise<TailReport> {
    this.counts = { bytes: 0, lines: 0, oversized: 0, renames: 0, truncations: 0 };
    let error: string | undefined;
    let backlog = false;
    try {
      if (!this.handle && !(await this.openCurrent())) return this.report(true, undefined, false);
      const h = this.handle!;
      const size = (await h.stat()).size;
      if (size < this.position) {
        this.counts.truncations++;
        this.position = 0;
        this.carry = 0;
        this.skipping = false;
      }
      backlog = await this.drain(sink);
      if (!backlog && (await this.rotatedAway())) {
        backlog = await this.drain(sink); // what nginx wrote to the old file before reopening
        if (!backlog) {
          await this.closeHandle();
          this.counts.renames++;
          if (await this.openCurrent()) backlog = await this.drain(sink);
        }
      }
    } catch (e) {
      error = (e as Error).message;
      await this.closeHandle();
    }
    return this.report(false, error, backlog);
  }

  /** Closes the file. Safe to call more than once. */
  async close(): Promise<void> {
    await this.closeHandle();
  }

  private report(missing: boolean, error: string | undefined, backlog: boolean): TailReport {
    return { missing, error, backlog, ...this.counts };
  }

  private async openCurrent(): Promise<boolean> {
    let h: FileHandle;
    try {
      h = await open(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    const st = await h.stat();
    this.handle = h;
    this.ino = st.ino;
    this.dev = st.dev;
    // Only the very first file honours fromStart=false; a file found later is all new.
    this.position = !this.opened && !this.options.fromStart ? st.size : 0;
    this.opened = true;
    this.carry = 0;
    this.skipping = false;
    return true;
  }


  private async rotatedAway(): Promise<boolean> {
    try {
      const st = await stat(this.path);
      return st.ino !== this.ino || st.dev !== this.dev;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // renamed, not yet recreated
      throw e;
    }
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close().catch(() => undefined);
  }

  /** Reads to the end of the open file. Returns true when stopped early by maxReadBytes. */
  private async drain(sink: LineSink): Promise<boolean> {
    const h = this.handle!;
    const buf = this.buffer;
    const maxLine = this.options.maxLineBytes;
    for (;;) {
      if (this.counts.bytes >= this.options.maxReadBytes) return true;
      const { bytesRead } = await h.read(buf, this.carry, buf.length - this.carry, this.position);
      if (bytesRead === 0) return false;
      this.position += bytesRead;
      this.counts.bytes += bytesRead;
      const filled = this.carry + bytesRead;
      let from = 0;
      if (this.skipping) {
        const nl = buf.indexOf(10, 0);
        if (nl < 0 || nl >= filled) {
          this.carry = 0;
          continue;
        }
        this.skipping = false;
        from = nl + 1;
      }
      const lastNl = buf.lastIndexOf(10, filled - 1);
      if (lastNl < from) {
        // no complete line in the buffer
        const pending = filled - from;
        if (pending > maxLine) {
          this.counts.oversized++;
          this.skipping = true;
          this.carry = 0;
        } else {
          buf.copy(buf, 0, from, filled);
          this.carry = pending;
        }
        continue;
      }
      const text = buf.toString('utf8', from, lastNl);
      let s = 0;
      for (;;) {
        let e = text.indexOf('\n', s);
        if (e < 0) e = text.length;
        if (e - s > maxLine) this.counts.oversized++;
        else if (e > s) {
          this.counts.lines++;
          sink(text, s, e);
        }
        if (e >= text.length) break;
        s = e + 1;
      }
      const rest = filled - (lastNl + 1);
      if (rest > maxLine) {
        this.counts.oversized++;
        this.skipping = true;
        this.carry = 0;
      } else {
        buf.copy(buf, 0, lastNl + 1, filled);
        this.carry = rest;
      }
    }
  }
}
