/**
 * @sextant/analysis — built-in detectors of Sextant.
 */
export { BaselineModel, BaselineKind, BASELINE_KIND_NAMES, DAY_BUCKETS, WEEK_BUCKETS } from './baseline/model.js';
export type { DropReason } from './baseline/model.js';
export { DEFAULT_BASELINE_PARAMS } from './baseline/params.js';
export type { BaselineParams } from './baseline/params.js';
