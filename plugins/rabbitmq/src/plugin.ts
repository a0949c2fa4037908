import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { rabbitmqCollectorFactory } from './rabbitmq-collector.js';

/** The `rabbitmq` plugin: provides the `rabbitmq` collector factory (management HTTP API). */
export default createPlugin({
  pluginId: 'rabbitmq',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(rabbitmqCollectorFactory);
  },
});
