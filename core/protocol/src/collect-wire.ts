/**
 * The child's encoder for Collect stream messages (CollectResponse), used as the gRPC response
 * serializer of `Collect` instead of the generated one.
 *
 * Why: the generated path copies a message's sample columns four times (into a growing
 * BinaryWriter buffer, its doublings, finish()'s slice, then Buffer.from()); a plugin child
 * streaming millions of samples turns that into tens of MiB of short-lived ArrayBuffers, which
 * V8 frees only when a full GC runs. Here the columns are copied once, straight into the output.
 * The other fields (series definitions, status, logs, ...) are small and go through the generated
 * encoder. Protobuf readers accept fields in any order, so the samples field comes first.
 */
import { CollectResponse } from './gen/sextant/plugin/v1/plugin.js';

/** Tag of CollectResponse.samples (field 2, length-delimited). */
const SAMPLES_TAG = (2 << 3) | 2;
/** Tags of SampleColumns: count (1, varint), series (2), timestamps (3), values (4) (bytes). */
const COUNT_TAG = 1 << 3;
const SERIES_TAG = (2 << 3) | 2;
const TIMESTAMPS_TAG = (3 << 3) | 2;
const VALUES_TAG = (4 << 3) | 2;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

function writeBytes(out: Buffer, pos: number, tag: number, bytes: Uint8Array): number {
  out[pos++] = tag;
  pos = writeVarint(out, pos, bytes.byteLength);
  out.set(bytes, pos);
  return pos + bytes.byteLength;
}

/**
 * One reused output buffer (up to 1 MiB; larger messages get their own): grpc-js copies what the
 * serializer returns into its frame at once (server-interceptors serializeMessage) and keeps
 * nothing, so a fresh allocation per message would only add to the malloc churn that fragments
 * the child's heap. The result of {@link encodeCollectResponse} is valid until its next call.
 */
let scratch = Buffer.allocUnsafeSlow(0);
const SCRATCH_MAX = 1 << 20;
function scratchBuffer(size: number): Buffer {
  if (size > SCRATCH_MAX) return Buffer.allocUnsafe(size);
  if (scratch.byteLength < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, Math.min(SCRATCH_MAX, scratch.byteLength * 2)));
  return scratch.subarray(0, size);
}

/**
 * Encodes a CollectResponse so that the generated decoder reads back exactly the message given.
 * The bytes are valid until the next call (copy them to keep them).
 */
export function encodeCollectResponse(message: CollectResponse): Buffer {
  const samples = message.samples;
  if (!samples) {
    const bytes = CollectResponse.encode(message).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const rest =
    message.series.length || message.status.length || message.logs.length || message.metrics.length || message.completesRound || message.roundError || message.droppedMessages || message.events.length || message.topology.length
      ? CollectResponse.encode({ ...message, samples: undefined }).finish()
      : undefined;
  const { count, series, timestamps, values } = samples;
  const field = (bytes: Uint8Array) => (bytes.byteLength ? 1 + varintSize(bytes.byteLength) + bytes.byteLength : 0);
  const body = (count ? 1 + varintSize(count) : 0) + field(series) + field(timestamps) + field(values);
  const out = scratchBuffer(1 + varintSize(body) + body + (rest?.byteLength ?? 0));
  out[0] = SAMPLES_TAG;
  let pos = writeVarint(out, 1, body);
  if (count) {
    out[pos++] = COUNT_TAG;
    pos = writeVarint(out, pos, count);
  }
  if (series.byteLength) pos = writeBytes(out, pos, SERIES_TAG, series);
  if (timestamps.byteLength) pos = writeBytes(out, pos, TIMESTAMPS_TAG, timestamps);
  if (values.byteLength) pos = writeBytes(out, pos, VALUES_TAG, values);
  if (rest) out.set(rest, pos);
  return out;
}
