import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { saltCollectorFactory } from './salt-collector.js';

export default createPlugin({
  pluginId: 'events-salt',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(saltCollectorFactory);
  },
});
