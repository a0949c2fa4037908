import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { ga4CollectorFactory } from './ga4-collector.js';

/** The Google Analytics plugin: one collector factory, type `google-analytics`. */
export default createPlugin({
  pluginId: 'google-analytics',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(ga4CollectorFactory);
  },
});
