/**
 * Disk I/O from /proc/diskstats, per whole disk (partitions only when configured, because a
 * partition's I/O is already counted in its disk's). A device is a whole disk when
 * `<sysRoot>/block/<name>` exists; without a readable sysfs every device counts as a disk.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CounterRate } from '@sextant/plugin-kit';
import { UNSIGNED_INT_MODULUS } from './counter-width.js';
import type { DeviceCounterTable } from './device-counter-table.js';
import { DeviceStates, type SeenDevice } from './device-states.js';
import { DISK, DISKSTATS_SECTOR_BYTES } from './diskstats.js';
import { HOST_METRICS, type HostMetricSpec } from './host-metrics.js';
import type { HostSeries } from './host-series.js';
import type { NameFilter } from './name-filter.js';

interface RatedColumn {
  readonly column: number;
  readonly spec: HostMetricSpec;
  readonly direction: 'read' | 'write' | undefined;
  /** Multiplies the counter's per-second rate into the metric's unit. */
  readonly scale: number;
  /** True for `%u` columns, which wrap at 2^32 on every kernel. */
  readonly unsignedInt: boolean;
}

const MS_TO_S = 1 / 1000;

const RATED: readonly RatedColumn[] = [
  { column: DISK.sectorsRead, spec: HOST_METRICS.diskIo, direction: 'read', scale: DISKSTATS_SECTOR_BYTES, unsignedInt: false },
  { column: DISK.sectorsWritten, spec: HOST_METRICS.diskIo, direction: 'write', scale: DISKSTATS_SECTOR_BYTES, unsignedInt: false },
  { column: DISK.readsCompleted, spec: HOST_METRICS.diskOperations, direction: 'read', scale: 1, unsignedInt: false },
  { column: DISK.writesCompleted, spec: HOST_METRICS.diskOperations, direction: 'write', scale: 1, unsignedInt: false },
  { column: DISK.readsMerged, spec: HOST_METRICS.diskMerged, direction: 'read', scale: 1, unsignedInt: false },
  { column: DISK.writesMerged, spec: HOST_METRICS.diskMerged, direction: 'write', scale: 1, unsignedInt: false },
  { column: DISK.msDoingIo, spec: HOST_METRICS.diskIoTime, direction: undefined, scale: MS_TO_S, unsignedInt: true },
  { column: DISK.msReading, spec: HOST_METRICS.diskOperationTime, direction: 'read', scale: MS_TO_S, unsignedInt: true },
  { column: DISK.msWriting, spec: HOST_METRICS.diskOperationTime, direction: 'write', scale: MS_TO_S, unsignedInt: true },
];

class DiskState implements SeenDevice {
  lastSeenRound = 0;
  /** Series ids parallel to RATED; -2 until first asked for. */
  readonly rateIds = new Int32Array(RATED.length).fill(-2);
  pendingId = -2;
  readonly rates: CounterRate[];

  constructor(
    readonly reported: boolean,
    unsignedLongModulus: number,
  ) {
    this.rates = reported ? RATED.map((c) => new CounterRate({ wrapAt: c.unsignedInt ? UNSIGNED_INT_MODULUS : unsignedLongModulus })) : [];
  }
}

export interface DiskRecorderOptions {
  readonly sysRoot: string;
  readonly filter: NameFilter;
  readonly partitions: boolean;
  readonly unsignedLongModulus: number;
}

export class DiskRecorder {
  private readonly devices: DeviceStates<DiskState>;
  private readonly canTellPartitions: boolean;

  constructor(
    private readonly series: HostSeries,
    private readonly options: DiskRecorderOptions,
  ) {
    this.canTellPartitions = existsSync(join(options.sysRoot, 'block'));
    this.devices = new DeviceStates((name) => new DiskState(this.isReported(name), options.unsignedLongModulus));
  }

  private isReported(name: string): boolean {
    if (!this.options.filter.accepts(name)) return false;
    if (this.options.partitions || !this.canTellPartitions) return true;
    // sysfs spells a "/" in a device name (cciss/c0d0) as "!".
    return existsSync(join(this.options.sysRoot, 'block', name.replaceAll('/', '!')));
  }

  record(table: DeviceCounterTable): void {
    this.devices.beginRound();
    const values = table.values;
    for (let row = 0; row < table.count; row++) {
      const name = table.names[row];
      const state = this.devices.get(name);
      if (!state.reported) continue;
      const offset = row * table.columns;
      for (let i = 0; i < RATED.length; i++) {
        const column = RATED[i];
        const rate = state.rates[i].update(values[offset + column.column], this.series.now);
        if (rate === undefined) continue;
        let id = state.rateIds[i];
        if (id === -2) {
          id = this.series.id(column.spec, column.direction ? { 'system.device': name, 'disk.io.direction': column.direction } : { 'system.device': name });
          state.rateIds[i] = id;
        }
        this.series.write(id, rate * column.scale);
      }
      if (state.pendingId === -2) state.pendingId = this.series.id(HOST_METRICS.diskPendingOperations, { 'system.device': name });
      this.series.write(state.pendingId, values[offset + DISK.inFlight]);
    }
    this.devices.endRound();
  }
}
