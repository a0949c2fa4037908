/**
 * Rows of numeric columns keyed by device name, refilled in place every round: what
 * /proc/diskstats and /proc/net/dev parse into. Row i's columns are
 * `values[i * columns .. i * columns + columns - 1]`.
 */
export class DeviceCounterTable {
  count = 0;
  readonly names: string[] = [];
  values: Float64Array;

  constructor(readonly columns: number, capacity = 16) {
    this.values = new Float64Array(columns * capacity);
  }

  /** Starts a refill. */
  reset(): void {
    this.count = 0;
  }

  /** Appends a row and returns its offset into `values`. */
  addRow(name: string): number {
    const row = this.count++;
    if (row * this.columns + this.columns > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.names[row] = name;
    return row * this.columns;
  }
}
