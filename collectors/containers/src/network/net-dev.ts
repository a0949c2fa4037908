/**
 * Parser of `/proc/<pid>/net/dev`: the counters of every interface in the network namespace of
 * `<pid>`. Reading it through the container's init pid gives the container's own interfaces.
 *
 * Format: two header lines, then `  name: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame
 * rx_compressed rx_multicast tx_bytes tx_packets tx_errs tx_drop ...` per interface.
 */

/** Index of each sum in the `out` array of {@link sumNetDev}. */
export const NetDevSum = { rxBytes: 0, txBytes: 1, rxPackets: 2, txPackets: 3, rxErrors: 4, txErrors: 5 } as const;

/**
 * Sums the counters of every interface except loopback into `out` (6 entries, see
 * {@link NetDevSum}). Returns the number of interfaces summed, or -1 when a line is malformed (then
 * `out` is untouched). A namespace with only `lo` (network mode `none`) sums to zero.
 */
export function sumNetDev(text: string, out: Float64Array | number[]): number {
  const lines = text.split('\n');
  if (lines.length < 2 || !lines[0].includes('|') || !lines[1].includes('|')) return -1;
  const sums = [0, 0, 0, 0, 0, 0];
  let count = 0;
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon < 0) return -1;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (f.length < 16) return -1;
    const values = [f[0], f[8], f[1], f[9], f[2], f[10]].map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
    if (values.some((v) => !Number.isFinite(v))) return -1;
    if (name === 'lo') continue;
    for (let k = 0; k < 6; k++) sums[k] += values[k];
    count++;
  }
  for (let k = 0; k < 6; k++) out[k] = sums[k];
  return count;
}
