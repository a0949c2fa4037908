import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { haproxyCollectorFactory } from './haproxy-collector.js';

/** The `haproxy` plugin: provides the `haproxy` collector factory. */
export default createPlugin({
  pluginId: 'haproxy',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(haproxyCollectorFactory);
  },
});
