/**
 * A bounded, append-only list of records (events, anomalies) that forgets the oldest when full and
 * can be queried by time. Memory is bounded by `capacity`.
 */
export class BoundedLog<T extends { readonly timestamp: number }> {
  private readonly items: T[] = [];
  /** Records forgotten because the log was full. */
  evicted = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) {
      this.items.splice(0, this.items.length - this.capacity);
      this.evicted++;
    }
  }

  query(filter: { from?: number; to?: number; limit?: number; where?: (item: T) => boolean } = {}): T[] {
    const from = filter.from ?? Number.NEGATIVE_INFINITY;
    const to = filter.to ?? Number.POSITIVE_INFINITY;
    const out: T[] = [];
    for (let i = this.items.length - 1; i >= 0 && out.length < (filter.limit ?? 1000); i--) {
      const item = this.items[i];
      if (item.timestamp < from || item.timestamp > to) continue;
      if (filter.where && !filter.where(item)) continue;
      out.push(item);
    }
    return out.reverse();
  }

  get size(): number {
    return this.items.length;
  }
}
