/**
 * The built-in analysis plugin: registers Sextant's own detectors through the same extension
 * point any third party uses.
 */
import { createPlugin, detectorsExtensionPoint } from '@sextant/plugin-api';
import { baselineDetectorFactory } from './baseline/detector.js';

export default createPlugin({
  pluginId: 'analysis',
  deps: { detectors: detectorsExtensionPoint },
  register({ detectors }) {
    detectors.addFactory(baselineDetectorFactory);
  },
});
