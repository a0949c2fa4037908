/**
 * The free-form JSON text fields of sextant.plugin.v1 (`config_json`, `defaults_json`,
 * `fields_json`): plain JSON (RFC 8259). Structured data (events, anomalies, incidents, ...) are
 * protobuf messages of sextant.common.v1 instead.
 */
export function toJsonText(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value);
}

/** Parses a JSON text field; the empty string reads as undefined. Throws SyntaxError on bad JSON. */
export function fromJsonText<T = unknown>(text: string): T {
  if (text === '') return undefined as T;
  return JSON.parse(text) as T;
}
