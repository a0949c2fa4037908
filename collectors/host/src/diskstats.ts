/**
 * Parser for /proc/diskstats (Documentation/admin-guide/iostats.rst):
 *
 *   254  0 vda 107978 14876 3290290 30748 35089 35604 3492520 14963 0 17108 49417 [discards...] [flushes...]
 *
 * Kernels print 14 fields (before 4.18), 18 (discards, 4.18+) or 20 (flushes, 5.5+); the first
 * 11 statistics are read.
 */
import { DeviceCounterTable } from './device-counter-table.js';
import { parseKernelUnsigned, splitFields } from './kernel-numbers.js';
import { parseFailure, parsed, quoteLine, type ParseResult } from './parse-result.js';

/** Column indexes in a {@link DeviceCounterTable} filled by {@link parseDiskstats}. */
export const DISK = {
  readsCompleted: 0,
  readsMerged: 1,
  /** 512-byte sectors, whatever the device's real sector size. */
  sectorsRead: 2,
  /** Milliseconds spent reading; printed as `%u`, so it wraps at 2^32 on every kernel. */
  msReading: 3,
  writesCompleted: 4,
  writesMerged: 5,
  sectorsWritten: 6,
  msWriting: 7,
  /** I/Os in flight now: a gauge, not a counter. */
  inFlight: 8,
  /** Milliseconds the device had I/O in flight (busy time); `%u`. */
  msDoingIo: 9,
  /** Weighted milliseconds doing I/O (busy time x queue depth); `%u`. */
  msWeighted: 10,
} as const;

export const DISK_COLUMNS = 11;
/** Bytes per diskstats sector: always 512, independent of the hardware sector size. */
export const DISKSTATS_SECTOR_BYTES = 512;

export function createDiskstatsTable(): DeviceCounterTable {
  return new DeviceCounterTable(DISK_COLUMNS);
}

/**
 * Parses /proc/diskstats into `into` (reused between rounds). Fails on a line with fewer than 14
 * fields or any non-numeric statistic, including ones beyond the 11 read: a corrupt line is not
 * trusted in part.
 */
export function parseDiskstats(text: string, into: DeviceCounterTable = createDiskstatsTable()): ParseResult<DeviceCounterTable> {
  into.reset();
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    const fields = splitFields(line);
    if (fields.length < 3 + DISK_COLUMNS) {
      return parseFailure(`line ${lineNumber} ${quoteLine(line)}: ${fields.length} fields, expected at least ${3 + DISK_COLUMNS} (truncated?)`);
    }
    if (parseKernelUnsigned(fields[0]) < 0 || parseKernelUnsigned(fields[1]) < 0) {
      return parseFailure(`line ${lineNumber} ${quoteLine(line)}: major/minor numbers are not unsigned integers`);
    }
    const offset = into.addRow(fields[2]);
    for (let i = 3; i < fields.length; i++) {
      const value = parseKernelUnsigned(fields[i]);
      if (value < 0) return parseFailure(`line ${lineNumber} ${quoteLine(line)}: field ${i + 1} (${JSON.stringify(fields[i])}) is not an unsigned integer`);
      if (i - 3 < DISK_COLUMNS) into.values[offset + i - 3] = value;
    }
  }
  return parsed(into);
}
