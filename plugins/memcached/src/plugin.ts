import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { memcachedCollectorFactory } from './memcached-collector.js';

/** The `memcached` plugin: provides the `memcached` collector factory. */
export default createPlugin({
  pluginId: 'memcached',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(memcachedCollectorFactory);
  },
});
