/**
 * De-duplication state of one source: the highest contiguous sequence seen, plus the sequences
 * seen above it (at most `windowSize`). Memory per source is O(windowSize), whatever the stream's
 * length.
 *
 * Sequences start at 1. A sequence at or below `contiguous`, or already in the window, is a
 * duplicate. When the window would overflow, `contiguous` jumps to the lowest sequence it holds
 * minus one: the missing ones are counted in `skipped` and later arrivals of them are treated as
 * duplicates (the price of bounded memory; a well-behaved agent never gets that far ahead).
 */
export class SequenceWindow {
  contiguous = 0;
  /** Sequences given up on because the window overflowed. */
  skipped = 0;
  private readonly above = new Set<number>();

  constructor(private readonly windowSize = 1024) {}

  /** Returns true when `sequence` is new (and records it), false when it is a duplicate. */
  accept(sequence: number): boolean {
    if (sequence <= this.contiguous || this.above.has(sequence)) return false;
    if (sequence === this.contiguous + 1) {
      this.contiguous = sequence;
      this.drainAbove();
      return true;
    }
    this.above.add(sequence);
    if (this.above.size > this.windowSize) {
      let lowest = Number.POSITIVE_INFINITY;
      for (const s of this.above) if (s < lowest) lowest = s;
      this.skipped += lowest - 1 - this.contiguous;
      this.contiguous = lowest - 1;
      this.drainAbove();
    }
    return true;
  }

  /**
   * Forgets that `sequence` was seen (it could not be delivered): it is accepted again when the
   * source resends it. The sequences above it that were seen stay seen (at most `windowSize`; a
   * sequence that far behind cannot be forgotten and counts in `skipped`).
   */
  forget(sequence: number): void {
    if (this.above.delete(sequence) || sequence > this.contiguous) return;
    if (this.contiguous - sequence + this.above.size > this.windowSize) {
      this.skipped++;
      return;
    }
    for (let s = sequence + 1; s <= this.contiguous; s++) this.above.add(s);
    this.contiguous = sequence - 1;
  }

  /** The source will never send sequences below `retainedFrom`: stop waiting for them. */
  releaseBelow(retainedFrom: number): void {
    if (retainedFrom - 1 <= this.contiguous) return;
    this.contiguous = retainedFrom - 1;
    for (const s of this.above) if (s <= this.contiguous) this.above.delete(s);
    this.drainAbove();
  }

  private drainAbove(): void {
    if (this.above.size === 0) return;
    while (this.above.delete(this.contiguous + 1)) this.contiguous++;
    for (const s of this.above) if (s <= this.contiguous) this.above.delete(s);
  }
}
