/**
 * Interns this collector's series with the sink and writes samples. Recorders ask for an id once
 * per device and metric and keep it; the hot path is then `write(id, value)`.
 */
import { ErrorCode, isSextantError, type Attributes, type SelfCounter, type TelemetrySink } from '@sextant/plugin-api';
import type { HostMetricSpec } from './host-metrics.js';

/** Id returned when the runtime refused a series (series limit): writes to it are dropped. */
export const REFUSED_SERIES = -1;

export class HostSeries {
  /** Timestamp (ms) every sample of the current round carries. */
  now = 0;

  constructor(
    private readonly sink: TelemetrySink,
    private readonly resource: Attributes,
    private readonly refused: SelfCounter,
  ) {}

  /**
   * The series id of `spec` with point `attributes`, or {@link REFUSED_SERIES} when the runtime's
   * series limit refused it (counted in `series_refused_total`). Cache the result.
   */
  id(spec: HostMetricSpec, attributes: Attributes): number {
    try {
      return this.sink.series({
        metric: spec.metric,
        unit: spec.unit,
        type: spec.type,
        kind: spec.kind,
        description: spec.description,
        resource: this.resource,
        attributes,
      });
    } catch (error) {
      if (isSextantError(error) && error.code === ErrorCode.LIMIT_EXCEEDED) {
        this.refused.add(1, { metric: spec.metric });
        return REFUSED_SERIES;
      }
      throw error;
    }
  }

  /** Writes `value` unless the series was refused or there is no value (undefined rate). */
  write(id: number, value: number | undefined): void {
    if (id >= 0 && value !== undefined) this.sink.sample(id, value, this.now);
  }
}
