/** Pressure stall information from /proc/pressure/{cpu,memory,io}. */
import { CounterRate } from '@sextant/plugin-kit';
import { U64_MODULUS } from './counter-width.js';
import { HOST_METRICS } from './host-metrics.js';
import type { HostSeries } from './host-series.js';
import type { Pressure, PressureLine } from './pressure.js';

export const PRESSURE_RESOURCES = ['cpu', 'memory', 'io'] as const;
export type PressureResource = (typeof PRESSURE_RESOURCES)[number];

class PressureScopeSeries {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  readonly stall: number;
  readonly total = new CounterRate({ wrapAt: U64_MODULUS });

  constructor(series: HostSeries, resource: PressureResource, scope: 'some' | 'full') {
    const attributes = { 'system.linux.pressure.resource': resource, 'system.linux.pressure.scope': scope };
    this.avg10 = series.id(HOST_METRICS.pressureAvg10, attributes);
    this.avg60 = series.id(HOST_METRICS.pressureAvg60, attributes);
    this.avg300 = series.id(HOST_METRICS.pressureAvg300, attributes);
    this.stall = series.id(HOST_METRICS.pressureStall, attributes);
  }
}

export class PressureRecorder {
  private readonly scopes = new Map<string, PressureScopeSeries>();

  constructor(private readonly series: HostSeries) {}

  record(resource: PressureResource, pressure: Pressure): void {
    this.recordScope(resource, 'some', pressure.some);
    if (pressure.full) this.recordScope(resource, 'full', pressure.full);
  }

  private recordScope(resource: PressureResource, scope: 'some' | 'full', line: PressureLine): void {
    const key = `${resource}/${scope}`;
    let ids = this.scopes.get(key);
    if (!ids) {
      ids = new PressureScopeSeries(this.series, resource, scope);
      this.scopes.set(key, ids);
    }
    this.series.write(ids.avg10, line.avg10);
    this.series.write(ids.avg60, line.avg60);
    this.series.write(ids.avg300, line.avg300);
    const microsPerSecond = ids.total.update(line.totalMicros, this.series.now);
    this.series.write(ids.stall, microsPerSecond === undefined ? undefined : microsPerSecond / 1e6);
  }
}
