/**
 * JSON for the `*_json` fields of sextant.plugin.v1. Plain JSON turns NaN and Infinity into null,
 * which would corrupt anomalies (`expected: NaN` means "no expectation"); here non-finite numbers
 * travel as `{"$num":"NaN"}`, `{"$num":"Infinity"}`, `{"$num":"-Infinity"}`.
 */
export function toWireJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v));
}

/** Parses a `*_json` field; the empty string reads as undefined. Throws SyntaxError on bad JSON. */
export function fromWireJson<T = unknown>(text: string): T {
  if (text === '') return undefined as T;
  return JSON.parse(text, (_key, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.$num === 'string' && Object.keys(v).length === 1) {
      return Number(v.$num);
    }
    return v;
  }) as T;
}
