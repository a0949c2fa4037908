import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { chefCollectorFactory } from './chef-collector.js';

export default createPlugin({
  pluginId: 'events-chef',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(chefCollectorFactory);
  },
});
