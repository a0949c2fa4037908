import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { rumCollectorFactory } from './rum-collector.js';

/** The RUM plugin: one collector factory, type `rum`. */
export default createPlugin({
  pluginId: 'rum',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(rumCollectorFactory);
  },
});
