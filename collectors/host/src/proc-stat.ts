/**
 * Parser for /proc/stat (proc(5)): CPU time per mode and the process counters.
 *
 * The result is a reusable, typed-array table so a round allocates nothing per CPU:
 * `parseProcStat(text, stat)` refills `stat` in place.
 */
import { parseKernelUnsigned, splitFields } from './kernel-numbers.js';
import { parseFailure, parsed, quoteLine, type ParseResult } from './parse-result.js';

/**
 * The CPU modes reported, in /proc/stat column order. `guest` and `guest_nice` (columns 9-10) are
 * left out on purpose: the kernel already counts them inside `user` and `nice`.
 */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export const CPU_MODE_COUNT = CPU_MODES.length;

/** Kernels before 2.6.11 print only user, nice, system, idle; later columns then read as 0. */
const MIN_CPU_COLUMNS = 4;

export interface ProcStat {
  /** Number of per-CPU (`cpuN`) rows found. */
  cpuCount: number;
  /** Logical CPU number of per-CPU row i (rows 0..cpuCount-1). Offline CPUs have no row. */
  cpuNumbers: Int32Array;
  /**
   * Cumulative ticks (USER_HZ, usually 1/100 s) per mode: the first CPU_MODE_COUNT entries are
   * the all-CPU `cpu` line, then CPU_MODE_COUNT entries per per-CPU row in row order.
   */
  cpuTicks: Float64Array;
  /** Forks since boot (`processes`). */
  processesCreated: number;
  /** Runnable tasks now (`procs_running`). */
  procsRunning: number;
  /** Tasks blocked on I/O now (`procs_blocked`). */
  procsBlocked: number;
}

export function createProcStat(cpuCapacity = 64): ProcStat {
  return {
    cpuCount: 0,
    cpuNumbers: new Int32Array(cpuCapacity),
    cpuTicks: new Float64Array((cpuCapacity + 1) * CPU_MODE_COUNT),
    processesCreated: 0,
    procsRunning: 0,
    procsBlocked: 0,
  };
}

function ensureCpuCapacity(stat: ProcStat, rows: number): void {
  if (rows <= stat.cpuNumbers.length) return;
  const capacity = Math.max(rows, stat.cpuNumbers.length * 2);
  const numbers = new Int32Array(capacity);
  numbers.set(stat.cpuNumbers);
  const ticks = new Float64Array((capacity + 1) * CPU_MODE_COUNT);
  ticks.set(stat.cpuTicks);
  stat.cpuNumbers = numbers;
  stat.cpuTicks = ticks;
}

/**
 * Parses /proc/stat text into `into` (reused between rounds).
 *
 * Fails when: the all-CPU `cpu` line or one of `processes`, `procs_running`, `procs_blocked` is
 * missing (a truncated read), a `cpu` line has fewer than 4 columns, or any column of a line we
 * read is not an unsigned integer. Extra numeric columns on `cpu` lines are ignored, because newer
 * kernels append columns; lines we do not use (`intr`, `softirq`, ...) are not looked at, so their
 * size costs nothing.
 */
export function parseProcStat(text: string, into: ProcStat = createProcStat()): ParseResult<ProcStat> {
  into.cpuCount = 0;
  let sawTotal = false;
  let processes = -1;
  let running = -1;
  let blocked = -1;
  let start = 0;
  let lineNumber = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    lineNumber++;
    if (line.startsWith('cpu')) {
      const fields = splitFields(line);
      const label = fields[0];
      let row: number;
      if (label === 'cpu') {
        if (sawTotal) return parseFailure(`line ${lineNumber}: a second all-CPU "cpu" line`);
        sawTotal = true;
        row = -1;
      } else {
        const cpuNumber = parseKernelUnsigned(label.slice(3));
        if (cpuNumber < 0 || cpuNumber > 1_000_000) return parseFailure(`line ${lineNumber} ${quoteLine(line)}: "${label}" is not cpu<N>`);
        row = into.cpuCount++;
        ensureCpuCapacity(into, into.cpuCount);
        into.cpuNumbers[row] = cpuNumber;
      }
      if (fields.length - 1 < MIN_CPU_COLUMNS) {
        return parseFailure(`line ${lineNumber} ${quoteLine(line)}: ${fields.length - 1} columns, expected at least ${MIN_CPU_COLUMNS} (truncated?)`);
      }
      const base = (row + 1) * CPU_MODE_COUNT;
      for (let i = 1; i < fields.length; i++) {
        const value = parseKernelUnsigned(fields[i]);
        if (value < 0) return parseFailure(`line ${lineNumber} ${quoteLine(line)}: column ${i} (${JSON.stringify(fields[i])}) is not an unsigned integer`);
        if (i <= CPU_MODE_COUNT) into.cpuTicks[base + i - 1] = value;
      }
      for (let i = fields.length; i <= CPU_MODE_COUNT; i++) into.cpuTicks[base + i - 1] = 0;
      continue;
    }
    let key: string;
    if (line.startsWith('processes ')) key = 'processes';
    else if (line.startsWith('procs_running ')) key = 'procs_running';
    else if (line.startsWith('procs_blocked ')) key = 'procs_blocked';
    else continue;
    const fields = splitFields(line);
    const value = fields.length === 2 ? parseKernelUnsigned(fields[1]) : -1;
    if (value < 0) return parseFailure(`line ${lineNumber} ${quoteLine(line)}: expected "${key} <unsigned integer>"`);
    if (key === 'processes') processes = value;
    else if (key === 'procs_running') running = value;
    else blocked = value;
  }
  if (!sawTotal) return parseFailure('no all-CPU "cpu" line (empty or truncated file?)');
  const missing = [processes < 0 ? 'processes' : '', running < 0 ? 'procs_running' : '', blocked < 0 ? 'procs_blocked' : ''].filter(Boolean);
  if (missing.length > 0) return parseFailure(`no ${missing.join(', ')} line (truncated file?)`);
  into.processesCreated = processes;
  into.procsRunning = running;
  into.procsBlocked = blocked;
  return parsed(into);
}
