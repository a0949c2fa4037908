/**
 * Every metric the host collector writes: name, unit, type and meaning in one place, so the README
 * table and the code cannot disagree. Names and units follow the OpenTelemetry semantic
 * conventions (and the Collector's hostmetrics receiver where the conventions are silent); ours
 * live under `system.linux.*`. Rates are per second, derived from kernel counters.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

export interface HostMetricSpec {
  readonly metric: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind: MetricKind;
  readonly description: string;
  /** Point attributes, for the docs. */
  readonly attributes: readonly string[];
}

function spec(metric: string, unit: string, type: MetricType, kind: MetricKind, attributes: readonly string[], description: string): HostMetricSpec {
  return { metric, unit, type, kind, attributes, description };
}

export const HOST_METRICS = {
  cpuUtilization: spec('system.cpu.utilization', '1', 'gauge', 'utilization', ['cpu.mode', 'cpu.logical_number (perCpu)'],
    'Share of CPU time spent in each mode since the previous round, 0..1 (all CPUs, or one logical CPU).'),
  cpuLogicalCount: spec('system.cpu.logical.count', '{cpu}', 'gauge', 'generic', [], 'Logical CPUs online.'),
  memoryUsage: spec('system.memory.usage', 'By', 'gauge', 'memory', ['system.memory.state'],
    'Memory by state: used = total - free - buffers - cached; cached includes reclaimable slab (as `free` reports).'),
  memoryUtilization: spec('system.memory.utilization', '1', 'gauge', 'utilization', ['system.memory.state'], 'Memory by state as a share of total, 0..1.'),
  memoryLimit: spec('system.memory.limit', 'By', 'gauge', 'generic', [], 'Total usable memory (MemTotal).'),
  memoryAvailable: spec('system.linux.memory.available', 'By', 'gauge', 'memory', [],
    "The kernel's estimate of memory available to new work without swapping (MemAvailable, Linux >= 3.14)."),
  pagingUsage: spec('system.paging.usage', 'By', 'gauge', 'memory', ['system.paging.state'], 'Swap space used and free.'),
  pagingUtilization: spec('system.paging.utilization', '1', 'gauge', 'utilization', ['system.paging.state'],
    'Swap used and free as a share of total swap, 0..1; not written when there is no swap.'),
  load1m: spec('system.cpu.load_average.1m', '{thread}', 'gauge', 'saturation', [], 'Run-queue length averaged over 1 minute.'),
  load5m: spec('system.cpu.load_average.5m', '{thread}', 'gauge', 'saturation', [], 'Run-queue length averaged over 5 minutes.'),
  load15m: spec('system.cpu.load_average.15m', '{thread}', 'gauge', 'saturation', [], 'Run-queue length averaged over 15 minutes.'),
  pressureAvg10: spec('system.linux.pressure.avg10', '1', 'gauge', 'saturation', ['system.linux.pressure.resource', 'system.linux.pressure.scope'],
    'Share of time tasks stalled on the resource, averaged by the kernel over 10 s, 0..1. scope some = at least one task, full = all non-idle tasks.'),
  pressureAvg60: spec('system.linux.pressure.avg60', '1', 'gauge', 'saturation', ['system.linux.pressure.resource', 'system.linux.pressure.scope'],
    'As avg10, averaged over 60 s.'),
  pressureAvg300: spec('system.linux.pressure.avg300', '1', 'gauge', 'saturation', ['system.linux.pressure.resource', 'system.linux.pressure.scope'],
    'As avg10, averaged over 300 s.'),
  pressureStall: spec('system.linux.pressure.stall', 's/s', 'rate', 'saturation', ['system.linux.pressure.resource', 'system.linux.pressure.scope'],
    'Stall time per second of wall time since the previous round (from the total= counter), 0..1 for most resources.'),
  diskIo: spec('system.disk.io', 'By/s', 'rate', 'throughput', ['system.device', 'disk.io.direction'], 'Bytes read and written per second.'),
  diskOperations: spec('system.disk.operations', '{operation}/s', 'rate', 'throughput', ['system.device', 'disk.io.direction'], 'Completed reads and writes per second.'),
  diskMerged: spec('system.disk.merged', '{operation}/s', 'rate', 'throughput', ['system.device', 'disk.io.direction'], 'Adjacent requests merged per second.'),
  diskIoTime: spec('system.disk.io_time', 's/s', 'rate', 'utilization', ['system.device'], 'Time the device was busy per second: its busy fraction, 0..1.'),
  diskOperationTime: spec('system.disk.operation_time', 's/s', 'rate', 'saturation', ['system.device', 'disk.io.direction'],
    'Time spent by all completed reads (writes) per second; divide by operations for latency.'),
  diskPendingOperations: spec('system.disk.pending_operations', '{operation}', 'gauge', 'saturation', ['system.device'], 'I/Os in flight now.'),
  filesystemUsage: spec('system.filesystem.usage', 'By', 'gauge', 'memory', ['system.device', 'system.filesystem.mountpoint', 'system.filesystem.type', 'system.filesystem.state'],
    'Space used, free to unprivileged users, and reserved for root.'),
  filesystemUtilization: spec('system.filesystem.utilization', '1', 'gauge', 'utilization', ['system.device', 'system.filesystem.mountpoint', 'system.filesystem.type'],
    'used / (used + free), as `df` shows Use%, 0..1.'),
  filesystemInodesUsage: spec('system.filesystem.inodes.usage', '{inode}', 'gauge', 'generic', ['system.device', 'system.filesystem.mountpoint', 'system.filesystem.type', 'system.filesystem.state'],
    'Inodes used and free; not written by filesystems without an inode limit (btrfs).'),
  networkIo: spec('system.network.io', 'By/s', 'rate', 'throughput', ['network.interface.name', 'network.io.direction'], 'Bytes received and transmitted per second.'),
  networkPackets: spec('system.network.packets', '{packet}/s', 'rate', 'throughput', ['network.interface.name', 'network.io.direction'], 'Packets received and transmitted per second.'),
  networkErrors: spec('system.network.errors', '{error}/s', 'rate', 'generic', ['network.interface.name', 'network.io.direction'], 'Receive and transmit errors per second.'),
  networkDropped: spec('system.network.dropped', '{packet}/s', 'rate', 'generic', ['network.interface.name', 'network.io.direction'], 'Packets dropped per second.'),
  processCount: spec('system.process.count', '{process}', 'gauge', 'saturation', ['process.status'], 'Processes running (runnable) and blocked on I/O now.'),
  processCreated: spec('system.process.created', '{process}/s', 'rate', 'throughput', [], 'Processes and threads created (forks) per second.'),
  threadCount: spec('system.thread.count', '{thread}', 'gauge', 'generic', [], 'Kernel scheduling entities (processes and threads) that exist now.'),
  uptime: spec('system.uptime', 's', 'gauge', 'generic', [], 'Seconds since boot.'),
} as const satisfies Record<string, HostMetricSpec>;
