import { collectorsExtensionPoint, coreServices, createPlugin } from '@sextant/plugin-api';
import { createPuppetCollectorFactory } from './puppet-collector.js';

export default createPlugin({
  pluginId: 'events-puppet',
  deps: { collectors: collectorsExtensionPoint, http: coreServices.httpRouter },
  register({ collectors, http }) {
    collectors.addFactory(createPuppetCollectorFactory({ http }));
  },
});
