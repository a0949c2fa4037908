/**
 * The samples of one stream entry: `n` samples as three little-endian columns, timestamps (f64,
 * ms), values (f64), then series (u32, the index inside the partition, see ClusterKeys). 20 bytes
 * per sample; decoded into typed arrays without a per-sample object.
 */
export interface EntrySamples {
  readonly length: number;
  readonly series: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export function encodeSamples(series: Uint32Array, timestamps: Float64Array, values: Float64Array, n: number): Buffer {
  const buf = new ArrayBuffer(n * 20);
  new Float64Array(buf, 0, n).set(timestamps.subarray(0, n));
  new Float64Array(buf, n * 8, n).set(values.subarray(0, n));
  new Uint32Array(buf, n * 16, n).set(series.subarray(0, n));
  return Buffer.from(buf);
}

/** Returns undefined for a payload that is not a whole number of samples (reported by the caller). */
export function decodeSamples(payload: Buffer): EntrySamples | undefined {
  if (payload.byteLength % 20 !== 0) return undefined;
  const n = payload.byteLength / 20;
  // Copy into an aligned buffer: a Buffer's offset in its pool is not 8-byte aligned.
  const buf = new ArrayBuffer(payload.byteLength);
  new Uint8Array(buf).set(payload);
  return { length: n, timestamps: new Float64Array(buf, 0, n), values: new Float64Array(buf, n * 8, n), series: new Uint32Array(buf, n * 16, n) };
}

/** Stream ids `<ms>-<seq>` compared as numbers; `0-0` is before everything. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  const d = Number(am) - Number(bm);
  if (d !== 0) return d < 0 ? -1 : 1;
  const e = Number(as ?? 0) - Number(bs ?? 0);
  return e < 0 ? -1 : e > 0 ? 1 : 0;
}
