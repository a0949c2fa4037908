/**
 * Parser for the pressure stall information files /proc/pressure/{cpu,memory,io} (Linux >= 4.20):
 *
 *   some avg10=0.96 avg60=1.00 avg300=2.70 total=58467543
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 */
import { parseKernelDecimal, parseKernelUnsigned, splitFields } from './kernel-numbers.js';
import { parseFailure, parsed, quoteLine, type ParseResult } from './parse-result.js';

export interface PressureLine {
  /** Share of wall time some (or all, for `full`) tasks were stalled, averaged over 10/60/300 s; 0..1. */
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  /** Cumulative stall time in microseconds. */
  readonly totalMicros: number;
}

export interface Pressure {
  readonly some: PressureLine;
  /** Absent for cpu before Linux 5.13. */
  readonly full: PressureLine | undefined;
}

function parsePressureLine(fields: readonly string[]): PressureLine | undefined {
  let avg10 = -1;
  let avg60 = -1;
  let avg300 = -1;
  let total = -1;
  for (let i = 1; i < fields.length; i++) {
    const eq = fields[i].indexOf('=');
    if (eq <= 0) return undefined;
    const key = fields[i].slice(0, eq);
    const raw = fields[i].slice(eq + 1);
    if (key === 'avg10') avg10 = parseKernelDecimal(raw);
    else if (key === 'avg60') avg60 = parseKernelDecimal(raw);
    else if (key === 'avg300') avg300 = parseKernelDecimal(raw);
    else if (key === 'total') total = parseKernelUnsigned(raw);
  }
  // The averages are percentages; above 100 is corruption.
  if (avg10 < 0 || avg60 < 0 || avg300 < 0 || total < 0 || avg10 > 100 || avg60 > 100 || avg300 > 100) return undefined;
  return { avg10: avg10 / 100, avg60: avg60 / 100, avg300: avg300 / 100, totalMicros: total };
}

/** Parses one pressure file. Fails without a valid `some` line or with a malformed line. */
export function parsePressure(text: string): ParseResult<Pressure> {
  let some: PressureLine | undefined;
  let full: PressureLine | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = splitFields(line);
    const kind = fields[0];
    if (kind !== 'some' && kind !== 'full') return parseFailure(`${quoteLine(line)}: expected a "some" or "full" line`);
    const parsedLine = parsePressureLine(fields);
    if (!parsedLine) return parseFailure(`${quoteLine(line)}: expected "${kind} avg10=<%> avg60=<%> avg300=<%> total=<us>"`);
    if (kind === 'some') some = parsedLine;
    else full = parsedLine;
  }
  if (!some) return parseFailure('no "some" line (empty or truncated file?)');
  return parsed({ some, full });
}
