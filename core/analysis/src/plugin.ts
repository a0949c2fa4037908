/**
 * The built-in analysis plugin: registers Sextant's own detectors and correlator through the same
 * extension points any third party uses.
 */
import { correlatorsExtensionPoint, createPlugin, detectorsExtensionPoint } from '@sextant/plugin-api';
import { baselineDetectorFactory } from './baseline/detector.js';
import { incidentCorrelatorFactory } from './incidents/incident-correlator.js';
import { peerOutlierDetectorFactory } from './outliers/peer-outlier-detector.js';
import { thresholdDetectorFactory } from './threshold/threshold-detector.js';

export default createPlugin({
  pluginId: 'analysis',
  deps: { detectors: detectorsExtensionPoint, correlators: correlatorsExtensionPoint },
  register({ detectors, correlators }) {
    detectors.addFactory(baselineDetectorFactory);
    detectors.addFactory(peerOutlierDetectorFactory);
    detectors.addFactory(thresholdDetectorFactory);
    correlators.addFactory(incidentCorrelatorFactory);
  },
});
