/**
 * What every /proc parser returns. Parsers never throw, whatever the text (property-tested):
 * a malformed file is a value the collector reports, not an exception.
 */
export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function parsed<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function parseFailure(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}

/** Quotes a line for an error message, shortened so a corrupt file cannot flood the log. */
export function quoteLine(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}...` : line);
}
