/**
 * @sextant/analysis — built-in detectors of Sextant.
 */
export { BaselineModel, BaselineKind, BASELINE_KIND_NAMES, DAY_BUCKETS, WEEK_BUCKETS } from './baseline/model.js';
export type { DropReason } from './baseline/model.js';
export { DEFAULT_BASELINE_PARAMS, BASELINE_CONSTANTS } from './baseline/params.js';
export type { BaselineParams, BaselineConstants } from './baseline/params.js';
export { BaselineDetector, baselineDetectorFactory, baselineConfigSchema, BASELINE_DEFAULTS } from './baseline/detector.js';
export type { BaselineConfig, BaselineFeedback, BaselineFeedbackRecord } from './baseline/detector.js';
export { offlineDetectorContext } from './baseline/offline.js';
export type { OfflineContextOptions } from './baseline/offline.js';
export { inferMetricKind } from './baseline/metric-kind.js';
export { default as analysisPlugin } from './plugin.js';
export { PeerOutlierDetector, peerOutlierDetectorFactory, peerOutlierConfigSchema, PEER_OUTLIER_DEFAULTS } from './outliers/peer-outlier-detector.js';
export type { PeerOutlierConfig } from './outliers/peer-outlier-detector.js';
export { peerIdentity } from './outliers/peer-groups.js';
export type { PeerIdentity } from './outliers/peer-groups.js';
export { IncidentCorrelator, incidentCorrelatorFactory, incidentConfigSchema, INCIDENT_DEFAULTS } from './incidents/incident-correlator.js';
export type { IncidentConfig } from './incidents/incident-correlator.js';
export { rankLikelyCauses } from './incidents/likely-causes.js';
export { impactOf } from './incidents/impact.js';
export { ThresholdDetector, thresholdDetectorFactory, thresholdConfigSchema } from './threshold/threshold-detector.js';
export type { ThresholdConfig } from './threshold/threshold-detector.js';
export * from './rca/index.js';
