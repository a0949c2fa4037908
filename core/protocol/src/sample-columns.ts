/**
 * Columnar samples on the wire (SampleColumns in plugin.proto): three little-endian arrays in bytes
 * fields. Writing copies the used part of the typed arrays once; reading gives typed-array views
 * without a per-sample decode (copying only when the receive buffer is not 8-byte aligned).
 */
import { endianness } from 'node:os';
import type { SampleColumns } from './gen/sextant/plugin/v1/plugin.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * Growable column buffers for one stream's pending samples. Capacity doubles; nothing is allocated
 * per sample. `take()` encodes what was written and resets the length.
 */
export class SampleColumnsWriter {
  length = 0;
  private series = new Uint32Array(256);
  private timestamps = new Float64Array(256);
  private values = new Float64Array(256);

  /** `timestamp` NaN means "now on the receiver's clock". */
  push(series: number, timestamp: number, value: number): void {
    if (this.length === this.series.length) this.grow();
    const i = this.length++;
    this.series[i] = series;
    this.timestamps[i] = timestamp;
    this.values[i] = value;
  }

  /** Appends `count` samples from columns (used by the detector proxy). */
  pushBatch(count: number, series: ArrayLike<number>, timestamps: ArrayLike<number>, values: ArrayLike<number>): void {
    while (this.length + count > this.series.length) this.grow();
    this.series.set(series instanceof Uint32Array ? series.subarray(0, count) : Array.from({ length: count }, (_, i) => series[i]), this.length);
    this.timestamps.set(timestamps instanceof Float64Array ? timestamps.subarray(0, count) : Array.from({ length: count }, (_, i) => timestamps[i]), this.length);
    this.values.set(values instanceof Float64Array ? values.subarray(0, count) : Array.from({ length: count }, (_, i) => values[i]), this.length);
    this.length += count;
  }

  /**
   * Encodes the pending samples (copying them, into one allocation for all three columns) and
   * empties the writer. A writer that grew past {@link SHRINK_ABOVE} samples for one big batch
   * gives that memory back.
   */
  take(): SampleColumns {
    const n = this.length;
    this.length = 0;
    const bytes = Buffer.allocUnsafe(n * 20);
    const timestamps = littleEndianCopy(this.timestamps, n, bytes.subarray(0, n * 8));
    const values = littleEndianCopy(this.values, n, bytes.subarray(n * 8, n * 16));
    const series = littleEndianCopy(this.series, n, bytes.subarray(n * 16, n * 20));
    if (this.series.length > SHRINK_ABOVE) this.reset();
    return { count: n, series, timestamps, values };
  }

  private reset(): void {
    this.series = new Uint32Array(256);
    this.timestamps = new Float64Array(256);
    this.values = new Float64Array(256);
  }

  private grow(): void {
    const size = this.series.length * 2;
    const s = new Uint32Array(size);
    s.set(this.series);
    const t = new Float64Array(size);
    t.set(this.timestamps);
    const v = new Float64Array(size);
    v.set(this.values);
    this.series = s;
    this.timestamps = t;
    this.values = v;
  }
}

/** Capacity (samples) above which a writer drops its buffers after take(): 64k x 20 B = 1.25 MiB. */
const SHRINK_ABOVE = 65_536;

function littleEndianCopy(array: Uint32Array | Float64Array, count: number, into: Buffer): Buffer {
  into.set(new Uint8Array(array.buffer, array.byteOffset, count * array.BYTES_PER_ELEMENT));
  if (!LITTLE_ENDIAN_HOST) array instanceof Uint32Array ? into.swap32() : into.swap64();
  return into;
}

/** Decoded columns; arrays have at least `length` entries. */
export interface DecodedColumns {
  readonly length: number;
  readonly series: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/**
 * Decodes SampleColumns. Returns undefined (the caller counts it) when the byte lengths do not
 * match `count` — a malformed or truncated message must never be read past its end.
 */
export function readSampleColumns(columns: SampleColumns | undefined): DecodedColumns | undefined {
  if (!columns || columns.count === 0) return { length: 0, series: new Uint32Array(0), timestamps: new Float64Array(0), values: new Float64Array(0) };
  const n = columns.count;
  if (columns.series.length !== n * 4 || columns.timestamps.length !== n * 8 || columns.values.length !== n * 8) return undefined;
  return {
    length: n,
    series: view(columns.series, Uint32Array, 4, n),
    timestamps: view(columns.timestamps, Float64Array, 8, n),
    values: view(columns.values, Float64Array, 8, n),
  };
}

function view<T extends Uint32Array | Float64Array>(bytes: Uint8Array, Type: { new (buffer: ArrayBufferLike, offset: number, length: number): T; new (length: number): T }, width: number, n: number): T {
  let out: T;
  if (bytes.byteOffset % width === 0) {
    out = new Type(bytes.buffer, bytes.byteOffset, n);
  } else {
    out = new Type(n);
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * width));
  }
  if (!LITTLE_ENDIAN_HOST) {
    const b = Buffer.from(out.buffer, out.byteOffset, n * width);
    width === 4 ? b.swap32() : b.swap64();
  }
  return out;
}
