/**
 * Root-cause evaluation (`sextant eval rca`): public surface of `tools/eval/src/rca`.
 */
export { runRcaEvaluation, buildPetshopRankerInput, petshopMetricKind, referenceFromMetrics, IssueHistoryPool } from './runner.js';
export type {
  RcaEvaluationOptions,
  RcaEvaluationResult,
  RcaRow,
  RcaIssueResult,
  RcaFailure,
  RcaProgress,
  RankerInput,
  RankerCause,
  RootCauseRanker,
  ReferenceLookup,
} from './runner.js';
export { formatRcaReport, toRcaJson, PETSHOP_PUBLISHED_BASELINE } from './report.js';
export type { RcaBaselineRow } from './report.js';
export {
  listPetshopScenarios,
  parseCsvRows,
  parseGraphCsv,
  parseMetricsCsv,
  parseTargetJson,
  readPetshopGraph,
  readPetshopMetrics,
  readPetshopTarget,
} from './petshop-reader.js';
export type { PetshopGraph, PetshopMetrics, PetshopTarget, PetshopIssueRef, PetshopScenarioRef } from './petshop-reader.js';
