/**
 * Root-cause ranking: the public surface of `core/analysis/src/rca`. The correlator and
 * `sextant eval rca` use the same `rankRootCauses`.
 */
export { rankRootCauses } from './rank-root-causes.js';
export { scoreSeriesAnomaly, isFaultKind } from './series-anomaly.js';
export type { SeriesAnomaly } from './series-anomaly.js';
export { DEFAULT_RCA_OPTIONS } from './types.js';
export type { RcaInput, RcaSeries, RcaTarget, RcaChangeEvent, RcaOptions, RankedCause } from './types.js';
