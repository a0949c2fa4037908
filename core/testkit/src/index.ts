/**
 * @sextant/testkit — test plugins against a real runtime and real servers.
 */
export { FakeClock } from './fake-clock.js';
export {
  RecordingSink,
  RecordingMetrics,
  RecordingLogger,
  systemClock,
  resolveConfig,
  startCollector,
  startDetector,
  startNotifier,
  startCorrelator,
} from './harness.js';
export type { RecordedSample, StatusChange, CollectorHarness, DetectorHarness, NotifierHarness, CorrelatorHarness } from './harness.js';
export { findBinary, requireAll, needBinary, needCondition, freePort, waitForPort } from './system.js';
export { startTestRuntime } from './test-runtime.js';
export type { TestRuntime, TestRuntimeOptions } from './test-runtime.js';
