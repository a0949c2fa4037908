/**
 * Encodes remote-write 1.0 `WriteRequest` messages (see proto/remote-write.proto).
 *
 * A request is a list of TimeSeries; this encoder writes one TimeSeries per sample, each carrying
 * its series' label block, which is encoded once per series and signal (with BinaryWriter) and
 * then copied as raw bytes. Receivers (Prometheus, VictoriaMetrics, Mimir, Thanos) append samples of equal label sets
 * in the order they arrive, so nothing needs grouping. Call `add` for each sample, `finish` for
 * the bytes of the request.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/** Encodes the repeated `labels` field of a TimeSeries: pairs must be sorted by name. */
export function encodeLabels(labels: readonly (readonly [string, string])[]): Uint8Array {
  const w = new BinaryWriter();
  for (const [name, value] of labels) {
    w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(name).tag(2, WireType.LengthDelimited).string(value).join();
  }
  return w.finish();
}

/** Bytes of `n` as a protobuf varint (0 <= n < 2^53). */
function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 0x800000000) return 5;
  if (n < 0x40000000000) return 6;
  if (n < 0x2000000000000) return 7;
  return 8;
}

/**
 * The per-sample envelope (TimeSeries { labels = <cached block>, samples = Sample { value, timestamp } })
 * is three fixed fields, written directly into one growable buffer: BinaryWriter's fork/join per
 * sample cost about as much as the rest of the path together. Label blocks, the variable part,
 * come from {@link encodeLabels}.
 */
export class WriteRequestEncoder {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private at = 0;
  /** Samples added since the last finish(). */
  samples = 0;

  /** Adds one sample of the series whose encoded label block is `labels`. `timestampMs` is rounded; negative ones are sent as 0. */
  add(labels: Uint8Array, value: number, timestampMs: number): void {
    const ts = Math.max(0, Math.round(timestampMs));
    const tsSize = varintSize(ts);
    const sampleSize = 1 + 8 + 1 + tsSize; // 0x09 double, 0x10 varint
    const seriesSize = labels.byteLength + 1 + varintSize(sampleSize) + sampleSize; // labels, 0x12 len Sample
    this.reserve(1 + varintSize(seriesSize) + seriesSize);
    const b = this.buf;
    b[this.at++] = 0x0a; // WriteRequest.timeseries (1, length-delimited)
    this.varint(seriesSize);
    b.set(labels, this.at);
    this.at += labels.byteLength;
    b[this.at++] = 0x12; // TimeSeries.samples (2, length-delimited)
    this.varint(sampleSize);
    b[this.at++] = 0x09; // Sample.value (1, 64-bit)
    this.view.setFloat64(this.at, value, true);
    this.at += 8;
    b[this.at++] = 0x10; // Sample.timestamp (2, varint)
    this.varint(ts);
    this.samples++;
  }

  /** The encoded WriteRequest (a copy); the encoder is empty again afterwards. */
  finish(): Uint8Array {
    return this.drain((bytes) => bytes.slice());
  }

  /**
   * Hands the encoded WriteRequest to `use` without copying it (the view is valid only during the
   * call: compress it there) and empties the encoder. Saves a copy of the whole request per send.
   */
  drain<T>(use: (request: Uint8Array) => T): T {
    const out = use(this.buf.subarray(0, this.at));
    this.at = 0;
    this.samples = 0;
    return out;
  }

  private varint(n: number): void {
    const b = this.buf;
    // above 2^31 bit operators would wrap; `n & 0x7f` is still the low 7 bits (2^32 is a multiple of 128)
    while (n > 0x7fffffff) {
      const low = n & 0x7f;
      b[this.at++] = low | 0x80;
      n = (n - low) / 128;
    }
    while (n >= 0x80) {
      b[this.at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[this.at++] = n;
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.at + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
