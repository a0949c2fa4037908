/** Plain-text tables for people: columns padded to the widest cell, no colours when not a TTY. */
export function renderTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** Formats a number for a person: 3 significant digits, SI suffixes for large values. */
export function humanNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 1e12) return `${(v / 1e12).toPrecision(3)}T`;
  if (abs >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (abs === 0 || Number.isInteger(v)) return String(v);
  return v.toPrecision(3);
}
