/**
 * A decoder for the OTLP requests under test, independent of the encoder: protobufjs parses this
 * package's own minimal schema of the OTLP messages (field numbers from the published OTLP
 * protocol; only the fields the tests read).
 */
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto3";
package t;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Scope { string name = 1; string version = 2; }
message LogRecord {
  fixed64 time_unix_nano = 1; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5;
  repeated KeyValue attributes = 6; fixed64 observed_time_unix_nano = 11; string event_name = 12;
}
message ScopeLogs { Scope scope = 1; repeated LogRecord log_records = 2; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message PartialSuccess { int64 rejected = 1; string error_message = 2; }
message ExportResponse { PartialSuccess partial_success = 1; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const LogsRequest = root.lookupType('t.ExportLogsServiceRequest');
const Response = root.lookupType('t.ExportResponse');

type Value = string | number | boolean;
export interface DecodedLogRecord {
  resource: Record<string, Value>;
  scope: string;
  timeNano: bigint;
  observedTimeNano: bigint;
  severityNumber: number;
  severityText: string;
  body: string;
  eventName: string;
  attributes: Record<string, Value>;
}

interface RawAny { string_value?: string; bool_value?: boolean; int_value?: { toString(): string }; double_value?: number }
function anyValue(v: RawAny | undefined): Value {
  if (!v) return '';
  if (v.string_value !== undefined) return v.string_value;
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.int_value !== undefined) return Number(v.int_value.toString());
  return v.double_value ?? NaN;
}
function attrs(list: { key: string; value?: RawAny }[] | undefined): Record<string, Value> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

export function decodeLogsRequest(bytes: Uint8Array): DecodedLogRecord[] {
  const msg = LogsRequest.toObject(LogsRequest.decode(bytes), { longs: String, oneofs: false }) as {
    resource_logs?: { resource?: { attributes?: { key: string; value?: RawAny }[] }; scope_logs?: { scope?: { name: string }; log_records?: Record<string, unknown>[] }[] }[];
  };
  const out: DecodedLogRecord[] = [];
  for (const rl of msg.resource_logs ?? []) {
    for (const sl of rl.scope_logs ?? []) {
      for (const r of sl.log_records ?? []) {
        out.push({
          resource: attrs(rl.resource?.attributes),
          scope: sl.scope?.name ?? '',
          timeNano: BigInt((r.time_unix_nano as string) ?? '0'),
          observedTimeNano: BigInt((r.observed_time_unix_nano as string) ?? '0'),
          severityNumber: (r.severity_number as number) ?? 0,
          severityText: (r.severity_text as string) ?? '',
          body: String(anyValue(r.body as RawAny)),
          eventName: (r.event_name as string) ?? '',
          attributes: attrs(r.attributes as { key: string; value?: RawAny }[]),
        });
      }
    }
  }
  return out;
}

/** An Export*ServiceResponse, optionally with a partial_success. */
export function encodeResponse(partial?: { rejected: number; message: string }): Uint8Array {
  return Response.encode(Response.create(partial ? { partial_success: { rejected: partial.rejected, error_message: partial.message } } : {})).finish();
}
