/**
 * Bounded FIFO queues of ready-to-send request bodies, so a backend outage loses nothing within
 * the bound. Shared by the exporters (prometheus-remote-write, otlp): one implementation.
 *
 * {@link DiskPayloadQueue}: a directory of segment files (`00000001.seg`, ...). A record is
 * `[u32 length][u32 crc32][payload]` (little-endian). Writes append to the newest segment and
 * rotate at `segmentBytes`; the oldest record not yet acknowledged is read back by offset; a
 * `cursor` file remembers the read position across restarts (delivery is at-least-once: a crash
 * between a send and its cursor update sends that request again). Segments that are fully read are
 * deleted. When the queue holds more than `maxBytes`, whole oldest segments are dropped and
 * counted. A torn or corrupt record (a crash mid-write) ends its segment's readable part; it is
 * counted, never sent.
 *
 * {@link MemoryPayloadQueue}: the same contract in memory, for instances without a data directory;
 * its content is lost when the process stops.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export interface PayloadQueue {
  /** Appends a payload; may drop the oldest ones to stay within the byte bound. */
  push(payload: Uint8Array): void;
  /** The oldest payload not acknowledged yet. */
  peek(): Uint8Array | undefined;
  /** Removes the payload peek() returned. */
  ack(): void;
  /** Bytes held (payloads and record headers). */
  readonly bytes: number;
  /** Payloads held (the one peek() returned included until ack()). */
  readonly length: number;
  close(): void;
}

export interface QueueDrops {
  /** Payloads dropped to stay within the bound, or unreadable (`corrupt`). */
  (reason: 'overflow' | 'corrupt', payloads: number, bytes: number): void;
}

const HEADER = 8;

export class MemoryPayloadQueue implements PayloadQueue {
  private items: Uint8Array[] = [];
  private head = 0;
  /** What peek() handed out: ack() removes it only if it was not dropped meanwhile. */
  private peeked: Uint8Array | undefined;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  constructor(private readonly maxBytes: number, private readonly onDrop: QueueDrops) {}

  push(payload: Uint8Array): void {
    this.items.push(payload);
    this.bytes += payload.byteLength + HEADER;
    let n = 0;
    let b = 0;
    while (this.bytes > this.maxBytes && this.head < this.items.length) {
      const dropped = this.items[this.head];
      this.items[this.head++] = undefined as never;
      if (dropped === this.peeked) this.peeked = undefined;
      this.bytes -= dropped.byteLength + HEADER;
      n++;
      b += dropped.byteLength;
    }
    if (n > 0) this.onDrop('overflow', n, b);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  peek(): Uint8Array | undefined {
    this.peeked = this.items[this.head];
    return this.peeked;
  }

  ack(): void {
    const item = this.items[this.head];
    if (!item || item !== this.peeked) return;
    this.peeked = undefined;
    this.items[this.head++] = undefined as never;
    this.bytes -= item.byteLength + HEADER;
  }

  close(): void {}
}

function segmentName(n: number): string {
  return `${String(n).padStart(8, '0')}.seg`;
}

export class DiskPayloadQueue implements PayloadQueue {
  private segments: number[] = [];
  private writeSeg = 0;
  private writeFd = -1;
  private writeSize = 0;
  private readOffset = 0;
  private readFd = -1;
  private readFdSeg = -1;
  private peeked: { payload: Uint8Array; size: number } | undefined;
  bytes = 0;
  length = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly segmentBytes: number,
    private readonly onDrop: QueueDrops,
  ) {
    mkdirSync(dir, { recursive: true });
    this.segments = readdirSync(dir)
      .filter((f) => /^\d{8}\.seg$/.test(f))
      .map((f) => Number(f.slice(0, 8)))
      .sort((a, b) => a - b);
    const cursor = this.readCursor();
    if (cursor) {
      for (const s of this.segments.filter((s) => s < cursor.segment)) rmSync(join(dir, segmentName(s)), { force: true });
      this.segments = this.segments.filter((s) => s >= cursor.segment);
      if (this.segments[0] === cursor.segment) this.readOffset = cursor.offset;
    }
    for (const s of this.segments) {
      const size = statSync(join(dir, segmentName(s))).size;
      this.bytes += size;
      this.length += this.countRecords(s, s === this.segments[0] ? this.readOffset : 0, size);
    }
    this.bytes -= this.readOffset;
    // appends always go to a fresh segment: an older one may end in a torn record
    this.openWriteSegment((this.segments.at(-1) ?? 0) + 1);
  }

  push(payload: Uint8Array): void {
    const size = HEADER + payload.byteLength;
    if (this.writeSize > 0 && this.writeSize + size > this.segmentBytes) this.openWriteSegment(this.writeSeg + 1);
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(payload.byteLength, 0);
    header.writeUInt32LE(crc32(payload), 4);
    writeSync(this.writeFd, header);
    writeSync(this.writeFd, payload);
    this.writeSize += size;
    this.bytes += size;
    this.length++;
    while (this.bytes > this.maxBytes && this.segments.length > 1) this.dropOldestSegment();
  }

  peek(): Uint8Array | undefined {
    if (this.peeked) return this.peeked.payload;
    for (;;) {
      const seg = this.segments[0];
      if (seg === undefined) return undefined;
      const fd = this.readFdFor(seg);
      const end = seg === this.writeSeg ? this.writeSize : fstatSync(fd).size;
      if (this.readOffset + HEADER <= end) {
        const header = Buffer.alloc(HEADER);
        readSync(fd, header, 0, HEADER, this.readOffset);
        const length = header.readUInt32LE(0);
        if (this.readOffset + HEADER + length <= end) {
          const payload = new Uint8Array(length);
          readSync(fd, payload, 0, length, this.readOffset + HEADER);
          if (crc32(payload) === header.readUInt32LE(4)) {
            this.peeked = { payload, size: HEADER + length };
            return payload;
          }
        }
        // torn or corrupt: the rest of this segment is unreadable
        if (seg !== this.writeSeg) {
          this.length = Math.max(0, this.length - this.countRecords(seg, this.readOffset, end));
          this.onDrop('corrupt', 1, end - this.readOffset);
          this.bytes -= end - this.readOffset;
          this.readOffset = end;
        }
      }
      if (seg === this.writeSeg) return undefined;
      this.finishSegment(seg);
    }
  }

  ack(): void {
    if (!this.peeked) return;
    this.readOffset += this.peeked.size;
    this.bytes -= this.peeked.size;
    this.length--;
    this.peeked = undefined;
    this.writeCursor();
  }

  close(): void {
    if (this.writeFd >= 0) closeSync(this.writeFd);
    if (this.readFd >= 0) closeSync(this.readFd);
    this.writeFd = this.readFd = -1;
  }

  private openWriteSegment(n: number): void {
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeSeg = n;
    this.writeFd = openSync(join(this.dir, segmentName(n)), 'a');
    this.writeSize = 0;
    this.segments.push(n);
  }

  private readFdFor(seg: number): number {
    if (this.readFdSeg !== seg) {
      if (this.readFd >= 0) closeSync(this.readFd);
      this.readFd = openSync(join(this.dir, segmentName(seg)), 'r');
      this.readFdSeg = seg;
    }
    return this.readFd;
  }

  /** Deletes a fully read (or dropped) segment and moves the read position to the next one. */
  private finishSegment(seg: number): void {
    if (this.readFdSeg === seg) {
      closeSync(this.readFd);
      this.readFd = -1;
      this.readFdSeg = -1;
    }
    rmSync(join(this.dir, segmentName(seg)), { force: true });
    this.segments.shift();
    this.readOffset = 0;
    this.peeked = undefined;
    this.writeCursor();
  }

  private dropOldestSegment(): void {
    const seg = this.segments[0];
    const size = seg === this.writeSeg ? this.writeSize : statSync(join(this.dir, segmentName(seg))).size;
    const remaining = size - this.readOffset;
    const records = this.countRecords(seg, this.readOffset, size);
    this.length = Math.max(0, this.length - records);
    this.onDrop('overflow', records, remaining);
    this.bytes -= remaining;
    this.finishSegment(seg);
  }

  private countRecords(seg: number, from: number, end: number): number {
    const fd = this.readFdFor(seg);
    const header = Buffer.alloc(4);
    let n = 0;
    for (let at = from; at + HEADER <= end; n++) {
      readSync(fd, header, 0, 4, at);
      at += HEADER + header.readUInt32LE(0);
    }
    return n;
  }

  private readCursor(): { segment: number; offset: number } | undefined {
    const file = join(this.dir, 'cursor');
    if (!existsSync(file)) return undefined;
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as { segment?: unknown; offset?: unknown };
      return Number.isInteger(c.segment) && Number.isInteger(c.offset) ? { segment: c.segment as number, offset: c.offset as number } : undefined;
    } catch {
      return undefined;
    }
  }

  private writeCursor(): void {
    const file = join(this.dir, 'cursor');
    writeFileSync(`${file}.tmp`, JSON.stringify({ segment: this.segments[0] ?? this.writeSeg, offset: this.readOffset }));
    renameSync(`${file}.tmp`, file);
  }
}
