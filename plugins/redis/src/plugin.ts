import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { redisCollectorFactory } from './redis-collector.js';

/** The `redis` plugin: provides the `redis` collector factory. */
export default createPlugin({
  pluginId: 'redis',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(redisCollectorFactory);
  },
});
