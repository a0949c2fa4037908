import { collectorsExtensionPoint, coreServices, createPlugin } from '@sextant/plugin-api';
import { createChefCollectorFactory } from './chef-collector.js';

export default createPlugin({
  pluginId: 'events-chef',
  deps: { collectors: collectorsExtensionPoint, http: coreServices.httpRouter },
  register({ collectors, http }) {
    collectors.addFactory(createChefCollectorFactory({ http }));
  },
});
