/**
 * The partition of a series: FNV-1a (32 bit) of its canonical key (metric + sorted resource and
 * point attributes, the runtime's `seriesKey`), modulo the partition count. Stable across
 * processes, machines and restarts; never a process-local id.
 */
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    // UTF-16 code units are hashed as two bytes when above 0xff, so any string hashes the same everywhere.
    if (c > 0xff) {
      h ^= c >>> 8;
      h = Math.imul(h, 0x01000193);
      c &= 0xff;
    }
    h ^= c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function partitionOfKey(key: string, partitions: number): number {
  return fnv1a32(key) % partitions;
}

export function partitionOf(descriptor: Pick<SeriesDescriptor, 'metric' | 'resource' | 'attributes'>, partitions: number): number {
  return partitionOfKey(seriesKey(descriptor), partitions);
}
