/**
 * This member's runtime registry ids (local, assigned in arrival order) next to the group's ids:
 * typed arrays indexed by local id, so the hot paths do no Map lookup per sample.
 */
import type { SeriesRegistry } from '@sextant/runtime';
import { partitionOf } from './partition-of.js';

export class LocalSeriesMap {
  /** Local id -> partition (-1: not computed yet). */
  private partition = new Int16Array(1024).fill(-1);
  /** Local id -> index inside its partition (-1: not interned in the group yet). */
  private index = new Int32Array(1024).fill(-1);

  constructor(
    readonly registry: SeriesRegistry,
    readonly partitions: number,
  ) {}

  private grow(id: number): void {
    if (id < this.partition.length) return;
    let cap = this.partition.length;
    while (cap <= id) cap *= 2;
    const p = new Int16Array(cap).fill(-1);
    p.set(this.partition);
    const x = new Int32Array(cap).fill(-1);
    x.set(this.index);
    this.partition = p;
    this.index = x;
  }

  /** Partition of a local series id (the registry must know the id). */
  partitionOf(local: number): number {
    if (local < this.partition.length && this.partition[local] >= 0) return this.partition[local];
    this.grow(local);
    const d = this.registry.describe(local);
    const p = d ? partitionOf(d, this.partitions) : 0;
    this.partition[local] = p;
    return p;
  }

  indexOf(local: number): number {
    return local < this.index.length ? this.index[local] : -1;
  }

  setIndex(local: number, index: number): void {
    this.grow(local);
    this.index[local] = index;
  }

  /** Forgets every group index (the store lost its registry): series are interned again on their next sample. */
  resetIndices(): void {
    this.index.fill(-1);
  }

  /** Group-wide id of a local id, or -1. */
  groupId(local: number): number {
    const i = this.indexOf(local);
    return i < 0 ? -1 : i * this.partitions + this.partitionOf(local);
  }
}
