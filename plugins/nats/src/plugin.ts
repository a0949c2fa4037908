import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { natsCollectorFactory } from './nats-collector.js';

/** The `nats` plugin: provides the `nats` collector factory. */
export default createPlugin({
  pluginId: 'nats',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(natsCollectorFactory);
  },
});
