import { collectorsExtensionPoint, coreServices, createPlugin } from '@sextant/plugin-api';
import { createRumCollectorFactory } from './rum-collector.js';

/** The RUM plugin: one collector factory, type `rum`. */
export default createPlugin({
  pluginId: 'rum',
  deps: { collectors: collectorsExtensionPoint, http: coreServices.httpRouter },
  register({ collectors, http }) {
    collectors.addFactory(createRumCollectorFactory({ http }));
  },
});
