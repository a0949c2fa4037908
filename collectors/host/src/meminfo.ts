/** Parser for /proc/meminfo (proc(5)): `Key:   value kB` lines. */
import { parseKernelUnsigned, splitFields } from './kernel-numbers.js';
import { parseFailure, parsed, quoteLine, type ParseResult } from './parse-result.js';

/** The /proc/meminfo values the collector uses, in bytes. */
export interface Meminfo {
  readonly memTotal: number;
  readonly memFree: number;
  /** Kernel's estimate of memory available without swapping; NaN before Linux 3.14. */
  readonly memAvailable: number;
  readonly buffers: number;
  /** Page cache (`Cached`). */
  readonly cached: number;
  /** Reclaimable slab (`SReclaimable`); 0 when the kernel does not report it. */
  readonly sReclaimable: number;
  readonly swapTotal: number;
  readonly swapFree: number;
}

const REQUIRED = ['MemTotal', 'MemFree', 'Buffers', 'Cached', 'SwapTotal', 'SwapFree'] as const;
const OPTIONAL = ['MemAvailable', 'SReclaimable'] as const;
type Key = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];
const WANTED: ReadonlySet<string> = new Set<string>([...REQUIRED, ...OPTIONAL]);

/**
 * Parses /proc/meminfo. Only the keys listed in {@link Meminfo} are read (others may hold any
 * text); each must be `<unsigned integer> kB`. Fails when a required key is missing or malformed,
 * when MemTotal is 0, or when the numbers contradict each other (free above total), because
 * utilisation computed from them would be silently wrong.
 */
export function parseMeminfo(text: string): ParseResult<Meminfo> {
  const values = new Map<Key, number>();
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      if (line.trim() === '') continue;
      return parseFailure(`line ${lineNumber} ${quoteLine(line)}: not a "Key: value" line`);
    }
    const key = line.slice(0, colon);
    if (!WANTED.has(key)) continue;
    const fields = splitFields(line.slice(colon + 1));
    const value = fields.length >= 1 && fields.length <= 2 ? parseKernelUnsigned(fields[0]) : -1;
    const unit = fields[1];
    if (value < 0 || (unit !== undefined && unit !== 'kB')) {
      return parseFailure(`line ${lineNumber} ${quoteLine(line)}: expected "${key}: <unsigned integer> kB"`);
    }
    values.set(key as Key, unit === 'kB' ? value * 1024 : value);
  }
  const missing = REQUIRED.filter((key) => !values.has(key));
  if (missing.length > 0) return parseFailure(`missing ${missing.join(', ')} (truncated file?)`);
  const info: Meminfo = {
    memTotal: values.get('MemTotal')!,
    memFree: values.get('MemFree')!,
    memAvailable: values.get('MemAvailable') ?? Number.NaN,
    buffers: values.get('Buffers')!,
    cached: values.get('Cached')!,
    sReclaimable: values.get('SReclaimable') ?? 0,
    swapTotal: values.get('SwapTotal')!,
    swapFree: values.get('SwapFree')!,
  };
  if (info.memTotal === 0) return parseFailure('MemTotal is 0');
  if (info.memFree > info.memTotal) return parseFailure(`MemFree (${info.memFree} B) exceeds MemTotal (${info.memTotal} B)`);
  if (info.memAvailable > info.memTotal) return parseFailure(`MemAvailable (${info.memAvailable} B) exceeds MemTotal (${info.memTotal} B)`);
  if (info.swapFree > info.swapTotal) return parseFailure(`SwapFree (${info.swapFree} B) exceeds SwapTotal (${info.swapTotal} B)`);
  return parsed(info);
}
