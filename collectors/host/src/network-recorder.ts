/** Network interface traffic from /proc/net/dev. */
import { CounterRate } from '@sextant/plugin-kit';
import { U64_MODULUS } from './counter-width.js';
import type { DeviceCounterTable } from './device-counter-table.js';
import { DeviceStates, type SeenDevice } from './device-states.js';
import { HOST_METRICS, type HostMetricSpec } from './host-metrics.js';
import type { HostSeries } from './host-series.js';
import type { NameFilter } from './name-filter.js';
import { NET } from './net-dev.js';

interface RatedColumn {
  readonly column: number;
  readonly spec: HostMetricSpec;
  readonly direction: 'receive' | 'transmit';
}

const RATED: readonly RatedColumn[] = [
  { column: NET.rxBytes, spec: HOST_METRICS.networkIo, direction: 'receive' },
  { column: NET.txBytes, spec: HOST_METRICS.networkIo, direction: 'transmit' },
  { column: NET.rxPackets, spec: HOST_METRICS.networkPackets, direction: 'receive' },
  { column: NET.txPackets, spec: HOST_METRICS.networkPackets, direction: 'transmit' },
  { column: NET.rxErrors, spec: HOST_METRICS.networkErrors, direction: 'receive' },
  { column: NET.txErrors, spec: HOST_METRICS.networkErrors, direction: 'transmit' },
  { column: NET.rxDropped, spec: HOST_METRICS.networkDropped, direction: 'receive' },
  { column: NET.txDropped, spec: HOST_METRICS.networkDropped, direction: 'transmit' },
];

class InterfaceState implements SeenDevice {
  lastSeenRound = 0;
  readonly ids = new Int32Array(RATED.length).fill(-2);
  /**
   * The kernel hands out these counters as 64-bit. A driver that keeps 32-bit hardware counters
   * makes them drop from ~2^32 to near 0: read as a reset, so that round has no rate rather than a
   * wrong one.
   */
  readonly rates: CounterRate[];

  constructor(readonly reported: boolean) {
    this.rates = reported ? RATED.map(() => new CounterRate({ wrapAt: U64_MODULUS })) : [];
  }
}

export class NetworkRecorder {
  private readonly interfaces: DeviceStates<InterfaceState>;

  constructor(
    private readonly series: HostSeries,
    filter: NameFilter,
  ) {
    this.interfaces = new DeviceStates((name) => new InterfaceState(filter.accepts(name)));
  }

  record(table: DeviceCounterTable): void {
    this.interfaces.beginRound();
    const values = table.values;
    for (let row = 0; row < table.count; row++) {
      const name = table.names[row];
      const state = this.interfaces.get(name);
      if (!state.reported) continue;
      const offset = row * table.columns;
      for (let i = 0; i < RATED.length; i++) {
        const rate = state.rates[i].update(values[offset + RATED[i].column], this.series.now);
        if (rate === undefined) continue;
        let id = state.ids[i];
        if (id === -2) {
          id = this.series.id(RATED[i].spec, { 'network.interface.name': name, 'network.io.direction': RATED[i].direction });
          state.ids[i] = id;
        }
        this.series.write(id, rate);
      }
    }
    this.interfaces.endRound();
  }
}
