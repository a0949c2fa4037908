/** The `host` plugin: registers the `host` collector factory. Loaded by the runtime via package.json#sextant. */
import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { hostCollectorFactory } from './host-collector.js';

export default createPlugin({
  pluginId: 'host',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(hostCollectorFactory);
  },
});
