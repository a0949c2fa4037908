/**
 * The built-in detectors pass the same conformance suite as any third-party detector: metadata,
 * config defaults, shutdown without start() and twice, NaN/Infinity/duplicate/out-of-order input
 * with scores in [0, 1], snapshot/restore, and loading through a plugin into a real runtime.
 */
import { describeDetectorConformance } from '@sextant/testkit/conformance';
import { baselineDetectorFactory, peerOutlierDetectorFactory, thresholdDetectorFactory } from '../src/index.js';

describeDetectorConformance(baselineDetectorFactory);
describeDetectorConformance(peerOutlierDetectorFactory);
describeDetectorConformance(thresholdDetectorFactory, { config: { rules: [{ metric: 'conformance.value', above: 100 }] } });
