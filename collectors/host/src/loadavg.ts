/** Parsers for /proc/loadavg and /proc/uptime (proc(5)). */
import { parseKernelDecimal, parseKernelUnsigned, splitFields } from './kernel-numbers.js';
import { parseFailure, parsed, quoteLine, type ParseResult } from './parse-result.js';

export interface LoadAverage {
  /** Run-queue averages over 1, 5 and 15 minutes (runnable + uninterruptible tasks). */
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  /** Kernel scheduling entities (processes and threads) that exist now. */
  readonly threads: number;
}

/** Parses `0.18 0.48 0.29 2/155 14036`. Fails on fewer than 4 fields or a non-numeric one. */
export function parseLoadavg(text: string): ParseResult<LoadAverage> {
  const line = text.split('\n', 1)[0];
  const fields = splitFields(line);
  if (fields.length < 4) return parseFailure(`${quoteLine(line)}: expected "<1m> <5m> <15m> <running>/<total> <last pid>"`);
  const load1 = parseKernelDecimal(fields[0]);
  const load5 = parseKernelDecimal(fields[1]);
  const load15 = parseKernelDecimal(fields[2]);
  const slash = fields[3].indexOf('/');
  const threads = slash > 0 ? parseKernelUnsigned(fields[3].slice(slash + 1)) : -1;
  if (load1 < 0 || load5 < 0 || load15 < 0 || threads < 0) {
    return parseFailure(`${quoteLine(line)}: expected "<1m> <5m> <15m> <running>/<total> <last pid>"`);
  }
  return parsed({ load1, load5, load15, threads });
}

/** Parses /proc/uptime (`6713.88 12977.05`) into seconds since boot. */
export function parseUptime(text: string): ParseResult<number> {
  const line = text.split('\n', 1)[0];
  const fields = splitFields(line);
  const seconds = fields.length >= 1 ? parseKernelDecimal(fields[0]) : -1;
  if (seconds < 0) return parseFailure(`${quoteLine(line)}: expected "<seconds since boot> <idle seconds>"`);
  return parsed(seconds);
}
