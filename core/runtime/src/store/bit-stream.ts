/**
 * A bit-granular cursor over a byte array, most significant bit first, for the compressed chunks of
 * the sample store (chunk-codec.ts). One cursor either writes or reads; `reset` points it at other
 * bytes. Writing overwrites whole bytes as it goes (no zeroing needed beforehand) and never grows
 * the array: the caller sizes it for the worst case.
 *
 * Widths: `write`/`read` take 0..32 bits (unsigned 32-bit values); `writeNumber`/`readNumber` take
 * 0..53 bits of a non-negative integer double (JavaScript bit operators stop at 32 bits).
 */
const TWO_32 = 4294967296;

export class BitStream {
  /** Position in bits from the start of `bytes`. */
  position = 0;

  constructor(public bytes: Uint8Array) {}

  /** Points the cursor at `bytes`, `bitOffset` bits in. */
  reset(bytes: Uint8Array, bitOffset = 0): this {
    this.bytes = bytes;
    this.position = bitOffset;
    return this;
  }

  /** Bytes touched so far (the last one possibly partly). */
  get byteLength(): number {
    return (this.position + 7) >>> 3;
  }

  /** Writes the low `n` bits of `value` (0 <= n <= 32). */
  write(value: number, n: number): void {
    const bytes = this.bytes;
    let pos = this.position;
    while (n > 0) {
      const i = pos >>> 3;
      const used = pos & 7;
      const free = 8 - used;
      const take = n < free ? n : free;
      const bits = (value >>> (n - take)) & ((1 << take) - 1);
      const shifted = bits << (free - take);
      // keep the bits before the cursor, clear those after it (a rewrite may leave old ones there)
      bytes[i] = used === 0 ? shifted : (bytes[i] & (0xff << free)) | shifted;
      pos += take;
      n -= take;
    }
    this.position = pos;
  }

  /** Reads `n` bits (0 <= n <= 32) as an unsigned number. */
  read(n: number): number {
    const bytes = this.bytes;
    let pos = this.position;
    let out = 0;
    while (n > 0) {
      const used = pos & 7;
      const free = 8 - used;
      const take = n < free ? n : free;
      const bits = (bytes[pos >>> 3] >>> (free - take)) & ((1 << take) - 1);
      out = ((out << take) | bits) >>> 0;
      pos += take;
      n -= take;
    }
    this.position = pos;
    return out;
  }

  writeBit(bit: 0 | 1 | boolean): void {
    this.write(bit ? 1 : 0, 1);
  }

  readBit(): number {
    const pos = this.position++;
    return (this.bytes[pos >>> 3] >>> (7 - (pos & 7))) & 1;
  }

  /** Writes a non-negative integer `value < 2^n` in `n` bits, 0 <= n <= 53. */
  writeNumber(value: number, n: number): void {
    if (n <= 32) return this.write(value >>> 0, n);
    this.write(Math.floor(value / TWO_32), n - 32);
    this.write(value % TWO_32 >>> 0, 32);
  }

  readNumber(n: number): number {
    if (n <= 32) return this.read(n);
    const hi = this.read(n - 32);
    return hi * TWO_32 + this.read(32);
  }
}
