/**
 * Parser for /proc/net/dev: two header lines, then one line per interface:
 *
 *     eth0: 402578776 14668 0 0 0 0 0 0   993837 8168 0 0 0 0 0 0
 *
 * 8 receive columns (bytes packets errs drop fifo frame compressed multicast) then 8 transmit
 * columns (bytes packets errs drop fifo colls carrier compressed), all 64-bit counters. Old
 * kernels print no space after the colon when the first number is wide (`eth0:4025787760`).
 */
import { DeviceCounterTable } from './device-counter-table.js';
import { parseKernelUnsigned, splitFields } from './kernel-numbers.js';
import { parseFailure, parsed, quoteLine, type ParseResult } from './parse-result.js';

/** Column indexes in a {@link DeviceCounterTable} filled by {@link parseNetDev}. */
export const NET = {
  rxBytes: 0,
  rxPackets: 1,
  rxErrors: 2,
  rxDropped: 3,
  txBytes: 8,
  txPackets: 9,
  txErrors: 10,
  txDropped: 11,
} as const;

export const NET_COLUMNS = 16;

export function createNetDevTable(): DeviceCounterTable {
  return new DeviceCounterTable(NET_COLUMNS);
}

/**
 * Parses /proc/net/dev into `into` (reused between rounds). Header lines (containing `|`) are
 * skipped. Fails on an interface line without a colon, with fewer than 16 columns, or with a
 * non-numeric column; extra numeric columns are ignored.
 */
export function parseNetDev(text: string, into: DeviceCounterTable = createNetDevTable()): ParseResult<DeviceCounterTable> {
  into.reset();
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '' || line.includes('|')) continue;
    // Numbers never contain a colon, so the last one ends the interface name.
    const colon = line.lastIndexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (name === '') return parseFailure(`line ${lineNumber} ${quoteLine(line)}: expected "<interface>: <16 counters>"`);
    const fields = splitFields(line.slice(colon + 1));
    if (fields.length < NET_COLUMNS) {
      return parseFailure(`line ${lineNumber} ${quoteLine(line)}: ${fields.length} counters, expected ${NET_COLUMNS} (truncated?)`);
    }
    const offset = into.addRow(name);
    for (let i = 0; i < fields.length; i++) {
      const value = parseKernelUnsigned(fields[i]);
      if (value < 0) return parseFailure(`line ${lineNumber} ${quoteLine(line)}: counter ${i + 1} (${JSON.stringify(fields[i])}) is not an unsigned integer`);
      if (i < NET_COLUMNS) into.values[offset + i] = value;
    }
  }
  return parsed(into);
}
