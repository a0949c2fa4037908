/**
 * @sextant/eval — detector evaluation on public benchmarks (private package).
 */
export { runNabEvaluation, formatNabReport, formatNabWindows } from './nab/runner.js';
export type { NabEvaluationOptions, NabEvaluationResult, NabFileReport, NabWindowReport } from './nab/runner.js';
export { crossValidateByCategory } from './nab/cross-validation.js';
export type { NabCrossValidation, ProfileCrossValidation, CategoryFold } from './nab/cross-validation.js';
export { scoreNab, scoreNabAtThreshold, NAB_PROFILES, nabSigmoid, probationRows, truePositiveWeight, falsePositiveWeight } from './nab/scorer.js';
export type { NabProfile, NabProfileName, ScoredFile, ProfileResult, CategoryResult, NabScoreResult } from './nab/scorer.js';
export { readNabCorpus, parseNabCsv, parseNabTimestamp, windowsToRows } from './nab/reader.js';
export type { NabSeries, NabCorpus } from './nab/reader.js';
export { getNabDetector, registerNabDetector, nabDetectorNames } from './nab/detectors.js';
export type { NabDetector, StreamingScorer } from './nab/detectors.js';
export { runDemo } from './demo.js';
export type { DemoOptions, DemoSummary, DemoIncident, DemoReportedIncident } from './demo.js';
export * from './rca/index.js';
export { scoreCorpus, scoreCandidate, figuresOf, nestedCrossValidation, sweepParameter, nestedCoordinateSearch, runNabStudy, formatNabStudy, CandidateCache, DEFAULT_SWEEPS, ABLATIONS } from './nab/tuning.js';
export type { Candidate, CandidateScores, CandidateFigures, CandidateSource, NestedFold, NestedCrossValidation, NestedSearch, NestedSearchFold, SweepResult, SweepSpec, NabStudyName, NabStudyOptions, NabStudyResult } from './nab/tuning.js';
export { sextantDetectorWith } from './nab/detectors.js';
