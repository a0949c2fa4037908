/** The `containers` plugin: registers the `containers` collector factory. Loaded by the runtime via package.json#sextant. */
import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { containersCollectorFactory } from './containers-collector.js';

export default createPlugin({
  pluginId: 'containers',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(containersCollectorFactory);
  },
});
