/**
 * Parser for /proc/mounts (fstab(5) format): `device mountpoint fstype options dump pass`.
 * Spaces, tabs, newlines and backslashes in paths are written as octal escapes (`\040`).
 */
import { splitFields } from './kernel-numbers.js';
import { parseFailure, parsed, quoteLine, type ParseResult } from './parse-result.js';

export interface MountEntry {
  readonly device: string;
  /** Absolute path, escapes decoded. */
  readonly mountpoint: string;
  readonly fsType: string;
  /** True when mounted read-only (`ro` in the options). */
  readonly readOnly: boolean;
}

function decodeOctalEscapes(field: string): string {
  return field.includes('\\') ? field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))) : field;
}

/**
 * Parses /proc/mounts. Fails on a line with fewer than 3 fields or a mountpoint that is not an
 * absolute path. A mountpoint listed twice (bind mounts, stacked mounts) is kept once: the last
 * entry, which is the mount visible at that path.
 */
export function parseMounts(text: string): ParseResult<MountEntry[]> {
  const byMountpoint = new Map<string, MountEntry>();
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    const fields = splitFields(line);
    if (fields.length < 3) return parseFailure(`line ${lineNumber} ${quoteLine(line)}: expected "<device> <mountpoint> <type> <options> ..."`);
    const mountpoint = decodeOctalEscapes(fields[1]);
    if (!mountpoint.startsWith('/')) return parseFailure(`line ${lineNumber} ${quoteLine(line)}: mountpoint is not an absolute path`);
    const options = fields[3] ?? '';
    byMountpoint.delete(mountpoint);
    byMountpoint.set(mountpoint, {
      device: decodeOctalEscapes(fields[0]),
      mountpoint,
      fsType: fields[2],
      readOnly: options === 'ro' || options.startsWith('ro,'),
    });
  }
  return parsed([...byMountpoint.values()]);
}
