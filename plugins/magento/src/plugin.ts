import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { magentoCollectorFactory } from './magento-collector.js';

/** The Magento plugin: one collector factory, type `magento`. */
export default createPlugin({
  pluginId: 'magento',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(magentoCollectorFactory);
  },
});
