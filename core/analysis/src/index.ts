/**
 * @sextant/analysis — built-in detectors of Sextant.
 */
export { BaselineModel, BaselineKind, BASELINE_KIND_NAMES, DAY_BUCKETS, WEEK_BUCKETS } from './baseline/model.js';
export type { DropReason } from './baseline/model.js';
export { DEFAULT_BASELINE_PARAMS } from './baseline/params.js';
export type { BaselineParams } from './baseline/params.js';
export { BaselineDetector, baselineDetectorFactory, baselineConfigSchema, BASELINE_DEFAULTS, parseDuration } from './baseline/detector.js';
export type { BaselineConfig } from './baseline/detector.js';
export { inferMetricKind } from './baseline/metric-kind.js';
export { default as analysisPlugin } from './plugin.js';
