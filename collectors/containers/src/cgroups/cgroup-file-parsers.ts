/**
 * Parsers for the cgroup files the collector reads, v1 and v2. Every parser is total: malformed
 * input returns NaN (never throws), so a bad file costs one reading and a parse-error counter.
 * Values that are negative, not integers, or beyond 64 bits are malformed. A limit of `max` (v2) or a v1 limit at or
 * above 2^62 (the kernel's "unlimited" is 2^63 rounded down to a page) reads as Infinity.
 */

const UNLIMITED_V1 = 2 ** 62;
/** Kernel counters are unsigned 64-bit: anything larger is corruption, not a reading. */
const U64_LIMIT = 2 ** 64;

function toCount(text: string): number {
  if (text.length > 20 || !/^\d+$/.test(text)) return Number.NaN;
  const n = Number(text);
  return n < U64_LIMIT ? n : Number.NaN;
}

/** A file holding one non-negative integer (`cpuacct.usage`, `memory.current`, `pids.current`). */
export function parseSingleCount(text: string): number {
  return toCount(text.trim());
}

/** A v2 limit file (`memory.max`): an integer or `max`. */
export function parseLimitV2(text: string): number {
  const t = text.trim();
  return t === 'max' ? Number.POSITIVE_INFINITY : toCount(t);
}

/** A v1 limit file (`memory.limit_in_bytes`): an integer; huge values mean unlimited. */
export function parseLimitV1(text: string): number {
  const n = toCount(text.trim());
  return n >= UNLIMITED_V1 ? Number.POSITIVE_INFINITY : n;
}

/**
 * The value of `key` in a flat keyed file (`key value` per line: cpu.stat, memory.stat,
 * memory.events, memory.oom_control). NaN when the key is absent or its value malformed.
 */
export function parseKeyedValue(text: string, key: string): number {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (text.startsWith(key, start) && text.charCodeAt(start + key.length) === 32) {
      return toCount(text.slice(start + key.length + 1, end).trim());
    }
    start = end + 1;
  }
  return Number.NaN;
}

/** v2 `cpu.max` (`<quota|max> <period>`) in cores; Infinity when unlimited. */
export function parseCpuMax(text: string): number {
  const [quota, period] = text.trim().split(/\s+/);
  const p = toCount(period ?? '');
  if (!(p > 0)) return Number.NaN;
  if (quota === 'max') return Number.POSITIVE_INFINITY;
  const q = toCount(quota ?? '');
  return q > 0 ? q / p : Number.NaN;
}

/** v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` in cores; Infinity when the quota is -1. */
export function parseCfsQuota(quotaText: string, periodText: string): number {
  const quota = quotaText.trim();
  const p = toCount(periodText.trim());
  if (quota === '-1') return Number.POSITIVE_INFINITY;
  const q = toCount(quota);
  return q > 0 && p > 0 ? q / p : Number.NaN;
}

/**
 * v1 `blkio.throttle.io_service_bytes` (`MAJ:MIN Read N` lines, then `Total N`): bytes read and
 * written summed over devices, written into `out[0]`, `out[1]`. Returns false when malformed.
 * An empty file (no I/O yet; `Total 0` only) is zero, not malformed.
 */
export function parseBlkioServiceBytes(text: string, out: Float64Array | number[]): boolean {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const parts = t.split(/\s+/);
    if (parts[0] === 'Total' && parts.length === 2) continue;
    if (parts.length !== 3 || !/^\d+:\d+$/.test(parts[0])) return false;
    const n = toCount(parts[2]);
    if (Number.isNaN(n)) return false;
    if (parts[1] === 'Read') read += n;
    else if (parts[1] === 'Write') write += n;
  }
  out[0] = read;
  out[1] = write;
  return true;
}

/** v2 `io.stat` (`MAJ:MIN rbytes=N wbytes=N ...` lines): bytes read and written into `out`. */
export function parseIoStat(text: string, out: Float64Array | number[]): boolean {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const parts = t.split(/\s+/);
    if (!/^\d+:\d+$/.test(parts[0])) return false;
    for (let i = 1; i < parts.length; i++) {
      const eq = parts[i].indexOf('=');
      if (eq < 0) return false;
      const key = parts[i].slice(0, eq);
      if (key !== 'rbytes' && key !== 'wbytes') continue;
      const n = toCount(parts[i].slice(eq + 1));
      if (Number.isNaN(n)) return false;
      if (key === 'rbytes') read += n;
      else write += n;
    }
  }
  out[0] = read;
  out[1] = write;
  return true;
}
