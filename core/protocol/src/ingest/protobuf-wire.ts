/**
 * A minimal protobuf wire-format reader and writer for the ingest hot path and the OTLP receiver.
 *
 * Why hand-written: the sample columns are packed fixed-width fields, i.e. little-endian arrays
 * on the wire; reading them with a generic decoder costs one call per sample, reading them here
 * is one memcpy per column. The OTLP receiver needs a decoder for messages no installed package
 * can decode (see README: field numbers come from the OTLP specification).
 *
 * Invariants: the reader never reads past `end`; every malformed input (truncated varint, length
 * past the end, unknown wire type) throws {@link WireFormatError}, never returns garbage.
 */

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

const TWO_POW_32 = 4294967296;

export class ProtoReader {
  pos: number;
  readonly end: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a tag; returns field number * 8 + wire type (the raw tag). */
  tag(): number {
    return this.varint32();
  }

  /** Unsigned varint of up to 32 bits (larger values are truncated to their low 32 bits). */
  varint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 63) throw new WireFormatError('varint longer than 10 bytes');
    }
  }

  /** Unsigned varint up to 2^64 as a number (exact up to 2^53). */
  varint64(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if ((b & 0x80) === 0) return (hi >>> 0) * TWO_POW_32 + (lo >>> 0);
      shift += 7;
      if (shift > 63) throw new WireFormatError('varint longer than 10 bytes');
    }
  }

  /** Signed int64 varint (two's complement) as a number. */
  int64(): number {
    const v = this.varint64();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  /** Zig-zag signed varint (sint32/sint64). */
  sint(): number {
    const v = this.varint64();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  bool(): boolean {
    return this.varint64() !== 0;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new WireFormatError(`field needs ${n} bytes, ${this.end - this.pos} left`);
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** fixed64 as a number (exact up to 2^53). */
  fixed64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  /** sfixed64 as a number (exact up to ±2^53). */
  sfixed64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getInt32(this.pos + 4, true);
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  /** Reads a length prefix and returns [start, end) of the payload, advancing past it. */
  lengthDelimited(): [number, number] {
    const len = this.varint32();
    const start = this.pos;
    if (start + len > this.end) throw new WireFormatError(`length ${len} runs past the end of the message`);
    this.pos = start + len;
    return [start, start + len];
  }

  /** A sub-reader over the next length-delimited field. */
  sub(): ProtoReader {
    const [start, end] = this.lengthDelimited();
    return new ProtoReader(this.buf, start, end);
  }

  /** A length-delimited payload as a copy (an embedded message to decode later). */
  bytesCopy(): Uint8Array {
    const [start, end] = this.lengthDelimited();
    return this.buf.slice(start, end);
  }

  string(): string {
    const [start, end] = this.lengthDelimited();
    return textDecoder.decode(this.buf.subarray(start, end));
  }

  /** Skips a field of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.varint64();
        return;
      case WireType.I64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LEN:
        this.lengthDelimited();
        return;
      case WireType.I32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
  }
}

const textDecoder = new TextDecoder('utf-8');
const textEncoder = new TextEncoder();

/**
 * Growable protobuf writer. Length-delimited submessages are written with {@link fork}/{@link join}:
 * a fixed 5-byte varint length slot is reserved and filled in afterwards (a padded varint is valid
 * protobuf), so no second pass and no intermediate buffers.
 */
export class ProtoWriter {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Unsigned varint of a non-negative integer up to 2^53. */
  varint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  string(value: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place.
    this.ensure(5 + value.length * 3);
    const lengthAt = this.pos;
    this.pos += 5;
    const { written } = textEncoder.encodeInto(value, this.buf.subarray(this.pos));
    this.pos += written;
    this.fillLength(lengthAt, written);
  }

  /** Copies raw bytes as the payload of a length-delimited field. */
  bytes(data: Uint8Array): void {
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Reserves a 5-byte length slot; returns its position for {@link join}. */
  fork(): number {
    this.ensure(5);
    const at = this.pos;
    this.pos += 5;
    return at;
  }

  join(lengthAt: number): void {
    this.fillLength(lengthAt, this.pos - lengthAt - 5);
  }

  private fillLength(at: number, length: number): void {
    let v = length;
    for (let i = 0; i < 4; i++) {
      this.buf[at + i] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at + 4] = v & 0x7f;
  }

  /** A copy of what was written, safe to keep after the writer is reused. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
