/**
 * The baseline detector outside a runtime: for replaying samples through the production detector
 * (`sextant eval nab`, `sextant demo`, the benchmark) with no logging, self-metrics or topology.
 */
import type { AnomalyInput, DetectorContext, SeriesDescriptor, SeriesId } from '@sextant/plugin-api';
import { BASELINE_DEFAULTS, type BaselineConfig } from './detector.js';

export interface OfflineContextOptions {
  /** Instance name shown in messages (`baseline/nab`). */
  readonly instanceId: string;
  /** What each series is (metric, unit, type): it picks the metric-kind treatment. Unknown: generic. */
  readonly describe?: (series: SeriesId) => SeriesDescriptor | undefined;
  /** Number of series ids in use. */
  readonly size?: number;
  /** Receives every anomaly the detector raises. */
  readonly emit?: (anomaly: AnomalyInput) => void;
  /** The replay's clock (ms); 0 when not given. */
  readonly now?: () => number;
  readonly config?: BaselineConfig;
}

const noop = (): void => {};

/** A complete, silent detector context for a replay. */
export function offlineDetectorContext(options: OfflineContextOptions): DetectorContext<BaselineConfig> {
  const now = options.now ?? (() => 0);
  return {
    config: options.config ?? BASELINE_DEFAULTS,
    instanceId: options.instanceId,
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    clock: { now, setTimeout: () => noop },
    status: { set: noop },
    metrics: { counter: () => ({ add: noop }), gauge: () => ({ set: noop }) },
    signal: new AbortController().signal,
    dataDir: undefined,
    catalog: { describe: options.describe ?? (() => undefined), size: options.size ?? 0 },
    topology: { entity: () => undefined, entities: () => [], edges: () => [], entityOf: () => undefined },
    emit: options.emit ?? noop,
  };
}
