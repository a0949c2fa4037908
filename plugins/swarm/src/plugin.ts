/** The `swarm` plugin: registers the `swarm` collector factory. Loaded by the runtime via package.json#sextant. */
import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { swarmCollectorFactory } from './swarm-collector.js';

export default createPlugin({
  pluginId: 'swarm',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(swarmCollectorFactory);
  },
});
