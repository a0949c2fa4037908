/**
 * The per-container readings of one round, stored data-oriented: one Float64Array row of
 * {@link STAT_COUNT} numbers per container slot, indexed by the constants below. NaN means "not
 * available this round" (file missing or malformed, controller not mounted, host network).
 *
 * Units: nanoseconds for CPU times, bytes for memory and I/O, plain counts otherwise. Cumulative
 * counters stay cumulative here; the collector turns them into rates.
 */
export const Stat = {
  /** Cumulative CPU time of all tasks, ns. */
  cpuUsageNs: 0,
  /** Cumulative CFS enforcement periods. */
  cpuPeriods: 1,
  /** Cumulative periods in which the group was throttled. */
  cpuThrottledPeriods: 2,
  /** Cumulative time throttled, ns. */
  cpuThrottledNs: 3,
  /** CPU limit from the cgroup (quota / period), in cores; Infinity when unlimited. */
  cpuLimitCores: 4,
  /** Memory in use, bytes, including page cache. */
  memoryUsageBytes: 5,
  /** Memory limit, bytes; Infinity when unlimited. */
  memoryLimitBytes: 6,
  /** Inactive file-backed page cache, bytes (subtracted from usage, like `docker stats`). */
  memoryInactiveFileBytes: 7,
  /** Cumulative OOM kills inside the group. */
  oomKills: 8,
  /** Cumulative bytes read from / written to block devices. */
  diskReadBytes: 9,
  diskWriteBytes: 10,
  /** Tasks (processes and threads) in the group now. */
  pids: 11,
  /** Cumulative network counters summed over the container's non-loopback interfaces. */
  netRxBytes: 12,
  netTxBytes: 13,
  netRxPackets: 14,
  netTxPackets: 15,
  netRxErrors: 16,
  netTxErrors: 17,
} as const;

export const STAT_COUNT = 18;
