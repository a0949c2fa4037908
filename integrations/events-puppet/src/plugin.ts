import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { puppetCollectorFactory } from './puppet-collector.js';

export default createPlugin({
  pluginId: 'events-puppet',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(puppetCollectorFactory);
  },
});
